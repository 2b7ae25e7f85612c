"""OpenID Connect parts of the OAuth2 validator: ID tokens, userinfo claims, PKCE S256.

ID tokens (OIDC Core section 2) are always RS256, signed by the server's active key
from ``oidc.keys`` with its ``kid`` in the header; the application's own DOT
``algorithm`` field plays no part. ``nonce`` is copied from the authorization request
(OIDC Core section 3.1.2.1). Userinfo (OIDC Core section 5.3) and the ID token carry
``sub``, ``preferred_username``, ``name`` and ``email`` from the Django user, filtered
by the granted scopes as DOT's ``oidc_claim_scope`` says (section 5.4). PKCE
(RFC 7636 section 4.3) is accepted with ``S256`` only; ``plain``, or a challenge with
no method (which RFC 7636 reads as ``plain``), is ``invalid_request``.

Deliberately not here: the ``claims`` request parameter, pairwise subjects, client
authentication (``clientauth``). Mixed into ``authserver.validator.Validator``.
"""

from __future__ import annotations

import json

from django.db import router, transaction
from jwcrypto import jws, jwt
from jwcrypto.common import JWException
from oauth2_provider.models import get_id_token_model
from oauthlib.oauth2.rfc6749 import errors

from oidc import keys

PKCE_METHOD = "S256"
# Claims this server can put in ID tokens and userinfo responses (discovery's
# claims_supported, OIDC Discovery section 3).
USER_CLAIMS = ("sub", "preferred_username", "name", "email")
TOKEN_CLAIMS = ("iss", "aud", "exp", "iat", "auth_time", "nonce", "at_hash", "c_hash", "jti")
CLAIMS_SUPPORTED = USER_CLAIMS + TOKEN_CLAIMS


class OidcValidatorMixin:
    def is_pkce_required(self, client_id, request) -> bool:
        """PKCE is required, and only with S256 (RFC 7636 section 4.3, RFC 9700 2.1.1)."""
        if request.code_challenge is not None and request.code_challenge_method != PKCE_METHOD:
            raise errors.UnsupportedCodeChallengeMethodError(
                description='code_challenge_method must be "S256".', request=request
            )
        return True

    def get_userinfo_claims(self, request):
        """Userinfo is about a user (OIDC Core 5.3): a token issued to a client alone
        (client_credentials, even with ``openid`` in its scope) is not one for it."""
        if request.user is None:
            raise errors.InvalidTokenError(
                description="The access token was not issued for a user.", request=request
            )
        return super().get_userinfo_claims(request)

    def get_additional_claims(self, request) -> dict:
        """Standard claims of the Django user (OIDC Core section 5.1); empty ones left out."""
        user = request.user
        claims = {
            "preferred_username": user.get_username(),
            "name": user.get_full_name() if hasattr(user, "get_full_name") else "",
            "email": getattr(user, "email", ""),
        }
        return {name: value for name, value in claims.items() if value}

    def finalize_id_token(self, id_token, token, token_handler, request) -> str:
        """Sign the ID token RS256 with the server's active key (OIDC Core 3.1.3.7)."""
        claims, expiration_time = self.get_id_token_dictionary(token, token_handler, request)
        id_token.update(**claims)
        if "nonce" not in id_token and request.nonce:
            id_token["nonce"] = request.nonce
        key = keys.active_key()
        header = {"typ": "JWT", "alg": keys.ALGORITHM, "kid": key.kid}
        signed = jwt.JWT(header=json.dumps(header), claims=json.dumps(id_token, default=str))
        signed.make_signed_token(key.jwk)
        IDToken = get_id_token_model()
        with transaction.atomic(using=router.db_for_write(IDToken)):
            saved = self._save_id_token(id_token["jti"], request, expiration_time)
        request.access_token = saved
        request.id_token = saved
        return signed.serialize()

    def _get_key_for_token(self, token):
        """The published server key named by the token's ``kid`` (not the client's key)."""
        try:
            unverified = jws.JWS()
            unverified.deserialize(token)
            header = unverified.jose_header
        except (JWException, ValueError, TypeError):
            return None
        if not isinstance(header, dict) or header.get("alg") != keys.ALGORITHM:
            return None
        kid = header.get("kid")
        key = keys.key_for_kid(kid) if isinstance(kid, str) else None
        return key.jwk if key else None
