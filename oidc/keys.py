"""The server's ID-token signing keys: which one signs now, which ones the JWKS publishes.

ID tokens are RS256 (OIDC Core section 3.1.3.7 requires RS256 support; the server
uses nothing else). The key is either the PEM file named by
``AUTHSERVER_SIGNING_KEY_FILE`` (RSA, 2048 bits or more, validated at start-up by
``oidc.apps``) or a ``SigningKey`` row. Without the file, the first key is created on
first use; several processes may race to do so, and the partial unique constraint on
the active row lets exactly one insert win while the others read the winner.

Every ID token looks up the active ``kid`` in the database (one indexed query), so a
rotation is used at once by every process; parsed keys are cached per ``kid``, which
never changes meaning. Retired public keys stay published for
``ID_TOKEN_EXPIRE_SECONDS`` after retirement (RFC 7517 key sets, OIDC Core section
10.1.1 on rotation). Deliberately not here: key encryption at rest, HSMs, EC keys.
Called by ``oidc.validator``, ``oidc.views``, ``oidc.apps`` and the commands.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, transaction
from django.utils import timezone
from jwcrypto import jwk
from oauth2_provider.settings import oauth2_settings

from oidc.models import SigningKey

ALGORITHM = "RS256"
MIN_RSA_BITS = 2048
_CREATE_ATTEMPTS = 5


class SigningKeyError(ImproperlyConfigured):
    """The configured signing key cannot be used (not a PEM RSA private key of 2048+ bits)."""


class SigningKeyFileInUse(Exception):
    """Keys are managed by ``AUTHSERVER_SIGNING_KEY_FILE``; the database keys are unused."""


@dataclass(frozen=True)
class ServerKey:
    kid: str
    jwk: jwk.JWK  # the private key; ``public_jwk`` is what is published

    def public_jwk(self) -> dict:
        """The public key as a JWK (RFC 7517 section 4) with kid, alg and use."""
        data = json.loads(self.jwk.export_public())
        data.update({"kid": self.kid, "alg": ALGORITHM, "use": "sig"})
        return data


_cache: dict[str, ServerKey] = {}
_file_cache: dict[tuple[str, int], ServerKey] = {}
_lock = threading.Lock()


def parse_private_key(pem: bytes, source: str = "the signing key") -> ServerKey:
    """A ``ServerKey`` from PEM bytes; ``SigningKeyError`` naming ``source`` otherwise."""
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as exc:
        raise SigningKeyError(f"{source} is not an unencrypted PEM private key ({exc})") from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise SigningKeyError(f"{source} must be an RSA private key (ID tokens are RS256)")
    if key.key_size < MIN_RSA_BITS:
        raise SigningKeyError(
            f"{source} is a {key.key_size}-bit RSA key; at least {MIN_RSA_BITS} bits are required"
        )
    private = jwk.JWK.from_pyca(key)
    # RFC 7638 thumbprint: the same key always gets the same kid, in every process.
    return ServerKey(kid=private.thumbprint(), jwk=private)


def load_key_file(path: str) -> ServerKey:
    """The key in ``path``, parsed once per file modification."""
    source = f"AUTHSERVER_SIGNING_KEY_FILE ({path})"
    try:
        stat = Path(path).stat()
        cache_key = (path, stat.st_mtime_ns)
        if cache_key in _file_cache:
            return _file_cache[cache_key]
        pem = Path(path).read_bytes()
    except OSError as exc:
        raise SigningKeyError(f"{source} cannot be read: {exc.strerror}") from None
    key = parse_private_key(pem, source)
    _file_cache.clear()
    _file_cache[cache_key] = key
    return key


def key_file() -> str | None:
    return getattr(settings, "AUTHSERVER_SIGNING_KEY_FILE", None) or None


def _from_row(kid: str) -> ServerKey | None:
    cached = _cache.get(kid)
    if cached is not None:
        return cached
    pem = SigningKey.objects.filter(kid=kid).values_list("private_key_pem", flat=True).first()
    if pem is None:
        return None
    key = parse_private_key(pem.encode(), f"signing key {kid}")
    with _lock:
        _cache[kid] = key
    return key


def generate_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=MIN_RSA_BITS)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def _new_row(now: dt.datetime) -> SigningKey:
    pem = generate_pem()
    key = parse_private_key(pem.encode())
    return SigningKey(kid=key.kid, private_key_pem=pem, created_at=now, active=True)


def active_key(now: dt.datetime | None = None) -> ServerKey:
    """The key that signs new ID tokens now, created on first use."""
    path = key_file()
    if path:
        return load_key_file(path)
    for _ in range(_CREATE_ATTEMPTS):
        kid = SigningKey.objects.filter(active=True).values_list("kid", flat=True).first()
        if kid is not None:
            key = _from_row(kid)
            if key is not None:
                return key
            continue  # rotated and pruned between the two queries: look again
        row = _new_row(now or timezone.now())
        try:
            with transaction.atomic():
                row.save(force_insert=True)
        except IntegrityError:
            continue  # another process created the first key: use the winner
        return _from_row(row.kid)
    raise RuntimeError("no active signing key could be read or created")


def rotate(now: dt.datetime | None = None) -> SigningKey:
    """Retire the active key and make a new one active, in one transaction."""
    if key_file():
        raise SigningKeyFileInUse("AUTHSERVER_SIGNING_KEY_FILE is set: that file is the key")
    now = now or timezone.now()
    row = _new_row(now)
    with transaction.atomic():
        list(SigningKey.objects.select_for_update().filter(active=True))
        SigningKey.objects.filter(active=True).update(active=False, retired_at=now)
        SigningKey.objects.filter(retired_at__lt=_publish_cutoff(now)).delete()
        row.save(force_insert=True)
    return row


def _publish_cutoff(now: dt.datetime) -> dt.datetime:
    # A token signed just before retirement expires ID_TOKEN_EXPIRE_SECONDS later.
    return now - dt.timedelta(seconds=oauth2_settings.ID_TOKEN_EXPIRE_SECONDS)


def published_keys(now: dt.datetime | None = None) -> list[ServerKey]:
    """Every key whose signatures may still be valid: the active one first."""
    now = now or timezone.now()
    active = active_key(now)
    if key_file():
        return [active]
    retired = (
        SigningKey.objects.filter(active=False, retired_at__gte=_publish_cutoff(now))
        .exclude(kid=active.kid)
        .order_by("-retired_at")
        .values_list("kid", flat=True)
    )
    keys = [active]
    for kid in retired:
        key = _from_row(kid)
        if key is not None:
            keys.append(key)
    return keys


def key_for_kid(kid: str, now: dt.datetime | None = None) -> ServerKey | None:
    """The published key with this ``kid``, for checking tokens this server signed."""
    for key in published_keys(now):
        if key.kid == kid:
            return key
    return None
