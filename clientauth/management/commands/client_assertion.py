"""``manage.py client_assertion``: print a freshly signed client assertion.

For curl and for testing (RFC 7523 section 2.2). The private key is read from a file
and never stored or printed; the claims follow CONTRACT.md (iss = sub = client ID,
aud = the token endpoint by default, a random jti, iat and exp). Before minting it
checks the key against the client's registered keys, method and pinned algorithm
(``clientauth.keymatch``) and refuses a mismatch in one line; ``--no-check`` mints
without the database, on a machine that has only the key.
"""

from __future__ import annotations

import json
import time
import uuid

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from django.core.management.base import CommandError

from clientauth import conf, keymatch
from clientauth.constants import ASYMMETRIC_ALGORITHMS
from djangokit.commands import BaseCommand

# PyJWT knows RFC 9864's fully-specified "Ed25519" only when told: it is EdDSA on Ed25519.
_JWS = jwt.PyJWS()
_JWS.register_algorithm("Ed25519", jwt.algorithms.OKPAlgorithm())
_DEFAULT_ALG = {"RSA": "RS256", "EC": "ES256", "OKP": "EdDSA"}


def _key_kind(key: object) -> str:
    if isinstance(key, rsa.RSAPrivateKey):
        return "RSA"
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return "EC"
    return "OKP"


class Command(BaseCommand):
    help = "Print a signed private_key_jwt client assertion for CLIENT_ID."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--client-id", required=True)
        parser.add_argument("--key", required=True, help="PEM private key file (unencrypted)")
        parser.add_argument("--alg", choices=ASYMMETRIC_ALGORITHMS)
        parser.add_argument("--aud", help="audience (default: the token endpoint URL)")
        parser.add_argument("--lifetime", type=int, default=300, help="seconds (default 300)")
        parser.add_argument(
            "--no-check",
            action="store_true",
            help="do not check the key against the client's registered keys (no database)",
        )

    def handle(self, *args, **options) -> None:
        if options["lifetime"] <= 0:
            raise CommandError("--lifetime must be a positive number of seconds")
        try:
            with open(options["key"], "rb") as handle:
                key = load_pem_private_key(handle.read(), password=None)
        except OSError as exc:
            raise CommandError(f"--key: cannot read {options['key']}: {exc.strerror}") from None
        except (ValueError, TypeError):
            raise CommandError("--key: not an unencrypted PEM private key") from None
        alg = options["alg"] or _DEFAULT_ALG[_key_kind(key)]
        headers = {"typ": "JWT"}
        if not options["no_check"]:
            try:
                found = keymatch.match(options["client_id"], key.public_key(), alg)
            except keymatch.KeyMismatch as exc:
                raise CommandError(f"--key: {exc} (--no-check to mint anyway)") from None
            if found.kid:
                headers["kid"] = found.kid
        now = int(time.time())
        claims = {
            "iss": options["client_id"],
            "sub": options["client_id"],
            "aud": options["aud"] or conf.policy().token_endpoint,
            "jti": uuid.uuid4().hex,
            "iat": now,
            "exp": now + options["lifetime"],
        }
        try:
            token = _JWS.encode(json.dumps(claims).encode(), key, algorithm=alg, headers=headers)
        except (ValueError, TypeError, jwt.exceptions.PyJWTError) as exc:
            raise CommandError(f"--alg {alg} does not fit this key: {exc}") from None
        self.stdout.write(token)
