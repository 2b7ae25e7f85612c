"""HTTP views of the oidc app: discovery, JWKS and userinfo (the authorize page is
``oidc.authorize``'s).

Discovery (OIDC Discovery section 4) and the JWKS (RFC 7517 section 5) are public
and cacheable for a short while: the JWKS briefly, so a rotated key is fetched soon
after it signs its first ID token. Userinfo (OIDC Core section 5.3) is DOT's view with
``Cache-Control: no-store``. Routed by ``oidc.urls``.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.cache import patch_cache_control
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.csrf import csrf_exempt
from oauth2_provider.views import UserInfoView as DotUserInfoView

from oidc import keys
from oidc.discovery import provider_metadata

DISCOVERY_MAX_AGE_SECONDS = 300
JWKS_MAX_AGE_SECONDS = 60


class DiscoveryView(View):
    def get(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        response = JsonResponse(provider_metadata())
        response["Access-Control-Allow-Origin"] = "*"
        patch_cache_control(response, public=True, max_age=DISCOVERY_MAX_AGE_SECONDS)
        return response


class JwksView(View):
    def get(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        response = JsonResponse({"keys": [key.public_jwk() for key in keys.published_keys()]})
        response["Access-Control-Allow-Origin"] = "*"
        patch_cache_control(response, public=True, max_age=JWKS_MAX_AGE_SECONDS)
        return response


@method_decorator(csrf_exempt, name="dispatch")
class UserInfoView(DotUserInfoView):
    """DOT's userinfo, GET and POST alike (OIDC Core 5.3.1), never cached, and with the
    access token in the ``Authorization`` header or a form body only: one in the URL
    query is refused (RFC 9700 section 4.3.2, RFC 6750 section 2.3)."""

    def dispatch(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if "access_token" in request.GET:
            response = JsonResponse(
                {
                    "error": "invalid_request",
                    "error_description": "The access token must not be sent in the URL.",
                },
                status=400,
            )
            response["WWW-Authenticate"] = 'Bearer error="invalid_request"'
        else:
            response = super().dispatch(request, *args, **kwargs)
            if response.status_code >= 400 and response.content.startswith(b"{"):
                # DOT renders oauthlib's JSON error without saying it is JSON.
                response["Content-Type"] = "application/json"
        response["Cache-Control"] = "no-store"
        return response
