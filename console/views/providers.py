"""Service provider pages: list, register (secret shown once), detail, edit, delete.

Registration calls ``clientauth.registration.register_service_provider``, the same
function as ``manage.py register_app``. The plaintext secret exists only in the
session between the registration POST and the one page that shows it, which removes
it from the session while rendering; it never appears in a URL.

Each URL's rights are declared in ``console.urls``; a page leaves out what the user may
not see (a certificate needs ``view_certificate``, failures ``view_failure``), and
deleting the certificate with its service provider needs ``delete_certificate`` too.
"""

from __future__ import annotations

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods
from oauth2_provider.models import get_application_model

from clientauth import clients, registration
from clientauth.models import AuthFailure
from console import audit, certstatus
from console.access import require, rights_of
from console.forms.providers import ServiceProviderForm
from console.models import AuditEntry
from console.views.common import no_store, now
from keystore import services as keystore
from keystore.models import Certificate

NEW_SECRET_SESSION_KEY = "console.new_client_secret"
RECENT_FAILURES = 20


def provider_list(request: HttpRequest) -> HttpResponse:
    providers = list(
        get_application_model()
        .objects.select_related("client_metadata")
        .order_by("name", "client_id")
    )
    certificates = {}
    if rights_of(request)["view_certificate"]:
        aliases = [p.client_id for p in providers]
        certificates = Certificate.objects.in_bulk(aliases, field_name="alias")
    at = now()
    client_ids = {p.client_id for p in providers}
    rows = []
    for provider in providers:
        certificate = certificates.get(provider.client_id)
        status = None
        if certificate:
            status = certstatus.status(certificate, client_ids=client_ids, now=at)
        rows.append({"provider": provider, "certificate": certificate, "status": status})
    return render(request, "console/providers/list.html", {"rows": rows})


@require_http_methods(["GET", "POST"])
def provider_register(request: HttpRequest) -> HttpResponse:
    form = ServiceProviderForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            # Owned by no user: an administrator's account going away must not take
            # the clients they registered with it.
            provider, secret = registration.register_service_provider(**form.arguments())
        except registration.RegistrationError as exc:
            form.add_error(None, str(exc))
        else:
            audit.record(
                request,
                AuditEntry.SP_REGISTER,
                provider.client_id,
                f"{provider.name}; {clients.auth_method_of(provider)}",
            )
            request.session[NEW_SECRET_SESSION_KEY] = {"pk": provider.pk, "secret": secret}
            return redirect("console:provider-created", pk=provider.pk)
    return render(request, "console/providers/form.html", {"form": form, "registering": True})


def provider_created(request: HttpRequest, pk: int) -> HttpResponse:
    provider = get_object_or_404(get_application_model(), pk=pk)
    pending = request.session.pop(NEW_SECRET_SESSION_KEY, None)
    secret = pending["secret"] if pending and pending.get("pk") == provider.pk else None
    response = render(
        request, "console/providers/created.html", {"provider": provider, "secret": secret}
    )
    return no_store(response)


def provider_detail(request: HttpRequest, pk: int) -> HttpResponse:
    provider = get_object_or_404(get_application_model(), pk=pk)
    rights = rights_of(request)
    certificate = status = failures = None
    if rights["view_certificate"]:
        certificate = Certificate.objects.filter(alias=provider.client_id).first()
    if certificate:
        status = certstatus.status(certificate, client_ids={provider.client_id}, now=now())
    if rights["view_failure"]:
        failures = AuthFailure.objects.filter(client_id=provider.client_id)[:RECENT_FAILURES]
    metadata = clients.metadata_of(provider)
    context = {
        "provider": provider,
        "callbacks": provider.redirect_uris.split(),
        "grant_types": registration.grant_types_of(provider),
        "scopes": metadata.scope_list if metadata else [],
        "default_scopes": clients.default_client_scopes(),
        "resource_server": bool(metadata and metadata.resource_server),
        "certificate": certificate,
        "status": status,
        "failures": failures,
    }
    return render(request, "console/providers/detail.html", context)


@require_http_methods(["GET", "POST"])
def provider_edit(request: HttpRequest, pk: int) -> HttpResponse:
    provider = get_object_or_404(get_application_model(), pk=pk)
    metadata = clients.metadata_of(provider)
    initial = {
        "name": provider.name,
        "callbacks": "\n".join(provider.redirect_uris.split()),
        "grant_types": registration.grant_types_of(provider),
        "auth_method": clients.auth_method_of(provider),
        "signing_alg": clients.signing_alg_of(provider),
        "scopes": metadata.scope_list if metadata else [],
        "resource_server": bool(metadata and metadata.resource_server),
    }
    form = ServiceProviderForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            registration.update_service_provider(provider, **form.arguments())
        except registration.RegistrationError as exc:
            form.add_error(None, str(exc))
        else:
            changed = ", ".join(form.changed_data) or "nothing"
            audit.record(request, AuditEntry.SP_EDIT, provider.client_id, f"changed: {changed}")
            messages.success(request, f"Saved {provider.name}.")
            return redirect("console:provider-detail", pk=provider.pk)
    context = {"form": form, "provider": provider, "registering": False}
    return render(request, "console/providers/form.html", context)


@require_http_methods(["GET", "POST"])
def provider_delete(request: HttpRequest, pk: int) -> HttpResponse:
    provider = get_object_or_404(get_application_model(), pk=pk)
    certificate = Certificate.objects.filter(alias=provider.client_id).first()
    if request.method == "POST":
        client_id, name = provider.client_id, provider.name
        with_certificate = certificate is not None and request.POST.get("delete_certificate")
        if with_certificate:
            require(request, "delete_certificate")
        with transaction.atomic():
            provider.delete()
            if with_certificate:
                keystore.delete_certificate(client_id)
        detail = f"{name}; certificate deleted too" if with_certificate else name
        audit.record(request, AuditEntry.SP_DELETE, client_id, detail)
        if with_certificate:
            audit.record(request, AuditEntry.CERT_DELETE, client_id, "with its service provider")
        messages.success(request, f"Deleted service provider {name}.")
        return redirect("console:providers")
    context = {"provider": provider, "certificate": certificate}
    return render(request, "console/providers/delete.html", context)
