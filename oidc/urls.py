"""URLs of the oidc app: authorize, JWKS, userinfo and both discovery locations."""

from __future__ import annotations

from django.urls import path

from oidc import authorize, views

discovery = views.DiscoveryView.as_view()

urlpatterns = [
    path("oauth2/authorize", authorize.AuthorizationView.as_view(), name="authorize"),
    path("oauth2/authorize/", authorize.AuthorizationView.as_view()),
    path("oauth2/jwks", views.JwksView.as_view(), name="jwks-info"),
    path("oauth2/userinfo", views.UserInfoView.as_view(), name="user-info"),
    path(".well-known/openid-configuration", discovery, name="oidc-connect-discovery-info"),
    path("oauth2/token/.well-known/openid-configuration", discovery),
]
