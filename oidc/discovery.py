"""OpenID Provider metadata (OIDC Discovery 1.0 section 3, RFC 8414 section 2).

``provider_metadata()`` builds the document from ``AUTHSERVER_ISSUER`` alone, so every
URL is absolute and no request's Host header can change it. Client-authentication
fields for the token, introspection (RFC 8414 section 2) and revocation endpoints
name the same methods and algorithms, which the configured OAuth2 validator
publishes (``token_endpoint_auth_methods`` and ``token_endpoint_auth_signing_algs``;
``clientauth.validator`` gives the policy's ``ALLOWED_ALGORITHMS`` in their configured
order), so this app imports no client-authentication app; with DOT's own validator
they are DOT's secret methods and no algorithm. Every advertised value is honoured
(``prompt`` by ``oidc.authorize``, ``response_mode`` checked by ``oidc.params``), and
``tests/security/test_discovery_values.py`` uses each one: a value added here fails
that test until it is exercised there. Deliberately absent: request objects, the
``claims`` parameter, dynamic registration, logout endpoints, ``c_hash`` (hybrid
flows only) (this server supports none of them). Called by ``oidc.views.DiscoveryView``.
"""

from __future__ import annotations

from django.conf import settings
from oauth2_provider.settings import oauth2_settings

from oidc.keys import ALGORITHM
from oidc.params import RESPONSE_MODES
from oidc.validator import CLAIMS_SUPPORTED, PKCE_METHOD

PROMPT_VALUES = ("none", "login")  # honoured by oidc.authorize
GRANT_TYPES = ("authorization_code", "refresh_token", "client_credentials")


DOT_AUTH_METHODS = ("client_secret_basic", "client_secret_post")


def client_authentication() -> tuple[list[str], list[str]]:
    """The client-authentication methods and assertion signing algorithms of the
    configured OAuth2 validator."""
    validator = oauth2_settings.OAUTH2_VALIDATOR_CLASS()
    methods = getattr(validator, "token_endpoint_auth_methods", DOT_AUTH_METHODS)
    algorithms = getattr(validator, "token_endpoint_auth_signing_algs", ())
    return list(methods), list(algorithms)


def provider_metadata(issuer: str | None = None) -> dict:
    issuer = issuer or settings.AUTHSERVER_ISSUER
    methods, algorithms = client_authentication()
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
        "response_modes_supported": list(RESPONSE_MODES),
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
        "prompt_values_supported": list(PROMPT_VALUES),
        "request_parameter_supported": False,
        "request_uri_parameter_supported": False,
        "claims_parameter_supported": False,
    }
