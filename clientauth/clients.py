"""What client authentication knows of an application beyond DOT's own fields.

An application's ``ClientMetadata`` row, if it has one, registers its authentication
method, pinned signing algorithm, grant types, allowed scopes and whether it is a
resource server; without one, DOT's own rules stand (``allows_grant_type`` on the
application), with the default client scopes and no resource-server right. Works with
any DOT application model.
"""

from __future__ import annotations

from oauth2_provider.models import AbstractApplication
from oauth2_provider.oauth2_validators import GRANT_TYPE_MAPPING
from oauth2_provider.settings import oauth2_settings

from clientauth.models import ClientMetadata

AUTHORIZATION_CODE = "authorization_code"
REFRESH_TOKEN = "refresh_token"
CLIENT_CREDENTIALS = "client_credentials"

# Scopes a client gets only when registered with them, never by default: the right to
# introspect with a bearer token (DOT's IntrospectTokenView).
RESERVED_SCOPES = frozenset({"introspection"})

# Registered grant (RFC 7591 wire name) -> DOT's name for it.
DOT_GRANT_NAMES = {
    AUTHORIZATION_CODE: AbstractApplication.GRANT_AUTHORIZATION_CODE,
    CLIENT_CREDENTIALS: AbstractApplication.GRANT_CLIENT_CREDENTIALS,
}

# Where a loaded application keeps its metadata row (None: it has none).
_ATTRIBUTE = "_clientauth_metadata"
_UNKNOWN = object()


def attach(application, metadata: ClientMetadata | None) -> None:
    """Remember ``application``'s metadata row (None for none), read with it."""
    setattr(application, _ATTRIBUTE, metadata)


def metadata_of(application) -> ClientMetadata | None:
    """The application's metadata row, or None; read once per instance."""
    metadata = getattr(application, _ATTRIBUTE, _UNKNOWN)
    if metadata is _UNKNOWN:
        metadata = ClientMetadata.objects.filter(application_id=application.pk).first()
        attach(application, metadata)
    return metadata


def auth_method_of(application) -> str:
    """The registered ``token_endpoint_auth_method``; "" when none is registered."""
    metadata = metadata_of(application)
    return metadata.token_endpoint_auth_method if metadata else ""


def signing_alg_of(application) -> str:
    """The registered ``token_endpoint_auth_signing_alg``; "" for none (any allowed)."""
    metadata = metadata_of(application)
    return metadata.token_endpoint_auth_signing_alg if metadata else ""


def grant_types_of(application) -> list[str]:
    """The client's grants by their RFC 7591 names, also for rows made elsewhere."""
    metadata = metadata_of(application)
    if metadata is not None and metadata.grant_type_list:
        return metadata.grant_type_list
    if application.authorization_grant_type == AbstractApplication.GRANT_AUTHORIZATION_CODE:
        return [AUTHORIZATION_CODE, REFRESH_TOKEN]
    if application.authorization_grant_type == AbstractApplication.GRANT_CLIENT_CREDENTIALS:
        return [CLIENT_CREDENTIALS]
    return []


def allows_grant_type(application, *dot_grant_types: str) -> bool:
    """Whether the client may use the grant DOT asks about (by DOT's names, as in
    ``GRANT_TYPE_MAPPING``). Registered grants answer; ``refresh_token`` only when
    registered, where DOT allows it to any client of a grant that issues one."""
    metadata = metadata_of(application)
    registered = metadata.grant_type_list if metadata is not None else []
    if not registered:
        return application.allows_grant_type(*dot_grant_types)
    if set(dot_grant_types) == set(GRANT_TYPE_MAPPING[REFRESH_TOKEN]):
        return REFRESH_TOKEN in registered
    return any(DOT_GRANT_NAMES.get(g) in dot_grant_types for g in registered)


def default_client_scopes() -> list[str]:
    """The scopes of a client registered without a list: every configured scope but the
    reserved ones, in configured order."""
    return [s for s in oauth2_settings.SCOPES if s not in RESERVED_SCOPES]


def allowed_scopes_of(application) -> list[str]:
    """The scopes ``application`` may be granted (RFC 7591 ``scope``): its registered
    list, or the default client scopes; only scopes the server still configures."""
    metadata = metadata_of(application)
    registered = metadata.scope_list if metadata is not None else []
    if not registered:
        return default_client_scopes()
    configured = oauth2_settings.SCOPES
    return [s for s in registered if s in configured]


def narrowed_to_allowed(application, scopes) -> list[str]:
    """``scopes`` (in their order) that ``application`` may be granted."""
    allowed = allowed_scopes_of(application)
    return [scope for scope in scopes if scope in allowed]


def may_have(application, scopes) -> bool:
    """Whether ``application`` may be granted every one of ``scopes``."""
    return set(scopes).issubset(allowed_scopes_of(application))


def is_resource_server(application) -> bool:
    """Whether ``application`` may introspect other clients' tokens (RFC 7662 s. 2.1)."""
    metadata = metadata_of(application)
    return bool(metadata is not None and metadata.resource_server)


def client_exists(client_id: str) -> bool:
    """Whether an application has this client ID (the keystore's owner lookup)."""
    from oauth2_provider.models import get_application_model

    return get_application_model().objects.filter(client_id=client_id).exists()
