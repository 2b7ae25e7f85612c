"""DOT's OAuth2 validator with Private Key JWT client authentication (RFC 7523 section
2.2 and 3, OIDC Core section 9). Set it as ``OAUTH2_PROVIDER["OAUTH2_VALIDATOR_CLASS"]``.

``authenticate_client`` is where every client is authenticated, at the token,
introspection and revocation endpoints alike: it reads the credentials from oauthlib's
request (an assertion is noticed by either parameter, even empty), authenticates by
that one method (``clientauth.authentication``), records the assertion's ``jti`` last,
and sets ``request.client``. A refusal is recorded (``clientauth.failures``) and raised
as the OAuth error oauthlib renders: ``invalid_client`` with the contract's
description (generic until the signature is verified), ``invalid_request`` for a
request of the wrong shape, ``temporarily_unavailable`` (503) when the database cannot
answer. There is no fallback to a secret after a failed assertion.

What only the raw ``HttpRequest`` shows (a parameter given twice, credentials in the
query string) is checked before oauthlib runs, by ``clientauth.backends``.

The validator also keeps what a client registered: its grant types
(``validate_grant_type``), a refresh token only for a client allowed the
``refresh_token`` grant (RFC 6749 section 1.5: "issuing a refresh token is optional at
the discretion of the authorization server"), a refreshed token within the scopes the
client is allowed today (``get_original_scopes``), and an authorization code redeemed
once: a second redemption revokes the first one's tokens (``clientauth.codes``). A
client is granted only its registered scopes (``ClientMetadata.scope``, by default
every configured scope but ``introspection``): ``validate_scopes`` and
``get_default_scopes`` narrow what DOT's scopes backend answers, at the authorization
endpoint and for every grant.
"""

from __future__ import annotations

import logging
import time
from urllib.parse import parse_qsl, urlsplit

from django.db import DatabaseError
from oauth2_provider.oauth2_validators import GRANT_TYPE_MAPPING, OAuth2Validator
from oauth2_provider.scopes import get_scopes_backend
from oauthlib.oauth2.rfc6749 import errors as oauth_errors

from clientauth import clients, codes, conf, errors, failures
from clientauth.authentication import authenticate, consume
from clientauth.constants import (
    AUTH_METHODS,
    CLIENT_ASSERTION,
    CLIENT_ASSERTION_TYPE,
)
from clientauth.request import Credentials, credentials

log = logging.getLogger("clientauth")


class BasicInvalidClientError(oauth_errors.InvalidClientError):
    """``invalid_client`` for a client that tried HTTP Basic: the challenge names the
    scheme it used (RFC 6749 section 5.2)."""

    @property
    def headers(self) -> dict[str, str]:
        return {"WWW-Authenticate": 'Basic realm="oauth2"'}


def oauth_error(
    exc: errors.ClientAuthError | errors.ServiceUnavailable, *, basic: bool = False
) -> oauth_errors.OAuth2Error:
    """The oauthlib error that renders ``exc`` as the contract says; ``basic``: the
    request carried HTTP Basic credentials."""
    if isinstance(exc, errors.ServiceUnavailable):
        return oauth_errors.TemporarilyUnavailableError(
            description="The server is temporarily unavailable.", status_code=503
        )
    if exc.status == 400:
        return oauth_errors.InvalidRequestError(description=exc.public_description)
    if basic:
        return BasicInvalidClientError(description=exc.public_description)
    return oauth_errors.InvalidClientError(description=exc.public_description)


def _endpoint(request) -> str:
    """The endpoint's name for logs and failure records: the URL's last segment."""
    path = urlsplit(request.uri or "").path.rstrip("/")
    return path.rsplit("/", 1)[-1][:64]


def request_credentials(request) -> Credentials:
    """The credentials of oauthlib's ``request`` (DOT keeps the last value of a
    repeated parameter; ``clientauth.backends`` refuses repeats before this runs)."""
    fields = {name: [value] for name, value in request.decoded_body or ()}
    query = [name for name, _ in parse_qsl(urlsplit(request.uri or "").query, True)]
    return credentials(fields, query, request.headers.get("Authorization", "") or "")


def has_assertion(request) -> bool:
    body = dict(request.decoded_body or ())
    return CLIENT_ASSERTION in body or CLIENT_ASSERTION_TYPE in body


class ClientAuthValidator(OAuth2Validator):
    # What discovery publishes about client authentication (RFC 8414 section 2): the
    # methods, and the assertion algorithms in the order ALLOWED_ALGORITHMS lists them.
    # oidc asks the configured validator for them rather than importing this app.
    token_endpoint_auth_methods = AUTH_METHODS

    @property
    def token_endpoint_auth_signing_algs(self) -> list[str]:
        allowed = conf.policy().allowed_algorithms
        ordered = [alg for alg in conf.merged()["ALLOWED_ALGORITHMS"] if alg in allowed]
        return list(dict.fromkeys(ordered))

    def client_authentication_required(self, request, *args, **kwargs) -> bool:
        if has_assertion(request):
            return True
        return super().client_authentication_required(request, *args, **kwargs)

    def authenticate_client(self, request, *args, **kwargs) -> bool:
        now = time.time()
        policy = conf.policy()
        try:
            try:
                authenticated = authenticate(request_credentials(request), policy=policy, now=now)
                consume(authenticated, policy=policy, now=now)
            except DatabaseError:
                log.exception("database unavailable while authenticating a client")
                raise errors.ServiceUnavailable() from None
        except errors.ClientAuthError as exc:
            failures.record_failure(exc, endpoint=_endpoint(request), meta=request.headers)
            scheme = (request.headers.get("Authorization", "") or "").partition(" ")[0]
            raise oauth_error(exc, basic=scheme.lower() == "basic") from None
        except errors.ServiceUnavailable as exc:
            raise oauth_error(exc) from None
        request.client = authenticated.client
        request.client_id = authenticated.client.client_id
        request.clientauth_method = authenticated.method
        return True

    def validate_grant_type(self, client_id, grant_type, client, request, *args, **kwargs):
        """The client's registered grant types (``ClientMetadata``) decide, where it has
        them; DOT's rule otherwise."""
        metadata = clients.metadata_of(request.client)
        if metadata is None or not metadata.grant_type_list:
            return super().validate_grant_type(
                client_id, grant_type, client, request, *args, **kwargs
            )
        dot_names = GRANT_TYPE_MAPPING.get(grant_type)
        return dot_names is not None and clients.allows_grant_type(request.client, *dot_names)

    def get_original_scopes(self, refresh_token, request, *args, **kwargs):
        """The refreshed token's scopes, narrowed to those the client may have today
        (its scopes may have been cut since); none left is ``invalid_scope``."""
        original = super().get_original_scopes(refresh_token, request, *args, **kwargs)
        original = original.split() if isinstance(original, str) else list(original)
        available = get_scopes_backend().get_available_scopes(
            application=request.client, request=request
        )
        allowed = clients.narrowed_to_allowed(
            request.client, [scope for scope in original if scope in available]
        )
        if original and not allowed:
            raise oauth_errors.InvalidScopeError(
                description="The client may no longer have any scope of this token.",
                request=request,
            )
        return allowed

    def validate_scopes(self, client_id, scopes, client, request, *args, **kwargs) -> bool:
        """DOT's check, and the client's registered scopes (RFC 6749 section 3.3)."""
        if not clients.may_have(client, scopes):
            return False
        return super().validate_scopes(client_id, scopes, client, request, *args, **kwargs)

    def get_default_scopes(self, client_id, request, *args, **kwargs) -> list[str]:
        """DOT's default scopes, those of them the client may have."""
        defaults = super().get_default_scopes(client_id, request, *args, **kwargs)
        return clients.narrowed_to_allowed(request.client, defaults)

    def save_bearer_token(self, token, request, *args, **kwargs):
        """DOT's, without a refresh token for a client not allowed the
        ``refresh_token`` grant: it could never use one."""
        if "refresh_token" in token and not clients.allows_grant_type(
            request.client, *GRANT_TYPE_MAPPING[clients.REFRESH_TOKEN]
        ):
            del token["refresh_token"]
        return super().save_bearer_token(token, request, *args, **kwargs)

    def _create_access_token(self, expires, request, token, source_refresh_token=None):
        access_token = super()._create_access_token(expires, request, token, source_refresh_token)
        request.clientauth_access_token = access_token
        return access_token

    def _create_refresh_token(self, request, refresh_token_code, access_token, previous):
        refresh_token = super()._create_refresh_token(
            request, refresh_token_code, access_token, previous
        )
        request.clientauth_refresh_token = refresh_token
        return refresh_token

    def validate_code(self, client_id, code, client, request, *args, **kwargs):
        """DOT's check; a code this client has redeemed before revokes what it gave."""
        if super().validate_code(client_id, code, client, request, *args, **kwargs):
            return True
        codes.replayed(client, code)
        return False

    def invalidate_authorization_code(self, client_id, code, request, *args, **kwargs):
        """DOT deletes the grant; the code is remembered with the tokens it gave."""
        issued = (
            getattr(request, "clientauth_access_token", None),
            getattr(request, "clientauth_refresh_token", None),
        )
        try:
            super().invalidate_authorization_code(client_id, code, request, *args, **kwargs)
        finally:
            codes.remember(request.client, code, *issued)
