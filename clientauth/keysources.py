"""Where a client's assertion keys come from, for the commands and the console.

A client has one key source at a time (``ClientMetadata.key_source``, RFC 7591 section
2: ``jwks`` and ``jwks_uri`` are mutually exclusive):

- ``certificate`` (the default): the certificate imported into ``keystore`` under its
  client ID;
- ``jwks``: an inline JWK Set, checked when set (``clientauth.jwk``) and kept in
  ``ClientJwks``;
- ``jwks_uri``: a JWK Set fetched from the client's URL (``clientauth.jwks_fetch``,
  cached as ``clientauth.jwks_cache`` says).

``set_key_source`` validates and switches (the change is logged, with the old and new
source); ``current_keys`` reports the keys in use (kid, type, algorithm, RFC 7638
thumbprint, source, when fetched, last fetch error); ``fetch_now`` fetches a
``jwks_uri`` at once, whatever the cache says. ``validate_jwks`` and
``validate_jwks_uri`` are the checks registration shares. A refused input is a
``KeySourceError`` whose ``str()`` is one line. The token path does not come here: it
reads the source from the metadata row (``clientauth.lookup``).
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from clientauth import clients, conf, jwk, jwks_cache, jwks_fetch
from clientauth.conf import Policy
from clientauth.models import ClientJwks, ClientMetadata

log = logging.getLogger("clientauth")

CERTIFICATE = ClientMetadata.KEY_SOURCE_CERTIFICATE
JWKS = ClientMetadata.KEY_SOURCE_JWKS
JWKS_URI = ClientMetadata.KEY_SOURCE_JWKS_URI
SOURCES = (CERTIFICATE, JWKS, JWKS_URI)


class KeySourceError(ValueError):
    """A key source refused; ``str()`` is one line naming the problem."""

    reason = "invalid_client_metadata"  # RFC 7591 section 3.2.2


@dataclass(frozen=True, slots=True)
class KeyInfo:
    kid: str | None
    kty: str
    alg: str  # the JWK's own alg, "" for none (certificates: "")
    use: str
    thumbprint: str  # RFC 7638 SHA-256 of the public key, base64url


@dataclass(frozen=True, slots=True)
class KeysReport:
    source: str
    keys: tuple[KeyInfo, ...] = ()
    jwks_uri: str = ""
    fetched_at: dt.datetime | None = None
    fresh_until: dt.datetime | None = None
    usable_until: dt.datetime | None = None
    last_error: str = ""
    last_error_at: dt.datetime | None = None
    notes: tuple[str, ...] = field(default=())


def validate_jwks(text: str | bytes, policy: Policy | None = None) -> jwk.KeySet:
    """An inline JWK Set's checked keys, or ``KeySourceError``."""
    policy = policy or conf.policy()
    size = len(text.encode() if isinstance(text, str) else text)
    if size > policy.jwks_uri_max_bytes:
        raise KeySourceError(
            f"the JWK Set is larger than {policy.jwks_uri_max_bytes} bytes (JWKS_URI_MAX_BYTES)"
        )
    try:
        return jwk.parse_jwks(text)
    except jwk.JwksError as exc:
        raise KeySourceError(str(exc)) from None


def validate_jwks_uri(url: str, policy: Policy | None = None) -> str:
    """A ``jwks_uri`` as it will be fetched, or ``KeySourceError``. Its host's addresses
    are checked when fetched (they may change); an address literal is checked here."""
    policy = policy or conf.policy()
    try:
        refused = jwks_fetch.literal_refused(url, policy)
    except jwks_fetch.FetchError as exc:
        raise KeySourceError(str(exc)) from None
    if refused:
        raise KeySourceError(
            f"jwks_uri host is {refused}; name it in JWKS_URI_ALLOWED_HOSTS to allow it"
        )
    return url


def source_of(application) -> str:
    metadata = clients.metadata_of(application)
    return metadata.key_source if metadata is not None else CERTIFICATE


def prepare(source: str, *, jwks: str | bytes | None = None, jwks_uri: str = "") -> dict:
    """The metadata values (and the checked set) of a key source, or ``KeySourceError``."""
    if source not in SOURCES:
        raise KeySourceError(f"unknown key source {str(source)[:32]!r}")
    if source == JWKS:
        if jwks is None:
            raise KeySourceError("a jwks key source needs a JWK Set")
        keyset = validate_jwks(jwks)
        return {"key_source": JWKS, "jwks_uri": "", "jwks_sha256": keyset.digest, "set": keyset}
    if source == JWKS_URI:
        return {"key_source": JWKS_URI, "jwks_uri": validate_jwks_uri(jwks_uri), "jwks_sha256": ""}
    return {"key_source": CERTIFICATE, "jwks_uri": "", "jwks_sha256": ""}


def apply(metadata: ClientMetadata, prepared: dict) -> None:
    for name in ("key_source", "jwks_uri", "jwks_sha256"):
        setattr(metadata, name, prepared[name])


def save_jwks(application, prepared: dict) -> None:
    """Store (or drop) the inline set of ``prepared``; inside the caller's transaction."""
    keyset = prepared.get("set")
    if keyset is None:
        ClientJwks.objects.filter(application_id=application.pk).delete()
        return
    ClientJwks.objects.update_or_create(
        application_id=application.pk,
        defaults={"jwks": keyset.text, "sha256": keyset.digest, "updated_at": timezone.now()},
    )


def set_key_source(
    application, source: str, *, jwks: str | bytes | None = None, jwks_uri: str = ""
) -> tuple[str, str]:
    """Switch ``application``'s key source (validated first: a refusal changes nothing);
    return the old and new source. The switch is logged."""
    prepared = prepare(source, jwks=jwks, jwks_uri=jwks_uri)
    if clients.metadata_of(application) is None and source == CERTIFICATE:
        return CERTIFICATE, CERTIFICATE  # no metadata row: its certificate already
    metadata = clients.metadata_of(application) or ClientMetadata(application=application)
    old = metadata.key_source if metadata.pk is not None else CERTIFICATE
    old_uri = metadata.jwks_uri
    apply(metadata, prepared)
    with transaction.atomic():
        metadata.application = application
        metadata.save()
        save_jwks(application, prepared)
    clients.attach(application, metadata)
    if old_uri:
        jwks_cache.forget(jwks_cache.state_key(application.client_id, old_uri))
    log.warning(
        "key source changed client_id=%r from=%s to=%s%s",
        application.client_id,
        old,
        source,
        f" jwks_uri={prepared['jwks_uri']!r}" if prepared["jwks_uri"] else "",
    )
    return old, source


def _info(key: jwk.JwkKey) -> KeyInfo:
    return KeyInfo(key.kid, key.kty, key.alg, key.use, key.thumbprint)


def _moment(seconds: float | None) -> dt.datetime | None:
    return None if seconds is None else dt.datetime.fromtimestamp(seconds, tz=dt.UTC)


def _certificate_report(application, now: float) -> KeysReport:
    from keystore.services import verification_keys

    moment = dt.datetime.fromtimestamp(now, tz=dt.UTC)
    infos = []
    for public_key in verification_keys(application.client_id, moment):
        members = jwk.public_members(public_key)
        infos.append(KeyInfo(None, members["kty"], "", "", jwk.thumbprint(members)))
    notes = () if infos else ("no valid certificate under this client ID",)
    return KeysReport(CERTIFICATE, tuple(infos), notes=notes)


def _uri_report(uri: str, found: dict | None) -> KeysReport:
    found = found or {}
    keys = ()
    if found.get("text"):
        keys = tuple(_info(k) for k in jwks_cache.parsed(found["digest"], found["text"]).keys)
    return KeysReport(
        JWKS_URI,
        keys,
        jwks_uri=uri,
        fetched_at=_moment(found.get("fetched_at")),
        fresh_until=_moment(found.get("fresh_until")) if keys else None,
        usable_until=_moment(found.get("usable_until")) if keys else None,
        last_error=found.get("last_error", ""),
        last_error_at=_moment(found.get("last_error_at")),
        notes=() if found else ("not fetched yet in this cache",),
    )


def current_keys(application, now: float | None = None) -> KeysReport:
    """The keys ``application`` authenticates with now, and where they come from. For a
    ``jwks_uri``: what the shared cache holds (nothing is fetched here)."""
    now = time.time() if now is None else now
    metadata = clients.metadata_of(application)
    source = metadata.key_source if metadata is not None else CERTIFICATE
    if source == JWKS:
        keys = jwks_cache.inline_keys(application.pk, metadata.jwks_sha256)
        return KeysReport(JWKS, tuple(_info(k) for k in keys))
    if source == JWKS_URI:
        key = jwks_cache.state_key(application.client_id, metadata.jwks_uri)
        return _uri_report(metadata.jwks_uri, jwks_cache.state(key))
    return _certificate_report(application, now)


def fetch_now(application, now: float | None = None) -> KeysReport:
    """Fetch a ``jwks_uri`` client's keys at once (an operator's "fetch now"), store the
    outcome in the shared cache, and report it; ``KeySourceError`` for another source.
    A failed fetch keeps the keys fetched before, and its error shows in the report."""
    now = time.time() if now is None else now
    metadata = clients.metadata_of(application)
    if metadata is None or metadata.key_source != JWKS_URI:
        raise KeySourceError("the client's key source is not a jwks_uri")
    key = jwks_cache.state_key(application.client_id, metadata.jwks_uri)
    found = jwks_cache.fetch_into(
        key, metadata.jwks_uri, jwks_cache.state(key), now=now, policy=conf.policy()
    )
    return _uri_report(metadata.jwks_uri, found)
