"""A service provider's credentials: regenerate its secret, see and revoke its tokens.

The new secret is made by ``clientauth.credentials.regenerate_secret`` on a POST and
kept in the session only until the page that shows it once (``no-store``), as on
registration; the old secret is refused from the next request. The tokens page lists
the client's live tokens by expiry, never their values; revoking them all asks for
confirmation first. Each change writes one audit line. Rights are declared in
``console.urls``: viewing tokens needs ``view_provider``, changing anything
``change_provider``.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods
from oauth2_provider.models import get_application_model

from clientauth import credentials
from console import audit
from console.models import AuditEntry
from console.views.common import no_store, now

REGENERATED_SECRET_SESSION_KEY = "console.regenerated_client_secret"


@require_http_methods(["GET", "POST"])
def provider_secret(request: HttpRequest, pk: int) -> HttpResponse:
    provider = get_object_or_404(get_application_model(), pk=pk)
    if request.method == "POST":
        secret = credentials.regenerate_secret(provider)
        audit.record(request, AuditEntry.SP_SECRET, provider.client_id, provider.name)
        request.session[REGENERATED_SECRET_SESSION_KEY] = {"pk": provider.pk, "secret": secret}
        return redirect("console:provider-secret", pk=provider.pk)
    pending = request.session.pop(REGENERATED_SECRET_SESSION_KEY, None)
    secret = pending["secret"] if pending and pending.get("pk") == provider.pk else None
    context = {"provider": provider, "secret": secret}
    return no_store(render(request, "console/providers/secret.html", context))


def provider_tokens(request: HttpRequest, pk: int) -> HttpResponse:
    provider = get_object_or_404(get_application_model(), pk=pk)
    at = now()
    context = {"provider": provider, "tokens": credentials.live_tokens(provider, now=at), "now": at}
    return render(request, "console/providers/tokens.html", context)


@require_http_methods(["GET", "POST"])
def provider_tokens_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    provider = get_object_or_404(get_application_model(), pk=pk)
    if request.method == "POST":
        revoked = credentials.revoke_tokens(provider)
        audit.record(request, AuditEntry.SP_REVOKE_TOKENS, provider.client_id, str(revoked))
        messages.success(request, f"Revoked every token of {provider.name}: {revoked}.")
        return redirect("console:provider-tokens", pk=provider.pk)
    context = {"provider": provider, "tokens": credentials.live_tokens(provider, now=now())}
    return render(request, "console/providers/tokens_revoke.html", context)
