"""The authorization endpoint (RFC 6749 section 4.1.1, OIDC Core 3.1.2): DOT's view behind
Django's login, with the ``prompt`` values discovery advertises, ``max_age``, and ``iss``
on errors.

- Every answer sent to the redirect URI, errors included, carries ``iss`` (RFC 9207)
  while ``COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS`` is on; DOT adds it to codes only.
- ``prompt=none`` never shows a page. The request is validated first, so an unknown
  client or an unregistered redirect URI gets the error page and is never redirected
  to (OIDC Core 3.1.2.6); then a visitor who is not signed in gets ``login_required``
  and a user who has not consented (``oidc.consent``) ``consent_required``, both at the
  redirect URI with ``state`` and ``iss``; anyone else gets a code.
- ``prompt=login``, and ``max_age`` when the user signed in longer ago than that
  (OIDC Core 3.1.2.1; after the same validation), end the session and send the user
  to the login page, back here without ``prompt`` and ``max_age``: a signed-in user
  cannot skip the login by coming straight back, because the session is gone, and the
  ID token's ``auth_time`` is the new login. With ``prompt=none`` a sign-in older than
  ``max_age`` is ``login_required``.

Deliberately not here: other ``prompt`` values (not advertised: ``consent`` is what
every interactive request gets anyway, ``create`` is DOT's 400), ``id_token_hint``.
Parameter bounds are ``oidc.params``'s, applied by ``oidc.validator``. Routed by
``oidc.urls``.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import resolve_url
from django.utils import timezone
from oauth2_provider.exceptions import OAuthToolkitError
from oauth2_provider.models import get_application_model
from oauth2_provider.settings import oauth2_settings
from oauth2_provider.views import AuthorizationView as DotAuthorizationView
from oauthlib.openid.connect.core.exceptions import ConsentRequired, LoginRequired

from oidc import params
from oidc.consent import has_consented, signed_in_within


def prompt_values(request: HttpRequest) -> set[str]:
    """``prompt``: space-delimited, case-sensitive values (OIDC Core 3.1.2.1)."""
    return set(request.GET.get("prompt", "").split())


def with_issuer(uri: str, issuer: str) -> str:
    """``uri`` with exactly one ``iss`` in its query (RFC 9207 section 2)."""
    parts = urlsplit(uri)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "iss"]
    return urlunsplit(parts._replace(query=urlencode([*query, ("iss", issuer)])))


class AuthorizationView(DotAuthorizationView):
    template_name = "oauth2_provider/authorize.html"

    def handle_no_permission(self) -> HttpResponse:
        prompt = prompt_values(self.request)
        if "none" in prompt:
            return self.silent(self.request)
        if "login" in prompt or "max_age" in self.request.GET:
            return self.login_page()
        return super().handle_no_permission()

    def get(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        prompt = prompt_values(request)
        if "none" in prompt:
            return self.silent(request)
        if "login" in prompt or not self.signed_in_within_max_age(request):
            return self.reauthenticate(request)
        return super().get(request, *args, **kwargs)

    def signed_in_within_max_age(self, request: HttpRequest) -> bool:
        max_age = request.GET.get("max_age")
        if max_age is not None and not params.is_max_age(max_age):
            return True  # refused as invalid_request by the validation that follows
        return signed_in_within(request.user, max_age, timezone.now())

    def silent(self, request: HttpRequest) -> HttpResponse:
        """``prompt=none``: a code, ``login_required`` or ``consent_required``."""
        try:
            scopes, credentials = self.validate_authorization_request(request)
        except OAuthToolkitError as error:
            return self.error_response(error, application=None)
        application = get_application_model().objects.get(client_id=credentials["client_id"])
        refusal = None
        if not request.user.is_authenticated or not self.signed_in_within_max_age(request):
            refusal = LoginRequired
        elif not has_consented(request.user, application, scopes, timezone.now()):
            refusal = ConsentRequired
        if refusal is not None:
            error = OAuthToolkitError(
                error=refusal(state=credentials.get("state")),
                redirect_uri=credentials["redirect_uri"],
            )
            return self.error_response(error, application)
        if isinstance(credentials.get("ui_locales"), list):
            credentials["ui_locales"] = " ".join(credentials["ui_locales"])
        try:
            uri, _, _, _ = self.create_authorization_response(
                request=request, scopes=" ".join(scopes), credentials=credentials, allow=True
            )
        except OAuthToolkitError as error:
            return self.error_response(error, application)
        return self.redirect(uri, application)

    def reauthenticate(self, request: HttpRequest) -> HttpResponse:
        """``prompt=login``: a valid request ends the session and goes to the login page."""
        try:
            self.validate_authorization_request(request)
        except OAuthToolkitError as error:
            return self.error_response(error, application=None)
        logout(request)
        return self.login_page()

    def login_page(self) -> HttpResponse:
        """The login page, coming back to this request without ``prompt`` and ``max_age``
        (the login just made satisfies both)."""
        request = self.request
        query = [
            (name, value)
            for name, value in parse_qsl(request.META.get("QUERY_STRING", ""), True)
            if name not in ("prompt", "max_age")
        ]
        return redirect_to_login(
            f"{request.path}?{urlencode(query)}",
            resolve_url(self.get_login_url()),
            self.get_redirect_field_name(),
        )

    def redirect(self, redirect_to: str, application) -> HttpResponse:
        if oauth2_settings.COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS:
            issuer = oauth2_settings.oauth2_authorization_server_issuer(self.request)
            redirect_to = with_issuer(redirect_to, issuer)
        return super().redirect(redirect_to, application)
