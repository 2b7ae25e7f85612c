"""URL map: OAuth2 endpoints under /oauth2/, discovery, login, and the console."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from clientauth import views as clientauth_views

urlpatterns = [
    path("oauth2/token", clientauth_views.TokenView.as_view(), name="token"),
    path("oauth2/token/", clientauth_views.TokenView.as_view()),
    path("oauth2/introspect", clientauth_views.IntrospectView.as_view(), name="introspect"),
    path("oauth2/revoke", clientauth_views.RevokeView.as_view(), name="revoke"),
    path("", include("oidc.urls")),
    path("console/", include("console.urls")),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
]
