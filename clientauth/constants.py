"""Protocol constants of client authentication, named after the specifications.

RFC 7523 section 2.2 (the assertion parameters), OIDC Core section 9 (the method
names), RFC 7518 and RFC 8037 / RFC 9864 (algorithm names). Nothing here is policy:
the policy is ``clientauth.conf``.
"""

from __future__ import annotations

# RFC 7523 section 2.2
JWT_BEARER_CLIENT_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
CLIENT_ASSERTION = "client_assertion"
CLIENT_ASSERTION_TYPE = "client_assertion_type"

# OIDC Core section 9 / RFC 7591 section 2 token_endpoint_auth_method values.
PRIVATE_KEY_JWT = "private_key_jwt"
CLIENT_SECRET_BASIC = "client_secret_basic"
CLIENT_SECRET_POST = "client_secret_post"
AUTH_METHODS = (PRIVATE_KEY_JWT, CLIENT_SECRET_BASIC, CLIENT_SECRET_POST)

# RFC 7523 section 3 and OIDC Core section 9: claims every assertion carries.
REQUIRED_CLAIMS = ("iss", "sub", "aud", "exp", "jti")

# JWS algorithms (RFC 7518 section 3.1, RFC 8037 section 3.1, RFC 9864 section 2.2).
RSA_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512")
EC_ALGORITHMS = ("ES256", "ES384", "ES512")
OKP_ALGORITHMS = ("EdDSA", "Ed25519")
ASYMMETRIC_ALGORITHMS = RSA_ALGORITHMS + EC_ALGORITHMS + OKP_ALGORITHMS
# Never accepted, whatever the settings say: no signature, or a shared-key MAC.
FORBIDDEN_ALGORITHMS = ("none", "HS256", "HS384", "HS512")

# Explicit "typ" header values an assertion may carry (RFC 7519 section 5.1 and
# draft-ietf-oauth-rfc7523bis), compared case-insensitively without "application/".
ALLOWED_TYPES = ("jwt", "client-authentication+jwt")

# JOSE header parameters that point at key material. Keys come only from the client's
# registered key source, so these are never fetched or used (RFC 7515 s. 4.1.2-4.1.6).
KEY_REFERENCE_HEADERS = ("jwk", "jku", "x5u", "x5c")

MAX_JTI_LENGTH = 255

# RFC 6749 section 5.1: token endpoint answers, errors included, are never cached.
NO_STORE_HEADERS = {"Cache-Control": "no-store", "Pragma": "no-cache"}
JSON_NO_STORE_HEADERS = {"Content-Type": "application/json", **NO_STORE_HEADERS}
