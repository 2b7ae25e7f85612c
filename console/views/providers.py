"""Service provider pages: list, register (secret shown once), detail, edit, delete.

Registration calls ``clientauth.registration.register_service_provider``, the same
function as ``manage.py register_app``. The plaintext secret exists only in the
session between the registration POST and the one page that shows it, which removes
it from the session while rendering; it never appears in a URL.

Each URL's rights are declared in ``console.urls``; a page leaves out what the user may
not see (a certificate needs ``view_certificate``, failures ``view_failure``), and
deleting the certificate with its service provider needs ``delete_certificate`` too.

The key source (``clientauth.keysources``) is chosen on the form; an edit that changes
it, or the inline JWK Set or the ``jwks_uri``, switches through
``keysources.set_key_source`` in the same transaction as the other fields and is
audited once as ``sp.key_source``. The detail page reports the keys in use as
``keysources.current_keys`` does (for a ``jwks_uri``, what the shared cache holds:
showing the page never fetches); "Fetch now" (``provider_fetch_keys``) fetches at once,
as ``show_keys --fetch`` does, and like it changes no setting, so is not audited.
"""

from __future__ import annotations

import json

from django.contrib import messages
from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST
from oauth2_provider.models import get_application_model

from clientauth import clients, credentials, jwk, keysources, registration
from clientauth.models import AuthFailure, ClientJwks
from console import audit, certstatus
from console.access import require, rights_of
from console.forms.providers import KEY_SOURCE_CHOICES, ServiceProviderForm
from console.models import AuditEntry
from console.views.common import no_store, now
from keystore import services as keystore
from keystore.models import Certificate

NEW_SECRET_SESSION_KEY = "console.new_client_secret"
RECENT_FAILURES = 20
PROVIDER_STATUSES = [
    *certstatus.LABELS.items(),
    (certstatus.NO_CERTIFICATE, "No certificate"),
]


def provider_list(request: HttpRequest) -> HttpResponse:
    """Every service provider, or those whose name or client ID contains ``q`` and whose
    certificate has the status ``status``."""
    search = request.GET.get("q", "").strip()[:255]
    wanted = request.GET.get("status", "")
    providers = get_application_model().objects.select_related("client_metadata")
    if search:
        providers = providers.filter(Q(name__icontains=search) | Q(client_id__icontains=search))
    providers = list(providers.order_by("name", "client_id"))
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
        if rights_of(request)["view_certificate"] and not certstatus.matches(status, wanted):
            continue
        rows.append({"provider": provider, "certificate": certificate, "status": status})
    context = {
        "rows": rows,
        "q": search,
        "status": wanted,
        "filtered": bool(search or wanted),
        "statuses": PROVIDER_STATUSES,
    }
    return render(request, "console/providers/list.html", context)


@require_http_methods(["GET", "POST"])
def provider_register(request: HttpRequest) -> HttpResponse:
    form = ServiceProviderForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            # Owned by no user: an administrator's account going away must not take
            # the clients they registered with it.
            provider, secret = registration.register_service_provider(
                **form.arguments(), **form.key_source_arguments()
            )
        except registration.RegistrationError as exc:
            form.add_error(None, str(exc))
        else:
            audit.record(
                request,
                AuditEntry.SP_REGISTER,
                provider.client_id,
                f"{provider.name}; {clients.auth_method_of(provider)}" + _keys_detail(provider),
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
    key_source = keysources.source_of(provider)
    context = {
        "key_source": key_source,
        "key_source_label": dict(KEY_SOURCE_CHOICES)[key_source],
        "keys": _keys_report(provider, key_source),
        "checked_at": now(),
        "provider": provider,
        "callbacks": provider.redirect_uris.split(),
        "grant_types": registration.grant_types_of(provider),
        "scopes": metadata.scope_list if metadata else [],
        "default_scopes": clients.default_client_scopes(),
        "resource_server": bool(metadata and metadata.resource_server),
        "certificate": certificate,
        "status": status,
        "failures": failures,
        "live_tokens": credentials.live_tokens(provider, now=now(), limit=0),
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
        **_key_source_initial(provider, metadata),
    }
    form = ServiceProviderForm(request.POST or None, request.FILES or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        prepared = form.key_source_prepared
        switch = prepared is not None and _key_switch(metadata, prepared)
        try:
            with transaction.atomic():
                registration.update_service_provider(provider, **form.arguments())
                if switch:
                    old, new = keysources.set_key_source(
                        provider, form.cleaned_data["key_source"], **form.key_source_arguments()
                    )
        except (registration.RegistrationError, keysources.KeySourceError) as exc:
            form.add_error(None, str(exc))
        else:
            changed = [name for name in form.changed_data if name not in KEY_SOURCE_FIELDS]
            if changed or not switch:
                detail = f"changed: {', '.join(changed) or 'nothing'}"
                audit.record(request, AuditEntry.SP_EDIT, provider.client_id, detail)
            if switch:
                detail = f"{old} -> {new}{_keys_detail(provider)}"
                audit.record(request, AuditEntry.SP_KEY_SOURCE, provider.client_id, detail)
            messages.success(request, f"Saved {provider.name}.")
            return redirect("console:provider-detail", pk=provider.pk)
    context = {"form": form, "provider": provider, "registering": False}
    return render(request, "console/providers/form.html", context)


KEY_SOURCE_FIELDS = ("key_source", "jwks", "jwks_file", "jwks_uri")
KEY_SOURCE_COLUMNS = ("key_source", "jwks_uri", "jwks_sha256")


def _keys_report(provider, key_source: str) -> keysources.KeysReport | None:
    """The keys the detail page lists; None for a certificate, whose key is shown with
    the certificate (``view_certificate``)."""
    if key_source == keysources.CERTIFICATE:
        return None
    try:
        return keysources.current_keys(provider)
    except jwk.JwksError as exc:  # stored under older rules: say so, not a 500
        uri = clients.metadata_of(provider).jwks_uri
        return keysources.KeysReport(key_source, jwks_uri=uri, notes=(f"refused now: {exc}",))


def _key_source_initial(provider, metadata) -> dict:
    """The edit form's key-source fields as the client has them: its set, pretty."""
    if metadata is None:
        return {"key_source": keysources.CERTIFICATE}
    initial = {"key_source": metadata.key_source, "jwks_uri": metadata.jwks_uri}
    if metadata.key_source == keysources.JWKS:
        stored = ClientJwks.objects.filter(application_id=provider.pk).first()
        if stored is not None:
            initial["jwks"] = json.dumps(json.loads(stored.jwks), indent=2)
    return initial


def _key_switch(metadata, prepared: dict) -> bool:
    """Whether ``prepared`` (``keysources.prepare``) changes the client's keys."""
    if metadata is None:
        return prepared["key_source"] != keysources.CERTIFICATE
    return any(getattr(metadata, name) != prepared[name] for name in KEY_SOURCE_COLUMNS)


def _keys_detail(provider) -> str:
    """The audit detail's words for a JWK Set source ("" for the certificate)."""
    metadata = clients.metadata_of(provider)
    if metadata is None or metadata.key_source == keysources.CERTIFICATE:
        return ""
    if metadata.key_source == keysources.JWKS_URI:
        return f"; jwks_uri {metadata.jwks_uri}"
    return f"; jwks sha256 {metadata.jwks_sha256[:16]}"


@require_POST
def provider_fetch_keys(request: HttpRequest, pk: int) -> HttpResponse:
    """Fetch a ``jwks_uri`` client's JWK Set now; the outcome shows on the detail page."""
    provider = get_object_or_404(get_application_model(), pk=pk)
    try:
        report = keysources.fetch_now(provider)
    except keysources.KeySourceError as exc:
        messages.error(request, f"Not fetched: {exc}.")
    else:
        if report.last_error:
            kept = " The client has no usable keys."
            if report.keys:
                until = f"{report.usable_until:%Y-%m-%d %H:%M:%S}"
                kept = f" The keys fetched before stay in use until {until} UTC."
            messages.error(request, f"The fetch failed: {report.last_error}.{kept}")
        else:
            count = len(report.keys)
            messages.success(
                request, f"Fetched {count} key{'s' if count != 1 else ''} from {report.jwks_uri}."
            )
    return redirect(reverse("console:provider-detail", args=[provider.pk]) + "#keys")


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
