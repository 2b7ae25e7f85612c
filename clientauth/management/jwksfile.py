"""Reading a JWK Set file for ``register_app --jwks`` and ``set_key_source --jwks``."""

from __future__ import annotations

from django.core.management.base import CommandError

from clientauth import conf


def read_jwks_file(path: str) -> bytes:
    """The file's bytes, at most ``JWKS_URI_MAX_BYTES``; ``CommandError`` naming the file."""
    limit = conf.policy().jwks_uri_max_bytes
    try:
        with open(path, "rb") as handle:
            data = handle.read(limit + 1)
    except OSError as exc:
        raise CommandError(f"--jwks {path}: {exc.strerror or exc}") from None
    if len(data) > limit:
        raise CommandError(f"--jwks {path}: larger than {limit} bytes (JWKS_URI_MAX_BYTES)")
    return data
