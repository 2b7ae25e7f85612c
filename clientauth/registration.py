"""Registering and editing service providers (OAuth clients), with all their validation.

``register_service_provider`` is the one function behind ``manage.py register_app``
and the console's registration form, so both refuse exactly the same input with the
same ``RegistrationError`` message. Metadata follow RFC 7591 section 2 names:
``redirect_uris`` (callbacks), ``grant_types``, ``token_endpoint_auth_method``,
``token_endpoint_auth_signing_alg``, ``scope`` (configured scopes only; empty for the
server's defaults), beside this server's ``resource_server`` flag. The client is always
confidential; its secret is returned in plaintext once and stored hashed (DOT's
``hash_client_secret``). The
application is DOT's application model, whichever it is; the metadata DOT has no field
for go into its ``ClientMetadata`` row, written in the same transaction.

A client's keys are by default a certificate imported into ``keystore`` under its
client ID; ``jwks`` or ``jwks_uri`` (RFC 7591 section 2, one or the other) register a
JWK Set instead, checked by ``clientauth.keysources``, which also switches the source
of a registered client. It deliberately does not implement dynamic client registration
(RFC 7591 endpoints) or certificates.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.db import transaction
from oauth2_provider.models import AbstractApplication, get_application_model
from oauth2_provider.settings import oauth2_settings

from clientauth import keysources
from clientauth.clients import (
    AUTHORIZATION_CODE,
    CLIENT_CREDENTIALS,
    REFRESH_TOKEN,
    attach,
    grant_types_of,
    metadata_of,
)
from clientauth.constants import ASYMMETRIC_ALGORITHMS, AUTH_METHODS, PRIVATE_KEY_JWT
from clientauth.models import ClientMetadata

__all__ = ["grant_types_of", "register_service_provider", "update_service_provider"]

GRANT_TYPES = (AUTHORIZATION_CODE, REFRESH_TOKEN, CLIENT_CREDENTIALS)
DEFAULT_GRANT_TYPES = GRANT_TYPES
MAX_NAME_CHARS = 255


class RegistrationError(ValueError):
    """Refused registration metadata; ``str()`` is one line naming the problem."""

    reason = "invalid_client_metadata"  # RFC 7591 section 3.2.2


class InvalidRedirectUri(RegistrationError):
    reason = "invalid_redirect_uri"  # RFC 7591 section 3.2.2


def register_service_provider(
    *,
    name: str,
    callbacks: list[str],
    grant_types: list[str],
    auth_method: str,
    signing_alg: str = "",
    scopes: list[str] | None = None,
    resource_server: bool = False,
    user=None,
    jwks: str | bytes | None = None,
    jwks_uri: str = "",
) -> tuple[AbstractApplication, str]:
    """Create a confidential client; return it and its plaintext secret (shown once).

    ``scopes`` None or empty: the server's default client scopes (stored as "").
    ``jwks`` (a JWK Set's text) or ``jwks_uri``: its keys, instead of a keystore
    certificate; only for private_key_jwt, and not both.
    """
    provider = get_application_model()(
        client_type=AbstractApplication.CLIENT_CONFIDENTIAL, user=user
    )
    metadata = ClientMetadata()
    _apply(
        provider,
        metadata,
        name,
        callbacks,
        grant_types,
        auth_method,
        signing_alg,
        scopes,
        resource_server,
    )
    key_source = _key_source(jwks, jwks_uri, auth_method)
    keysources.apply(metadata, key_source)
    # The model generates the secret on instantiation and hashes it on save: the
    # plaintext exists only here.
    secret = provider.client_secret
    _save(provider, metadata, key_source)
    return provider, secret


def _key_source(jwks, jwks_uri: str, auth_method: str) -> dict:
    if jwks is not None and jwks_uri:
        raise RegistrationError("jwks and jwks_uri are mutually exclusive (RFC 7591 section 2)")
    if (jwks is not None or jwks_uri) and auth_method != PRIVATE_KEY_JWT:
        raise RegistrationError(f"a JWK Set applies only to {PRIVATE_KEY_JWT}")
    source = (
        keysources.JWKS
        if jwks is not None
        else keysources.JWKS_URI
        if jwks_uri
        else keysources.CERTIFICATE
    )
    try:
        return keysources.prepare(source, jwks=jwks, jwks_uri=jwks_uri)
    except keysources.KeySourceError as exc:
        raise RegistrationError(str(exc)) from None


def update_service_provider(
    provider: AbstractApplication,
    *,
    name: str,
    callbacks: list[str],
    grant_types: list[str],
    auth_method: str,
    signing_alg: str = "",
    scopes: list[str] | None = None,
    resource_server: bool = False,
) -> AbstractApplication:
    """Change a client's metadata under the same rules; its ID and secret stay."""
    metadata = metadata_of(provider) or ClientMetadata()
    _apply(
        provider,
        metadata,
        name,
        callbacks,
        grant_types,
        auth_method,
        signing_alg,
        scopes,
        resource_server,
    )
    _save(provider, metadata)
    return provider


def _save(provider, metadata: ClientMetadata, key_source: dict | None = None) -> None:
    with transaction.atomic():
        provider.save()
        metadata.application = provider
        metadata.save()
        if key_source is not None:
            keysources.save_jwks(provider, key_source)
    attach(provider, metadata)


def parse_grant_types(value: str) -> list[str]:
    """A comma-separated list as ``register_app --grant-types`` takes it."""
    return [part.strip() for part in value.split(",") if part.strip()]


def _apply(
    provider,
    metadata,
    name,
    callbacks,
    grant_types,
    auth_method,
    signing_alg,
    scopes=None,
    resource_server=False,
) -> None:
    # Everything is validated before anything is assigned: a refused edit leaves the
    # instances as they were.
    grants = _grant_types(grant_types)
    values = {
        "name": _name(name),
        "redirect_uris": " ".join(_callbacks(callbacks, grants)),
        # DOT's single grant field is what DOT itself and its admin read; the metadata's
        # list is what clientauth.clients.allows_grant_type answers from.
        "authorization_grant_type": (
            AbstractApplication.GRANT_AUTHORIZATION_CODE
            if AUTHORIZATION_CODE in grants
            else AbstractApplication.GRANT_CLIENT_CREDENTIALS
        ),
    }
    metadata_values = {
        "grant_types": ",".join(grants),
        "token_endpoint_auth_method": _auth_method(auth_method),
        "token_endpoint_auth_signing_alg": _signing_alg(signing_alg, auth_method),
        "scope": _scopes(scopes),
        "resource_server": bool(resource_server),
    }
    for field, value in values.items():
        setattr(provider, field, value)
    for field, value in metadata_values.items():
        setattr(metadata, field, value)


def _name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise RegistrationError("the name is empty")
    if len(name) > MAX_NAME_CHARS or not name.isprintable():
        raise RegistrationError(
            f"the name must be printable and at most {MAX_NAME_CHARS} characters"
        )
    return name


def _grant_types(grant_types: list[str]) -> list[str]:
    grants: list[str] = []
    for grant in grant_types:
        if grant not in GRANT_TYPES:
            raise RegistrationError(
                f"unknown grant type {grant[:64]!r} (choose from {', '.join(GRANT_TYPES)})"
            )
        if grant not in grants:
            grants.append(grant)
    if not grants:
        raise RegistrationError("at least one grant type is required")
    if grants == [REFRESH_TOKEN]:
        # Nothing would ever issue this client a refresh token to use.
        raise RegistrationError("refresh_token needs authorization_code beside it")
    return grants


MAX_CALLBACK_CHARS = 2000  # with its query, it must fit gunicorn's 4094-byte request line
MAX_CALLBACKS = 20


def _callbacks(callbacks: list[str], grants: list[str]) -> list[str]:
    """RFC 6749 section 3.1.2: absolute URIs without a fragment; http(s) only here."""
    urls: list[str] = []
    if len(callbacks) > MAX_CALLBACKS:
        raise InvalidRedirectUri(f"at most {MAX_CALLBACKS} callback URLs")
    for url in callbacks:
        if isinstance(url, str) and len(url) > MAX_CALLBACK_CHARS:
            raise InvalidRedirectUri(
                f"callback URL {url[:60]!r}... is over {MAX_CALLBACK_CHARS} characters"
            )
        try:
            parts = urlsplit(url) if isinstance(url, str) else None
        except ValueError:  # e.g. an unclosed IPv6 bracket
            parts = None
        if (
            parts is None
            or parts.scheme not in ("http", "https")
            or not parts.hostname
            or parts.fragment
            or "#" in url
            or any(ch.isspace() for ch in url)
            or not url.isprintable()
        ):
            raise InvalidRedirectUri(
                f"callback URL {str(url)[:200]!r} must be an absolute http(s) URL "
                "without a fragment"
            )
        if url not in urls:
            urls.append(url)
    if AUTHORIZATION_CODE in grants and not urls:
        raise InvalidRedirectUri("authorization_code needs at least one callback URL")
    return urls


def _auth_method(auth_method: str) -> str:
    if auth_method not in AUTH_METHODS:
        raise RegistrationError(
            f"unknown client authentication method {str(auth_method)[:64]!r} "
            f"(choose from {', '.join(AUTH_METHODS)})"
        )
    return auth_method


def configured_scopes() -> dict[str, str]:
    """The server's scopes and their descriptions (``OAUTH2_PROVIDER["SCOPES"]``)."""
    return dict(oauth2_settings.SCOPES)


def normalized_scopes(scopes: list[str] | None) -> list[str]:
    """``scopes`` checked (``RegistrationError`` naming an unknown one) and in
    configured order, each once."""
    return _scopes(scopes).split()


def _scopes(scopes: list[str] | None) -> str:
    """RFC 7591 ``scope``: configured scopes only, space-separated in configured order.

    None or empty stores "": the server's default client scopes apply.
    """
    configured = configured_scopes()
    chosen = set()
    for scope in scopes or ():
        if not isinstance(scope, str) or scope not in configured:
            raise RegistrationError(
                f"unknown scope {str(scope)[:64]!r} (choose from {', '.join(configured)})"
            )
        chosen.add(scope)
    return " ".join(scope for scope in configured if scope in chosen)


def _signing_alg(signing_alg: str, auth_method: str) -> str:
    signing_alg = signing_alg or ""
    if signing_alg and signing_alg not in ASYMMETRIC_ALGORITHMS:
        raise RegistrationError(
            f"unknown signing algorithm {signing_alg[:32]!r} "
            f"(choose from {', '.join(ASYMMETRIC_ALGORITHMS)})"
        )
    if signing_alg and auth_method != PRIVATE_KEY_JWT:
        raise RegistrationError(f"a signing algorithm applies only to {PRIVATE_KEY_JWT}")
    return signing_alg
