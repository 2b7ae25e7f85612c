"""Key material for the tests, generated per session, never committed.

``KeyPair`` bundles a private key, its self-signed certificate (PEM) and a ``sign``
helper that signs any claims with any header, including broken ones, so negative
tests can say exactly what is wrong with an assertion.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from base64 import urlsafe_b64encode
from dataclasses import dataclass

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa
from cryptography.x509.oid import NameOID

ISSUER = "http://127.0.0.1:8000"
TOKEN_URL = f"{ISSUER}/oauth2/token"


def b64url(data: bytes) -> str:
    return urlsafe_b64encode(data).rstrip(b"=").decode()


def make_certificate(
    private_key,
    common_name: str = "test-client",
    *,
    days: float = 365,
    not_before: dt.datetime | None = None,
) -> x509.Certificate:
    now = dt.datetime.now(dt.UTC)
    start = not_before or now - dt.timedelta(days=1)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    eddsa = isinstance(private_key, ed25519.Ed25519PrivateKey | ed448.Ed448PrivateKey)
    algorithm = None if eddsa else hashes.SHA256()
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(private_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + dt.timedelta(days=days))
        .sign(private_key, algorithm)
    )


@dataclass
class KeyPair:
    private_key: object
    certificate: x509.Certificate
    alg: str

    @property
    def cert_pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)

    @property
    def cert_der(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.DER)

    @property
    def private_pem(self) -> bytes:
        return self.private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    def sign(self, claims: dict, *, alg: str | None = None, headers: dict | None = None) -> str:
        """Sign ``claims`` as a compact JWS; ``alg='Ed25519'`` is signed as EdDSA bytes."""
        alg = alg or self.alg
        sign_alg = "EdDSA" if alg == "Ed25519" else alg
        header = {"alg": alg, "typ": "JWT", **(headers or {})}
        signing_input = (
            b64url(json.dumps(header, separators=(",", ":")).encode())
            + "."
            + b64url(json.dumps(claims, separators=(",", ":")).encode())
        )
        algorithm = jwt.get_algorithm_by_name(sign_alg)
        signature = algorithm.sign(signing_input.encode(), self.private_key)
        return f"{signing_input}.{b64url(signature)}"


def claims_for(
    client_id: str, *, now: float, aud: object = TOKEN_URL, lifetime: int = 300, **overrides
) -> dict:
    claims = {
        "iss": client_id,
        "sub": client_id,
        "aud": aud,
        "jti": uuid.uuid4().hex,
        "iat": int(now),
        "exp": int(now) + lifetime,
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def rsa_pair(bits: int = 2048, alg: str = "RS256", name: str = "rsa-client") -> KeyPair:
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    return KeyPair(key, make_certificate(key, name), alg)


def ec_pair(curve=ec.SECP256R1, alg: str = "ES256", name: str = "ec-client") -> KeyPair:
    key = ec.generate_private_key(curve())
    return KeyPair(key, make_certificate(key, name), alg)


def ed25519_pair(name: str = "ed-client") -> KeyPair:
    key = ed25519.Ed25519PrivateKey.generate()
    return KeyPair(key, make_certificate(key, name), "EdDSA")


def pkcs12_bytes(
    pair: KeyPair,
    password: str | None,
    *,
    name: str = "client",
    extra: tuple[tuple[str, x509.Certificate], ...] = (),
    with_key: bool = True,
) -> bytes:
    """A PKCS#12 file holding ``pair``'s key and certificate (or, without the key, only
    certificates), plus ``extra`` named certificates."""
    from cryptography.hazmat.primitives.serialization import pkcs12

    encryption = (
        serialization.BestAvailableEncryption(password.encode())
        if password
        else serialization.NoEncryption()
    )
    cas = [pkcs12.PKCS12Certificate(cert, alias.encode()) for alias, cert in extra]
    if not with_key:
        cas.insert(0, pkcs12.PKCS12Certificate(pair.certificate, name.encode()))
    return pkcs12.serialize_key_and_certificates(
        name.encode(),
        pair.private_key if with_key else None,
        pair.certificate if with_key else None,
        cas or None,
        encryption,
    )


def jks_bytes(
    password: str,
    *private_entries: tuple[str, KeyPair],
    trusted: tuple[tuple[str, x509.Certificate], ...] = (),
) -> bytes:
    """A Java keystore (JKS) with a private-key entry per ``(alias, pair)`` (the key and
    its one-certificate chain) and a trusted-certificate entry per ``trusted`` item."""
    import jks

    entries = []
    for alias, pair in private_entries:
        pkcs8 = pair.private_key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        entries.append(jks.PrivateKeyEntry.new(alias, [pair.cert_der], pkcs8))
    for alias, cert in trusted:
        entries.append(
            jks.TrustedCertEntry.new(alias, cert.public_bytes(serialization.Encoding.DER))
        )
    return jks.KeyStore.new("jks", entries).saves(password)
