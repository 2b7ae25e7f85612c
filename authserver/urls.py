"""URL map: OAuth2 endpoints under /oauth2/, discovery, login, the console, a front page,
health probes."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView

from authserver import health, views
from clientauth import views as clientauth_views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("favicon.ico", RedirectView.as_view(url=static("console/favicon.svg"))),
    path("oauth2/token", clientauth_views.TokenView.as_view(), name="token"),
    path("oauth2/token/", clientauth_views.TokenView.as_view()),
    path("oauth2/introspect", clientauth_views.IntrospectView.as_view(), name="introspect"),
    path("oauth2/revoke", clientauth_views.RevokeView.as_view(), name="revoke"),
    path("", include("oidc.urls")),
    path("console/", include("console.urls")),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    # The console's own signed-out page, not the admin's ("Thanks for spending...").
    path(
        "accounts/logout/",
        auth_views.LogoutView.as_view(template_name="registration/signed_out.html"),
        name="logout",
    ),
    path("admin/", admin.site.urls),
]
