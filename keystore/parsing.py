"""Reads one X.509 certificate out of the files an admin is handed, and states its facts.

``parse_certificate`` is the one parser behind every entry point (``import_cert``, the
console): PEM (RFC 7468; a certificate possibly next to a private key block), DER
X.509 (RFC 5280), PKCS#12 (RFC 7292, ``.p12``/``.pfx``) and Java keystores (JKS and
JCEKS). It keeps the certificate alone, re-encoded from its DER, so no private key
material can travel with it; private keys in a keystore are never decrypted.

It is pure: bytes and ``now`` in, a ``ParsedCertificate`` or a ``keystore.errors``
exception out, never a library's own exception. It deliberately does not read PKCS#7
bundles, follow or verify certificate chains (a client's certificate is trusted
because an admin imported it, as with WSO2's keytool step), or touch the database.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import jks
from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa
from cryptography.hazmat.primitives.serialization import pkcs12

from keystore import errors

MAX_FILE_BYTES = 1024 * 1024  # a certificate is a few KiB; a keystore rarely 100 KiB
MIN_RSA_BITS = 2048  # NIST SP 800-131A; RFC 7518 section 3.3 requires 2048 for RS*/PS*
EC_CURVES = {"secp256r1": 256, "secp384r1": 384, "secp521r1": 521}  # ES256/384/512
MAX_NAME_CHARS = 1024  # Certificate.subject / issuer column width
MAX_SERIAL_CHARS = 128  # Certificate.serial column width

_JKS_MAGIC = (b"\xfe\xed\xfe\xed", b"\xce\xce\xce\xce")  # JKS, JCEKS
_PEM_BEGIN = b"-----BEGIN "
_LISTED_ALIASES = 10


@dataclass(frozen=True)
class ParsedCertificate:
    pem: str
    subject: str
    issuer: str
    serial: str
    not_before: dt.datetime
    not_after: dt.datetime
    thumbprint_sha256: str
    key_type: str
    key_size: int


def parse_certificate(
    data: bytes,
    *,
    password: str | None = None,
    keystore_alias: str | None = None,
    now: dt.datetime,
) -> ParsedCertificate:
    """Return the facts of the one certificate in ``data``, or raise a ``KeystoreError``.

    ``password`` opens a PKCS#12 or JKS file; ``keystore_alias`` picks an entry of one
    that holds several (compared without regard to case, as Java's keytool does).
    Both are ignored for PEM and DER. ``now`` must be timezone-aware.
    """
    if len(data) > MAX_FILE_BYTES:
        raise errors.FileTooLarge(f"the file is larger than {MAX_FILE_BYTES // 1024} KiB")
    if not data.strip():
        raise errors.NotACertificate("the file is empty")
    try:
        certificate = _load(bytes(data), password, keystore_alias)
        parsed = _facts(certificate)
    except errors.KeystoreError:
        raise
    except Exception:  # a malformed input surfaces as any of several library types
        raise errors.NotACertificate("the file could not be read as a certificate") from None
    _check_validity(parsed, now)
    return parsed


# --- finding the certificate -------------------------------------------------------------


def _load(data: bytes, password: str | None, keystore_alias: str | None) -> x509.Certificate:
    if data[:4] in _JKS_MAGIC:
        return _from_jks(data, password, keystore_alias)
    if _PEM_BEGIN in data:
        return _from_pem(data)
    if _der_is_pkcs12(data):
        return _from_pkcs12(data, password, keystore_alias)
    return x509.load_der_x509_certificate(data)


def _from_pem(data: bytes) -> x509.Certificate:
    try:
        # Only CERTIFICATE blocks are read; key blocks beside them are skipped unparsed.
        certificates = x509.load_pem_x509_certificates(data)
    except ValueError:
        if b"PRIVATE KEY-----" in data:
            raise errors.NotACertificate(
                "the PEM file holds a private key but no certificate"
            ) from None
        raise errors.NotACertificate("the PEM file holds no readable certificate") from None
    # A chain file lists the end-entity certificate first (RFC 8446 section 4.4.2, and
    # what `openssl x509` reads); that is the client's certificate.
    return certificates[0]


def _der_is_pkcs12(data: bytes) -> bool:
    """Tell a PFX (RFC 7292 section 4: SEQUENCE { INTEGER 3, ... }) from a Certificate
    (RFC 5280 section 4.1: SEQUENCE { SEQUENCE tbsCertificate, ... }) by the first inner
    tag, so a wrong password is reported as that and not as "not a certificate"."""
    if len(data) < 4 or data[0] != 0x30:
        raise errors.NotACertificate("the file is not PEM, DER, PKCS#12 or a Java keystore")
    first = data[1]
    if first == 0x80:  # BER indefinite length: some PKCS#12 writers use it
        header = 2
    elif first < 0x80:
        header, length = 2, first
    else:
        count = first & 0x7F
        if count > 4 or len(data) < 2 + count:
            raise errors.NotACertificate("the file is not a well-formed DER structure")
        header, length = 2 + count, int.from_bytes(data[2 : 2 + count], "big")
    if first != 0x80:
        if header + length > len(data):
            raise errors.NotACertificate("the file is truncated")
        if header + length < len(data) and data[header + length :].strip():
            raise errors.NotACertificate("the file has unexpected data after its DER structure")
    return data[header : header + 1] == b"\x02"


def _from_pkcs12(data: bytes, password: str | None, keystore_alias: str | None) -> x509.Certificate:
    # Without a password, try "none" and then "empty": tools differ on which they write.
    candidates = [None, b""] if password is None else [password.encode("utf-8")]
    for candidate in candidates:
        try:
            bundle = pkcs12.load_pkcs12(data, candidate)
            break
        except Exception:  # noqa: S112  (PKCS#12 reports a bad password as a bare ValueError)
            continue
    else:
        if password is None:
            raise errors.WrongPassword("the PKCS#12 file needs its password")
        raise errors.WrongPassword("wrong password for the PKCS#12 file, or the file is damaged")

    entries = []
    if bundle.cert is not None:
        entries.append(bundle.cert)
    entries.extend(bundle.additional_certs)
    named = [(_friendly_name(entry.friendly_name), entry.certificate) for entry in entries]
    if keystore_alias is None and bundle.cert is not None:
        # The certificate paired with the private key is the holder's own; the rest are
        # its issuers, not candidates.
        return bundle.cert.certificate
    return _choose(named, keystore_alias, "PKCS#12 file")


def _from_jks(data: bytes, password: str | None, keystore_alias: str | None) -> x509.Certificate:
    if password is None:
        # pyjks would skip the integrity check; the check is what tells a damaged file.
        raise errors.WrongPassword("the Java keystore needs its store password")
    try:
        # try_decrypt_keys=False: private keys stay encrypted and are never looked at.
        store = jks.KeyStore.loads(data, password, try_decrypt_keys=False)
    except jks.util.KeystoreSignatureException:
        raise errors.WrongPassword("wrong password for the Java keystore") from None
    except Exception:
        raise errors.NotACertificate("the Java keystore is damaged or truncated") from None
    named: list[tuple[str, bytes]] = []
    for alias, entry in store.private_keys.items():
        if entry.cert_chain:  # the chain starts with the key holder's own certificate
            named.append((alias, entry.cert_chain[0][1]))
    for alias, entry in store.certs.items():
        if entry.type == "X.509":
            named.append((alias, entry.cert))
    chosen = _choose(named, keystore_alias, "Java keystore")
    return x509.load_der_x509_certificate(chosen)


def _choose(named: list[tuple[str, object]], keystore_alias: str | None, kind: str):
    names = ", ".join(name[:64] for name, _ in named[:_LISTED_ALIASES])
    if len(named) > _LISTED_ALIASES:
        names += ", ..."
    if keystore_alias is not None:
        for name, value in named:
            if name.lower() == keystore_alias.lower():
                return value
        raise errors.UnknownKeystoreAlias(
            f"the {kind} has no certificate entry {keystore_alias[:64]!r} "
            f"(entries: {names or 'none'})"
        )
    if not named:
        raise errors.NotACertificate(f"the {kind} holds no certificate")
    if len(named) > 1:
        raise errors.AmbiguousKeystore(
            f"the {kind} holds {len(named)} certificate entries ({names}) and none was chosen",
            aliases=[name for name, _ in named],
        )
    return named[0][1]


def _friendly_name(value: bytes | None) -> str:
    return value.decode("utf-8", "replace") if value else "(unnamed)"


# --- stating the facts -------------------------------------------------------------------


def _facts(certificate: x509.Certificate) -> ParsedCertificate:
    key_type, key_size = _key_facts(certificate)
    subject = certificate.subject.rfc4514_string()
    issuer = certificate.issuer.rfc4514_string()
    serial = format(certificate.serial_number, "x")
    if len(subject) > MAX_NAME_CHARS or len(issuer) > MAX_NAME_CHARS:
        raise errors.UnsupportedCertificate(
            f"the certificate's subject or issuer is longer than {MAX_NAME_CHARS} characters"
        )
    if len(serial) > MAX_SERIAL_CHARS:
        raise errors.UnsupportedCertificate("the certificate's serial number is too long")
    return ParsedCertificate(
        pem=certificate.public_bytes(serialization.Encoding.PEM).decode("ascii"),
        subject=subject,
        issuer=issuer,
        serial=serial,
        not_before=certificate.not_valid_before_utc,
        not_after=certificate.not_valid_after_utc,
        thumbprint_sha256=certificate.fingerprint(hashes.SHA256()).hex(),
        key_type=key_type,
        key_size=key_size,
    )


def _key_facts(certificate: x509.Certificate) -> tuple[str, int]:
    """The key types RFC 7518 and RFC 8037 sign client assertions with, and no others."""
    try:
        key = certificate.public_key()
    except (UnsupportedAlgorithm, ValueError):
        raise errors.UnsupportedKeyType(
            "the certificate's public key algorithm is not supported "
            "(use RSA, EC P-256/P-384/P-521, Ed25519 or Ed448)"
        ) from None
    if isinstance(key, rsa.RSAPublicKey):
        if key.key_size < MIN_RSA_BITS:
            raise errors.KeyTooSmall(
                f"the certificate's RSA key has {key.key_size} bits; at least "
                f"{MIN_RSA_BITS} are required"
            )
        return "RSA", key.key_size
    if isinstance(key, ec.EllipticCurvePublicKey):
        if key.curve.name not in EC_CURVES:
            raise errors.UnsupportedKeyType(
                f"the certificate's EC curve {key.curve.name} is not supported "
                "(use P-256, P-384 or P-521)"
            )
        return "EC", EC_CURVES[key.curve.name]
    if isinstance(key, ed25519.Ed25519PublicKey):
        return "Ed25519", 256
    if isinstance(key, ed448.Ed448PublicKey):
        return "Ed448", 456
    raise errors.UnsupportedKeyType(
        f"the certificate's {_key_name(key)} key is not supported "
        "(use RSA, EC P-256/P-384/P-521, Ed25519 or Ed448)"
    )


def _key_name(key: object) -> str:
    name = type(key).__name__.removeprefix("_").replace("PublicKey", "")
    return name or "public"


def _check_validity(parsed: ParsedCertificate, now: dt.datetime) -> None:
    """Valid means not_before <= now < not_after, as keystore.services uses it."""
    if parsed.not_after <= now:
        raise errors.CertificateExpired(
            f"the certificate expired on {parsed.not_after:%Y-%m-%d %H:%M:%S} UTC"
        )
    if parsed.not_before > now:
        raise errors.CertificateNotYetValid(
            f"the certificate is not valid before {parsed.not_before:%Y-%m-%d %H:%M:%S} UTC"
        )
