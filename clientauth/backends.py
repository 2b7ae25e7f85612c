"""DOT's OAuthLib backend, checking what only the raw ``HttpRequest`` shows. Set it as
``OAUTH2_PROVIDER["OAUTH2_BACKEND_CLASS"]`` beside ``clientauth.validator``.

DOT hands oauthlib a body with the last value of each parameter, so a parameter given
twice, or credentials sent in the URL query, are seen here or nowhere (RFC 6749
sections 2.3 and 3.2, RFC 7523 section 2.2). Such a request is answered with 400
``invalid_request`` before oauthlib runs, at the token, revocation and introspection
endpoints; everything else is DOT's and the validator's.

``authenticate_client`` (DOT's introspection view asks it) returns a bool, as DOT
expects; the OAuth error of a refusal is kept on the request (``refusal``), so a
view can answer with it instead of DOT's bare 403, and the answer is reused if the view
asks twice: an assertion is consumed once. The client that called, authenticated by
its own credentials or by a bearer token it was issued, is kept too (``caller``), for
the introspection view to decide what it may see.
"""

from __future__ import annotations

from oauth2_provider.oauth2_backends import OAuthLibCore
from oauthlib.common import Request as OauthlibRequest
from oauthlib.oauth2.rfc6749.errors import OAuth2Error

from clientauth import errors, failures
from clientauth.constants import JSON_NO_STORE_HEADERS
from clientauth.request import Credentials, read_credentials
from clientauth.validator import oauth_error

_RESULT = "_clientauth_authenticated"
_REFUSAL = "_clientauth_refusal"
_SHAPE = "_clientauth_shape"
_CALLER = "_clientauth_caller"


def refusal(request) -> OAuth2Error | None:
    """The OAuth error with which ``authenticate_client`` refused ``request``, if it did."""
    return getattr(request, _REFUSAL, None)


def caller(request):
    """The application that authenticated ``request`` (by client authentication or by
    a bearer token issued to it), or None."""
    return getattr(request, _CALLER, None)


def _read(request, endpoint: str) -> tuple[Credentials | None, OAuth2Error | None]:
    """The POST request's credentials, or the 400 its shape earns (recorded), worked
    out once per request: this server's views ask before DOT parses the body, and DOT
    asks again through this backend."""
    if request.method != "POST":
        return None, None
    read = getattr(request, _SHAPE, None)
    if read is None:
        try:
            read = read_credentials(request), None
        except errors.ClientAuthError as exc:
            failures.record_failure(exc, endpoint=endpoint, meta=request.META)
            scheme = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")[0]
            read = None, oauth_error(exc, basic=scheme.lower() == "basic")
        setattr(request, _SHAPE, read)
    return read


def shape_refusal(request, endpoint: str) -> OAuth2Error | None:
    """The 400 (or, for malformed Basic credentials, the 401) that the shape of a POST
    to ``endpoint`` earns, recorded; None for a request of the right shape."""
    return _read(request, endpoint)[1]


def _answer(error: OAuth2Error) -> tuple[None, dict, str, int]:
    return None, {**JSON_NO_STORE_HEADERS, **error.headers}, error.json, error.status_code


class ClientAuthOAuthLibCore(OAuthLibCore):
    def create_token_response(self, request):
        error = shape_refusal(request, "token")
        if error is not None:
            return _answer(error)
        return super().create_token_response(request)

    def create_revocation_response(self, request):
        error = shape_refusal(request, "revoke")
        if error is not None:
            return _answer(error)
        return super().create_revocation_response(request)

    def authenticate_client(self, request) -> bool:
        if hasattr(request, _RESULT):
            return getattr(request, _RESULT)
        creds, error = _read(request, "introspect")
        authenticated = False
        # A GET, or a bearer token in place of client credentials (DOT's introspection
        # view may accept one with the introspection scope): nothing to authenticate.
        bearer_only = creds is not None and creds.method is None and creds.bearer
        if error is None and creds is not None and not bearer_only:
            uri, http_method, body, headers = self._extract_params(request)
            oauth_request = OauthlibRequest(uri, http_method, body, headers)
            try:
                authenticated = self.server.request_validator.authenticate_client(oauth_request)
            except OAuth2Error as exc:
                error = exc
            if authenticated:
                setattr(request, _CALLER, oauth_request.client)
        setattr(request, _REFUSAL, error)
        setattr(request, _RESULT, authenticated)
        return authenticated

    def verify_request(self, request, scopes):
        valid, oauth_request = super().verify_request(request, scopes)
        access_token = getattr(oauth_request, "access_token", None) if valid else None
        if access_token is not None:
            setattr(request, _CALLER, access_token.application)
        return valid, oauth_request
