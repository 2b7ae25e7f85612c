"""The client_credentials grant (RFC 6749 section 4.4) issued without oauthlib's machinery.

A client_credentials token request whose client is authenticated needs three things:
the grant allowed for the client, the scopes checked, and a token row written. Going
through DOT and oauthlib for that builds three request objects and re-encodes the body
twice, most of the endpoint's cost. ``grant`` does the same steps in the same order,
with DOT's own settings, scopes backend, token model and token-storage rule, and
answers with the same JSON and the same errors.

It serves only requests whose outcome cannot differ from DOT's: the
``client_credentials`` grant with no parameter beyond ``PARAMETERS`` (no RFC 8707
``resource``), DOT's default token generator, scopes backend and pre-token hooks, and
nobody listening for ``app_authorized`` or for saved access tokens. Anything else goes
through DOT. Called by the direct token path (``clientauth.fastpath``), which writes
the token; ``tests/clientauth/test_fastpath.py`` holds its answers equal to DOT's.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db.models.signals import post_save, pre_save
from django.http import HttpResponse
from oauth2_provider.models import (
    AbstractAccessToken,
    get_access_token_model,
    set_token_value,
)
from oauth2_provider.oauth2_validators import GRANT_TYPE_MAPPING
from oauth2_provider.scopes import SettingsScopes, get_scopes_backend
from oauth2_provider.settings import DEFAULTS as DOT_DEFAULTS
from oauth2_provider.settings import oauth2_settings
from oauth2_provider.signals import app_authorized
from oauthlib.common import UNICODE_ASCII_CHARACTER_SET
from oauthlib.oauth2.rfc6749 import errors as oauth_errors
from oauthlib.oauth2.rfc6749.utils import scope_to_list

from clientauth import clients
from clientauth.constants import CLIENT_ASSERTION, CLIENT_ASSERTION_TYPE, JSON_NO_STORE_HEADERS

GRANT_TYPE = "client_credentials"
PARAMETERS = frozenset(
    {"grant_type", "scope", "client_id", "client_secret", CLIENT_ASSERTION, CLIENT_ASSERTION_TYPE}
)


def _dot_is_default() -> bool:
    return (
        oauth2_settings.ACCESS_TOKEN_GENERATOR is None
        and not oauth2_settings.EXTRA_SERVER_KWARGS
        and oauth2_settings.OAUTH_PRE_TOKEN_VALIDATION == DOT_DEFAULTS["OAUTH_PRE_TOKEN_VALIDATION"]
        and oauth2_settings.SCOPES_BACKEND_CLASS is SettingsScopes
    )


def handles(form: Mapping[str, str]) -> bool:
    """Whether a request with this form is one ``issue`` answers exactly as DOT would."""
    if form.get("grant_type") != GRANT_TYPE or not PARAMETERS.issuperset(form):
        return False
    access_token = get_access_token_model()
    return (
        not app_authorized.has_listeners()
        and not pre_save.has_listeners(access_token)
        and not post_save.has_listeners(access_token)
        and _dot_is_default()
    )


# Random byte b becomes alphabet[b % len(alphabet)]; bytes at or above the largest
# multiple of len(alphabet) are dropped (rejection sampling), so every character is
# equally likely.
_ALPHABET = UNICODE_ASCII_CHARACTER_SET.encode("ascii")
_LIMIT = 256 - 256 % len(_ALPHABET)
_TO_ALPHABET = bytes(_ALPHABET[b % len(_ALPHABET)] for b in range(256))
_REJECTED = bytes(range(_LIMIT, 256))


def new_token(length: int = 30) -> str:
    """A token as oauthlib's ``generate_token`` makes it (``length`` characters from
    ``UNICODE_ASCII_CHARACTER_SET``, uniformly), from one read of the OS's CSPRNG
    instead of one per character."""
    token = b""
    while len(token) < length:
        token += os.urandom(2 * length).translate(_TO_ALPHABET, _REJECTED)
    return token[:length].decode("ascii")


def response(body: str, status: int, headers: dict[str, str]) -> HttpResponse:
    """An answer of the token endpoint with DOT's headers (JSON, never cached)."""
    answer = HttpResponse(body, status=status)
    for name, value in {**JSON_NO_STORE_HEADERS, **headers}.items():
        answer[name] = value
    return answer


@dataclass(frozen=True, slots=True)
class Grant:
    """An access token granted and not yet written, and the answer that goes with it."""

    client: Any
    raw_token: str
    scope: str
    expires: dt.datetime
    body: str

    def token(self) -> AbstractAccessToken:
        """The unsaved token row, its value stored as DOT's storage setting says."""
        access_token = get_access_token_model()(
            user=None, scope=self.scope, expires=self.expires, application=self.client, resource=[]
        )
        set_token_value(access_token, self.raw_token)
        return access_token


def grant(client, requested_scope: str | None) -> Grant | oauth_errors.OAuth2Error:
    """The token for the authenticated ``client`` (RFC 6749 sections 4.4.2-3), or the
    error DOT would answer with."""
    if not clients.allows_grant_type(client, *GRANT_TYPE_MAPPING[GRANT_TYPE]):
        return oauth_errors.UnauthorizedClientError()
    # The validator's rule: DOT's scopes backend, narrowed to the client's own scopes.
    backend = get_scopes_backend()
    scopes = scope_to_list(requested_scope) or clients.narrowed_to_allowed(
        client, backend.get_default_scopes(application=client, request=None)
    )
    available = backend.get_available_scopes(application=client, request=None)
    if not set(scopes).issubset(available) or not clients.may_have(client, scopes):
        return oauth_errors.InvalidScopeError()

    expires_in = oauth2_settings.ACCESS_TOKEN_EXPIRE_SECONDS
    raw_token = new_token()
    scope = " ".join(scopes)
    expires = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=expires_in)
    body = {"access_token": raw_token, "expires_in": expires_in, "token_type": "Bearer"}
    body["scope"] = scope
    return Grant(client, raw_token, scope, expires, json.dumps(body))
