"""Client keys, their certificates, and files of pre-signed token request bodies.

Keys are generated at run time into the run's temporary directory and never leave it.
Each body is a complete ``client_credentials`` request authenticated by a fresh
client assertion (RFC 7523 section 2.2) with a unique ``jti``: the server accepts
every ``jti`` once, so a body is good for exactly one token. Signing runs in a
process pool because RS256 signing (~0.4 ms) dominates the preparation of a run.
Called by ``bench.run`` and ``bench.soak``; nothing here touches Django.
"""

from __future__ import annotations

import datetime as dt
import json
import time
import uuid
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from urllib.parse import urlencode

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import NameOID

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ALGORITHMS = ("RS256", "ES256", "EdDSA")


def generate_key(alg: str):
    if alg == "RS256":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    if alg == "ES256":
        return ec.generate_private_key(ec.SECP256R1())
    if alg == "EdDSA":
        return ed25519.Ed25519PrivateKey.generate()
    raise ValueError(f"unsupported algorithm {alg}")


def self_signed_pem(key, common_name: str) -> bytes:
    """A one-year self-signed certificate for ``key``, as the client would register."""
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = dt.datetime.now(dt.UTC)
    algorithm = None if isinstance(key, ed25519.Ed25519PrivateKey) else hashes.SHA256()
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=365))
        .sign(key, algorithm)
    )
    return cert.public_bytes(serialization.Encoding.PEM)


def private_pem(key) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _sign_chunk(args: tuple) -> list[str]:
    key_pem, alg, client_id, audience, count, lifetime, times, kid = args
    key = serialization.load_pem_private_key(key_pem, password=None)
    now = int(time.time())
    lines = []
    for n in range(count):
        iat, exp = times[n] if times is not None else (now, now + lifetime)
        claims = {
            "iss": client_id,
            "sub": client_id,
            "aud": audience,
            "jti": uuid.uuid4().hex,
            "iat": iat,
            "exp": exp,
        }
        assertion = jwt.encode(claims, key, algorithm=alg, headers={"kid": kid} if kid else None)
        lines.append(
            urlencode(
                {
                    "grant_type": "client_credentials",
                    "client_assertion_type": ASSERTION_TYPE,
                    "client_assertion": assertion,
                }
            )
        )
    return lines


def write_bodies(
    path: Path,
    key,
    alg: str,
    client_id: str,
    audience: str,
    count: int,
    lifetime: int = 3000,
    processes: int = 2,
    times: Sequence[tuple[int, int]] | None = None,
    kid: str = "",
) -> Path:
    """Write ``count`` single-use request bodies, one per line, to ``path``.

    Every assertion is issued now and expires ``lifetime`` seconds later, unless
    ``times`` gives each body its own ``(iat, exp)``; then ``count`` is ``len(times)``
    and line ``n`` carries ``times[n]`` (``bench.soak`` staggers them along its schedule).
    """
    key_pem = private_pem(key)
    if times is not None:
        count = len(times)
    chunk = max(1, -(-count // (processes * 4)))
    jobs = []
    left = count
    while left > 0:
        n = min(chunk, left)
        done = len(jobs) * chunk
        part = list(times[done : done + n]) if times is not None else None
        jobs.append((key_pem, alg, client_id, audience, n, lifetime, part, kid))
        left -= n
    with ProcessPoolExecutor(max_workers=processes) as pool, path.open("w") as out:
        for lines in pool.map(_sign_chunk, jobs):
            out.write("\n".join(lines))
            out.write("\n")
    return path


def secret_body() -> str:
    return urlencode({"grant_type": "client_credentials"})


def public_jwks(key, kid: str, alg: str) -> str:
    """The JWK Set of ``key``'s public half, with ``kid``, ``use`` and ``alg`` (RSA)."""
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    jwk.update(kid=kid, use="sig", alg=alg)
    return json.dumps({"keys": [jwk]})
