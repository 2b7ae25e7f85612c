"""OpenID Provider metadata (OIDC Discovery 1.0 section 3, RFC 8414 section 2).

``provider_metadata()`` builds the document from ``AUTHSERVER_ISSUER`` alone, so every
URL is absolute and no request's Host header can change it. Client-authentication
fields for the token, introspection (RFC 8414 section 2) and revocation endpoints
name the same methods, and the signing algorithms are exactly the policy's
``ALLOWED_ALGORITHMS`` in their configured order. Deliberately absent: request
objects, the ``claims`` parameter, dynamic registration, logout endpoints (this
server supports none of them). Called by ``oidc.views.DiscoveryView``.
"""

from __future__ import annotations

from django.conf import settings
from oauth2_provider.settings import oauth2_settings

from clientauth import conf
from clientauth.constants import AUTH_METHODS
from oidc.keys import ALGORITHM
from oidc.validator import CLAIMS_SUPPORTED, PKCE_METHOD

GRANT_TYPES = ("authorization_code", "refresh_token", "client_credentials")


def signing_algorithms() -> list[str]:
    """The policy's allowed assertion algorithms, in the order the setting lists them."""
    allowed = conf.policy().allowed_algorithms
    ordered = [alg for alg in conf.merged()["ALLOWED_ALGORITHMS"] if alg in allowed]
    return list(dict.fromkeys(ordered))


def provider_metadata(issuer: str | None = None) -> dict:
    issuer = issuer or settings.AUTHSERVER_ISSUER
    algorithms = signing_algorithms()
    methods = list(AUTH_METHODS)
    return {
        "issuer": issuer,
        "authorization_endpoint": f"{issuer}/oauth2/authorize",
        "token_endpoint": f"{issuer}/oauth2/token",
        "userinfo_endpoint": f"{issuer}/oauth2/userinfo",
        "jwks_uri": f"{issuer}/oauth2/jwks",
        "introspection_endpoint": f"{issuer}/oauth2/introspect",
        "revocation_endpoint": f"{issuer}/oauth2/revoke",
        "scopes_supported": list(oauth2_settings.SCOPES),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": list(GRANT_TYPES),
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": [ALGORITHM],
        "claims_supported": list(CLAIMS_SUPPORTED),
        "claim_types_supported": ["normal"],
        "code_challenge_methods_supported": [PKCE_METHOD],
        "token_endpoint_auth_methods_supported": methods,
        "token_endpoint_auth_signing_alg_values_supported": algorithms,
        "introspection_endpoint_auth_methods_supported": methods,
        "introspection_endpoint_auth_signing_alg_values_supported": algorithms,
        "revocation_endpoint_auth_methods_supported": methods,
        "revocation_endpoint_auth_signing_alg_values_supported": algorithms,
        "prompt_values_supported": ["none", "login"],
        "request_parameter_supported": False,
        "request_uri_parameter_supported": False,
        "claims_parameter_supported": False,
    }
