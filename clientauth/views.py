"""Token, introspection and revocation endpoints: DOT's own views, with JSON errors.

RFC 6749 section 3.2, RFC 7662, RFC 7009. Clients are authenticated by DOT, through
``clientauth.backends`` and ``clientauth.validator``, the same way at each endpoint.
What these subclasses add is the answer a client of an API expects where DOT would
give a page: a request of the wrong shape is a JSON 400 before DOT parses it (the
backend's check, made early), an unexpected exception is a JSON 500 (``server_error``) with its
traceback in the ``django.request`` log, a database that cannot answer is a JSON 503,
and a client refused at introspection gets the contract's 401 rather than DOT's bare
403.

Who may introspect what (RFC 7662 sections 2.1 and 4): a client learns about its own
tokens, and a client registered as a resource server
(``ClientMetadata.resource_server``) about every client's. Anyone else gets
``{"active": false}`` for a token of another client, the answer for a token that does
not exist, so an introspection tells nothing about other clients' tokens.
"""

from __future__ import annotations

import hashlib
import logging
import sys

from django.contrib.auth.decorators import login_not_required
from django.core import signals
from django.core.exceptions import BadRequest, PermissionDenied, SuspiciousOperation
from django.db import DatabaseError
from django.http import Http404, HttpResponse, JsonResponse
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.debug import sensitive_post_parameters
from oauth2_provider import views as dot
from oauth2_provider.models import get_access_token_model
from oauth2_provider.signals import app_authorized
from oauthlib.oauth2.rfc6749.errors import OAuth2Error

from clientauth import backends, clients
from clientauth.constants import NO_STORE_HEADERS

request_log = logging.getLogger("django.request")
log = logging.getLogger("clientauth")

_SENSITIVE = ("client_secret", "client_assertion", "code", "refresh_token", "token", "password")
_decorators = [csrf_exempt, login_not_required, sensitive_post_parameters(*_SENSITIVE)]
# Exceptions Django itself turns into their 4xx answers.
_DJANGO_ANSWERS = (Http404, PermissionDenied, BadRequest, SuspiciousOperation)


def error_response(error: str, description: str, status: int) -> JsonResponse:
    response = JsonResponse({"error": error, "error_description": description}, status=status)
    for name, value in NO_STORE_HEADERS.items():
        response[name] = value
    return response


def oauth_error_response(error: OAuth2Error) -> JsonResponse:
    """``error`` as a client endpoint's JSON answer, with the error's own headers (the
    challenge of a 401) and ``Retry-After`` on a 503."""
    response = error_response(error.error, error.description, error.status_code)
    for name, value in error.headers.items():
        response[name] = value
    if error.status_code == 503:
        response["Retry-After"] = "1"
    return response


def unavailable() -> JsonResponse:
    log.error("database unavailable at a client endpoint")
    response = error_response(
        "temporarily_unavailable", "The server is temporarily unavailable.", 503
    )
    response["Retry-After"] = "1"
    return response


class ClientEndpointMixin:
    """A client endpoint's answers as JSON: a request of the wrong shape (read before DOT
    parses the body, which would raise Django's HTML 400 for some), and exceptions,
    logged as Django logs a 500."""

    endpoint = "token"  # names the endpoint in logs and failure records

    def dispatch(self, request, *args, **kwargs):
        refused = backends.shape_refusal(request, self.endpoint)
        if refused is not None:
            return oauth_error_response(refused)
        try:
            return super().dispatch(request, *args, **kwargs)
        except _DJANGO_ANSWERS:
            raise
        except DatabaseError:
            return unavailable()
        except Exception:
            signals.got_request_exception.send(sender=None, request=request)
            request_log.error(
                "Internal Server Error: %s",
                request.path,
                exc_info=sys.exc_info(),
                extra={"status_code": 500, "request": request},
            )
            response = JsonResponse({"error": "server_error"}, status=500)
            response["Cache-Control"] = "no-store"
            response._has_been_logged = True  # logged above, with the traceback
            return response


@method_decorator(_decorators, name="dispatch")
class TokenView(ClientEndpointMixin, dot.TokenView):
    http_method_names = ["post", "options"]

    def authorization_flow_token_response(self, request, *args, **kwargs):
        # DOT reads the new access token back only to send app_authorized; without a
        # listener that query is a fifth of the endpoint's cost.
        if app_authorized.has_listeners():
            return super().authorization_flow_token_response(request, *args, **kwargs)
        url, headers, body, status = self.create_token_response(request)
        response = HttpResponse(content=body, status=status)
        for name, value in headers.items():
            response[name] = value
        return response


@method_decorator(_decorators, name="dispatch")
class IntrospectView(ClientEndpointMixin, dot.IntrospectTokenView):
    endpoint = "introspect"
    http_method_names = ["post", "options"]

    def dispatch(self, request, *args, **kwargs):
        response = super().dispatch(request, *args, **kwargs)
        if response.status_code != 403 or request.method != "POST":
            return response
        refused = backends.refusal(request)
        if refused is not None:
            return oauth_error_response(refused)
        # DOT refuses a bearer token without the introspection scope with an empty
        # 403; RFC 6750 section 3.1 asks for 401 invalid_token.
        answer = error_response("invalid_token", "The access token is invalid.", 401)
        answer["WWW-Authenticate"] = 'Bearer error="invalid_token"'
        return answer

    def post(self, request, *args, **kwargs):
        token_value = request.POST.get("token")
        if token_value is not None and not may_introspect(backends.caller(request), token_value):
            return JsonResponse({"active": False})
        return super().post(request, *args, **kwargs)


def may_introspect(caller, token_value: str) -> bool:
    """Whether the authenticated ``caller`` may learn about the access token
    ``token_value``: a resource server always; any other client only for its own."""
    if caller is None:
        return False
    if clients.is_resource_server(caller):
        return True
    checksum = hashlib.sha256(token_value.encode("utf-8", "surrogatepass")).hexdigest()
    owner = (
        get_access_token_model()
        .objects.filter(token_checksum=checksum)
        .values_list("application_id", flat=True)
        .first()
    )
    return owner is not None and owner == caller.pk


@method_decorator(_decorators, name="dispatch")
class RevokeView(ClientEndpointMixin, dot.RevokeTokenView):
    endpoint = "revoke"
    http_method_names = ["post", "options"]
