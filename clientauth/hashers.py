"""The keyed hash client secrets are stored with: HMAC-SHA-256 under a server-side key.

A client secret is a long random string the server generated (DOT's 128 characters),
not a password a person chose: nothing is gained by making each check slow, and a
slow check is what an unauthenticated caller turns into CPU exhaustion (one PBKDF2
check costs what several thousand token requests cost). The key makes a leaked
database alone useless against a short secret an operator typed in by hand.

``ClientSecretHasher`` is a Django password hasher, so DOT stores secrets with it
(``OAUTH2_PROVIDER["CLIENT_SECRET_HASHER"] = ALGORITHM``; it must also be listed in
``PASSWORD_HASHERS``, after the hasher users' passwords keep). Its key is derived from
``SECRET_KEY``; a secret stored under one of ``SECRET_KEY_FALLBACKS`` still verifies
and is stored again under the current key. Used by ``clientauth.client_secret``.
"""

from __future__ import annotations

import hashlib
import hmac

from django.conf import settings
from django.contrib.auth.hashers import BasePasswordHasher, mask_hash
from django.utils.crypto import constant_time_compare

ALGORITHM = "clientauth_hmac_sha256"
_KEY_SALT = b"clientauth.hashers.ClientSecretHasher"


def _key(secret_key: str | bytes) -> bytes:
    if isinstance(secret_key, str):
        secret_key = secret_key.encode()
    return hashlib.sha256(_KEY_SALT + secret_key).digest()


def _digest(key: bytes, salt: str, secret: str) -> str:
    message = f"{salt}${secret}".encode("utf-8", "surrogatepass")
    return hmac.new(key, message, hashlib.sha256).hexdigest()


class ClientSecretHasher(BasePasswordHasher):
    algorithm = ALGORITHM

    def encode(self, password: str, salt: str) -> str:
        self._check_encode_args(password, salt)
        return f"{self.algorithm}${salt}${_digest(_key(settings.SECRET_KEY), salt, password)}"

    def decode(self, encoded: str) -> dict:
        algorithm, salt, digest = encoded.split("$", 2)
        assert algorithm == self.algorithm
        return {"algorithm": algorithm, "hash": digest, "salt": salt}

    def matching_key(self, password: str, encoded: str) -> int | None:
        """The index of the key (0: ``SECRET_KEY``, then the fallbacks) ``encoded`` was
        made with, or None. Every key is tried, so the time does not depend on which."""
        decoded = self.decode(encoded)
        keys = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", ())]
        found = None
        for index, secret_key in enumerate(keys):
            digest = _digest(_key(secret_key), decoded["salt"], password)
            if constant_time_compare(digest, decoded["hash"]) and found is None:
                found = index
        return found

    def verify(self, password: str, encoded: str) -> bool:
        return self.matching_key(password, encoded) is not None

    def must_update(self, encoded: str) -> bool:
        return False

    def safe_summary(self, encoded: str) -> dict:
        decoded = self.decode(encoded)
        return {
            "algorithm": decoded["algorithm"],
            "salt": mask_hash(decoded["salt"], show=2),
            "hash": mask_hash(decoded["hash"]),
        }

    def harden_runtime(self, password: str, encoded: str) -> None:
        pass
