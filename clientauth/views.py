"""Token, introspection and revocation endpoints: DOT's views behind the gate.

RFC 6749 section 3.2, RFC 7662, RFC 7009. All three authenticate clients the same way
(``clientauth.gate``), so every rule about assertions holds at each of them.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_not_required
from django.http import HttpResponse
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.debug import sensitive_post_parameters
from oauth2_provider import views as dot
from oauth2_provider.signals import app_authorized

from clientauth import grants
from clientauth.constants import VERIFIED_CLIENT_ENVIRON_KEY
from clientauth.gate import ClientAuthGateMixin, error_response

_SENSITIVE = ("client_secret", "client_assertion", "code", "refresh_token", "token", "password")
_decorators = [csrf_exempt, login_not_required, sensitive_post_parameters(*_SENSITIVE)]


@method_decorator(_decorators, name="dispatch")
class TokenView(ClientAuthGateMixin, dot.TokenView):
    endpoint = "token"

    def post(self, request, *args, **kwargs):
        authenticated = request.META.get(VERIFIED_CLIENT_ENVIRON_KEY)
        if authenticated is not None and grants.handles(request.POST):
            return grants.issue(request, authenticated.client)
        return super().post(request, *args, **kwargs)

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
class IntrospectView(ClientAuthGateMixin, dot.IntrospectTokenView):
    endpoint = "introspect"
    bearer_allowed = True

    def dispatch(self, request, *args, **kwargs):
        response = super().dispatch(request, *args, **kwargs)
        if response.status_code == 403 and request.method == "POST":
            # DOT refuses a bearer token without the introspection scope with an empty
            # 403; RFC 6750 section 3.1 asks for 401 invalid_token.
            response = error_response("invalid_token", "The access token is invalid.", 401)
            response["WWW-Authenticate"] = 'Bearer error="invalid_token"'
        return response


@method_decorator(_decorators, name="dispatch")
class RevokeView(ClientAuthGateMixin, dot.RevokeTokenView):
    endpoint = "revoke"
