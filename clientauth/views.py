"""Token, introspection and revocation endpoints: DOT's views behind the gate.

RFC 6749 section 3.2, RFC 7662, RFC 7009. All three authenticate clients the same way
(``clientauth.gate``), so every rule about assertions holds at each of them.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_not_required
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.debug import sensitive_post_parameters
from oauth2_provider import views as dot

from clientauth.gate import ClientAuthGateMixin

_SENSITIVE = ("client_secret", "client_assertion", "code", "refresh_token", "token", "password")
_decorators = [csrf_exempt, login_not_required, sensitive_post_parameters(*_SENSITIVE)]


@method_decorator(_decorators, name="dispatch")
class TokenView(ClientAuthGateMixin, dot.TokenView):
    endpoint = "token"


@method_decorator(_decorators, name="dispatch")
class IntrospectView(ClientAuthGateMixin, dot.IntrospectTokenView):
    endpoint = "introspect"
    bearer_allowed = True


@method_decorator(_decorators, name="dispatch")
class RevokeView(ClientAuthGateMixin, dot.RevokeTokenView):
    endpoint = "revoke"
