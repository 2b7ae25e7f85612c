"""Reading the client credentials of a request, and refusing malformed requests.

RFC 6749 section 2.3 (one authentication method per request, credentials in the
header or the form body, never the URL), section 3.2 (form-encoded POST bodies,
parameters sent once), RFC 7523 section 2.2 (``client_assertion_type``). Every refusal
here is a 400 ``invalid_request`` that names the problem; it says nothing about any
client. Called by ``clientauth.backends`` (on Django's request) and
``clientauth.validator`` (on oauthlib's); does not judge whether the credentials are
right.
"""

from __future__ import annotations

import binascii
from base64 import b64decode
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import unquote_plus

from django.core.exceptions import BadRequest, RequestDataTooBig, TooManyFieldsSent
from django.http import HttpRequest
from django.http.request import RawPostDataException

from clientauth import errors
from clientauth.constants import (
    CLIENT_ASSERTION,
    CLIENT_ASSERTION_TYPE,
    CLIENT_SECRET_BASIC,
    CLIENT_SECRET_POST,
    JWT_BEARER_CLIENT_ASSERTION_TYPE,
    PRIVATE_KEY_JWT,
)

FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
MAX_BODY_BYTES = 64 * 1024
# Parameters that carry credentials or grants: never accepted in the URL query.
_BODY_ONLY = {
    CLIENT_ASSERTION,
    CLIENT_ASSERTION_TYPE,
    "client_id",
    "client_secret",
    "code",
    "refresh_token",
    "token",
    "code_verifier",
    "grant_type",
}
# RFC 8707 lets a client repeat "resource"; every other parameter is sent once.
_REPEATABLE = {"resource"}


@dataclass(frozen=True, slots=True)
class Credentials:
    """The one authentication method a request uses, with what it carries."""

    method: str | None
    client_id: str | None = None
    secret: str | None = None
    assertion: str | None = None
    bearer: bool = False


def _form(request: HttpRequest):
    if request.content_type != FORM_CONTENT_TYPE:
        raise errors.UnsupportedRequest(f"the request body must be {FORM_CONTENT_TYPE}")
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise errors.UnsupportedRequest("invalid Content-Length") from None
    if length > MAX_BODY_BYTES:
        raise errors.UnsupportedRequest("the request body is too large")
    try:
        return request.POST
    except (RequestDataTooBig, TooManyFieldsSent, RawPostDataException):
        raise errors.UnsupportedRequest("the request body is too large") from None
    except BadRequest:  # a charset Python cannot decode the body with
        raise errors.UnsupportedRequest("the request body's charset is not supported") from None


def _check_parameters(fields: Mapping[str, list[str]], query_names: Iterable[str]) -> None:
    for name, values in fields.items():
        if len(values) > 1 and name not in _REPEATABLE:
            raise errors.DuplicateParameter(f"parameter {name} is given more than once")
    for name in query_names:
        if name in _BODY_ONLY:
            raise errors.UnsupportedRequest(f"parameter {name} must be sent in the request body")
        if name in fields:
            raise errors.DuplicateParameter(f"parameter {name} is given more than once")


def _basic(header: str) -> tuple[str, str]:
    """RFC 6749 section 2.3.1: base64 of form-encoded client_id ":" client_secret."""
    try:
        decoded = b64decode(header.strip(), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        raise errors.BadSecret("malformed Basic credentials") from None
    client_id, sep, secret = decoded.partition(":")
    if not sep or not client_id:
        raise errors.BadSecret("malformed Basic credentials")
    return unquote_plus(client_id), unquote_plus(secret)


def read_credentials(request: HttpRequest) -> Credentials:
    """The request's client credentials, or a 400 for a request of the wrong shape."""
    form = _form(request)
    return credentials(
        dict(form.lists()), request.GET.keys(), request.META.get("HTTP_AUTHORIZATION", "")
    )


def credentials(
    fields: Mapping[str, list[str]], query_names: Iterable[str], authorization: str
) -> Credentials:
    """The credentials of a request whose body holds ``fields`` (every value of each
    name) and whose URL query names ``query_names``; a 400 for the wrong shape."""
    _check_parameters(fields, query_names)
    form = {name: values[-1] for name, values in fields.items() if values}

    scheme, _, value = authorization.partition(" ")
    basic = scheme.lower() == "basic"
    bearer = scheme.lower() == "bearer"
    has_assertion = CLIENT_ASSERTION in form or CLIENT_ASSERTION_TYPE in form
    has_secret = "client_secret" in form
    if basic + has_assertion + has_secret > 1:
        raise errors.MultipleAuthMethods(
            "the request uses more than one client authentication method"
        )
    client_id = form.get("client_id")

    if has_assertion:
        if form.get(CLIENT_ASSERTION_TYPE) != JWT_BEARER_CLIENT_ASSERTION_TYPE:
            raise errors.BadAssertionType(
                f"client_assertion_type must be {JWT_BEARER_CLIENT_ASSERTION_TYPE}"
            )
        if CLIENT_ASSERTION not in form:
            raise errors.InvalidRequest("client_assertion is missing")
        return Credentials(PRIVATE_KEY_JWT, client_id, assertion=form[CLIENT_ASSERTION])
    if basic:
        basic_id, secret = _basic(value)
        if client_id is not None and client_id != basic_id:
            raise errors.InvalidRequest("client_id does not match the Basic credentials")
        return Credentials(CLIENT_SECRET_BASIC, basic_id, secret=secret)
    if has_secret:
        return Credentials(CLIENT_SECRET_POST, client_id, secret=form["client_secret"])
    return Credentials(None, client_id, bearer=bearer)
