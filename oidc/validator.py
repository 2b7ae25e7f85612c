"""OpenID Connect parts of the OAuth2 validator: ID tokens, userinfo claims, PKCE S256,
the bounds of authorization parameters and ``prompt=none``.

ID tokens (OIDC Core section 2) are always RS256, signed by the server's active key
from ``oidc.keys`` with its ``kid`` in the header; the application's own DOT
``algorithm`` field plays no part. ``nonce`` is copied from the authorization request
(OIDC Core section 3.1.2.1). Userinfo (OIDC Core section 5.3) and the ID token carry
``sub`` (the user's random identifier from ``oidc.subjects``, never the primary key),
``preferred_username``, ``name`` and ``email`` from the Django user, filtered by the
granted scopes as DOT's ``oidc_claim_scope`` says (section 5.4). PKCE (RFC 7636
section 4.3) is accepted with ``S256`` only; ``plain``, or a challenge with no method
(which RFC 7636 reads as ``plain``), is ``invalid_request``.

Authorization parameters are held to ``oidc.params`` in ``validate_response_type``,
the first hook oauthlib calls once the client and the redirect URI are valid, in both
of its passes (the request as received, and the consent form's values when the code
is issued), so a refusal is ``invalid_request`` at the redirect URI, before consent.

``prompt=none`` (OIDC Core 3.1.2.1): oauthlib asks ``validate_silent_login`` and
``validate_silent_authorization`` while validating the request, before the view has
bound a user to it (``request.user`` is None), and again when the code is issued, with
the user bound. Only that second answer decides: the view (``oidc.authorize``) has
already answered an anonymous request with ``login_required`` and a request without
consent (``oidc.consent``) with ``consent_required``; the hooks repeat those checks so
no code is issued silently whichever path reaches oauthlib.

Deliberately not here: the ``claims`` request parameter, pairwise subjects,
``id_token_hint`` checks, client authentication (``clientauth``). Mixed into
``authserver.validator.Validator``.
"""

from __future__ import annotations

import json

from django.db import router, transaction
from django.utils import timezone
from jwcrypto import jws, jwt
from jwcrypto.common import JWException
from oauth2_provider.models import get_id_token_model
from oauthlib.oauth2.rfc6749 import errors
from oauthlib.oauth2.rfc6749.utils import scope_to_list

from oidc import keys, params
from oidc.consent import has_consented, signed_in_within
from oidc.subjects import subject_for

PKCE_METHOD = "S256"
# Claims this server can put in ID tokens and userinfo responses (discovery's
# claims_supported, OIDC Discovery section 3). No c_hash: only hybrid flows carry it.
USER_CLAIMS = ("sub", "preferred_username", "name", "email")
TOKEN_CLAIMS = ("iss", "aud", "exp", "iat", "auth_time", "nonce", "at_hash", "jti")
CLAIMS_SUPPORTED = USER_CLAIMS + TOKEN_CLAIMS


class OidcValidatorMixin:
    def is_pkce_required(self, client_id, request) -> bool:
        """PKCE is required, and only with S256 (RFC 7636 section 4.3, RFC 9700 2.1.1)."""
        if request.code_challenge is not None and request.code_challenge_method != PKCE_METHOD:
            raise errors.UnsupportedCodeChallengeMethodError(
                description='code_challenge_method must be "S256".', request=request
            )
        return True

    def validate_response_type(self, client_id, response_type, client, request, *args, **kwargs):
        """DOT's check, after the request's parameters are held to ``oidc.params``."""
        try:
            params.check(_authorization_params(request))
        except params.InvalidParameter as exc:
            raise errors.InvalidRequestError(description=f"{exc}.", request=request) from None
        return super().validate_response_type(
            client_id, response_type, client, request, *args, **kwargs
        )

    def validate_silent_login(self, request) -> bool:
        """A signed-in, active user, within ``max_age`` if one is asked (decided once the
        user is bound; see the docstring)."""
        user = request.user
        if user is None:
            return True
        if not (user.is_authenticated and user.is_active):
            return False
        return signed_in_within(user, request.max_age, timezone.now())

    def validate_silent_authorization(self, request) -> bool:
        """Earlier consent for this client and these scopes (``oidc.consent``)."""
        if request.user is None:
            return True
        scopes = scope_to_list(request.scopes) or []
        return has_consented(request.user, request.client, scopes, timezone.now())

    def get_claim_dict(self, request) -> dict:
        """``sub`` is the user's random subject identifier (OIDC Core 8), for ID tokens
        and userinfo alike; then the standard claims."""
        return {"sub": subject_for(request.user), **self.get_additional_claims(request)}

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


def _authorization_params(request) -> dict[str, object]:
    """The bounded parameters of an oauthlib authorization request. When the code is
    issued the scopes come as ``request.scopes`` (a string or a list), not ``scope``."""
    scope = request.scope
    if scope is None and request.scopes:
        scope = request.scopes if isinstance(request.scopes, str) else " ".join(request.scopes)
    return {
        "code_challenge": request.code_challenge,
        "state": request.state,
        "nonce": request.nonce,
        "scope": scope,
        "claims": request.claims if request.claims is None else _text(request.claims),
        "response_mode": request.response_mode,
        "max_age": request.max_age,
    }


def _text(value) -> str:
    return value if isinstance(value, str) else json.dumps(value)
