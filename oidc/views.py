"""HTTP views of the oidc app: discovery, JWKS, userinfo, and the authorize page.

Discovery (OIDC Discovery section 4) and the JWKS (RFC 7517 section 5) are public
and cacheable for a short while: the JWKS briefly, so a rotated key is fetched soon
after it signs its first ID token. Userinfo (OIDC Core section 5.3) is DOT's view with
``Cache-Control: no-store``. The authorization endpoint is DOT's, behind Django's
login; PKCE S256 is enforced by ``oidc.validator``. Routed by ``oidc.urls``.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.cache import patch_cache_control
from django.views import View
from oauth2_provider.views import AuthorizationView as DotAuthorizationView
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


class UserInfoView(DotUserInfoView):
    def dispatch(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        response = super().dispatch(request, *args, **kwargs)
        response["Cache-Control"] = "no-store"
        return response


class AuthorizationView(DotAuthorizationView):
    template_name = "oauth2_provider/authorize.html"
