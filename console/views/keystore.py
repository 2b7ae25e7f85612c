"""Keystore pages: list, import by upload, detail, PEM export, delete.

Imports go through ``keystore.services.import_certificate``, the function behind
``manage.py import_cert``: a refused file becomes a form error with the command's
one-line message, and nothing is written (no certificate, no audit line). An alias
that is no client's ID (``keystore.owners``, the command's rule) is refused as the
command refuses it, unless the user ticks "import anyway", which the form offers only
for such an alias. Each URL's
rights are declared in ``console.urls``; replacing a certificate on import needs
``change_certificate`` beside the URL's ``add_certificate``.
"""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods
from oauth2_provider.models import get_application_model

from console import audit, certstatus
from console.access import require, rights_of
from console.forms.keystore import ImportCertificateForm
from console.models import AuditEntry
from console.views.common import now
from keystore import owners, services
from keystore.errors import KeystoreError
from keystore.models import Certificate
from keystore.parsing import MAX_FILE_BYTES


def _client_ids(aliases: list[str]) -> set[str]:
    return set(
        get_application_model()
        .objects.filter(client_id__in=aliases)
        .values_list("client_id", flat=True)
    )


CERTIFICATE_STATUSES = [
    *certstatus.LABELS.items(),
    (certstatus.NO_CLIENT, "No such client"),
]


def certificate_list(request: HttpRequest) -> HttpResponse:
    """Every certificate, or those whose alias (client ID) or subject contains ``q``
    and whose status is ``status``."""
    search = request.GET.get("q", "").strip()[:255]
    wanted = request.GET.get("status", "")
    certificates = Certificate.objects.order_by("alias")
    if search:
        certificates = certificates.filter(
            Q(alias__icontains=search) | Q(subject__icontains=search)
        )
    certificates = list(certificates)
    client_ids = _client_ids([c.alias for c in certificates])
    at = now()
    rows = []
    for certificate in certificates:
        status = certstatus.status(certificate, client_ids=client_ids, now=at)
        if certstatus.matches(status, wanted):
            rows.append({"certificate": certificate, "status": status})
    context = {
        "rows": rows,
        "q": search,
        "status": wanted,
        "filtered": bool(search or wanted),
        "statuses": CERTIFICATE_STATUSES,
    }
    return render(request, "console/keystore/list.html", context)


@require_http_methods(["GET", "POST"])
def certificate_import(request: HttpRequest) -> HttpResponse:
    if "replace" in request.POST:
        require(request, "change_certificate")
    may_replace = rights_of(request)["change_certificate"]
    initial = {"alias": request.GET.get("alias", ""), "replace": bool(request.GET.get("replace"))}
    alias = request.POST.get("alias", "").strip()
    form = ImportCertificateForm(
        request.POST or None,
        request.FILES or None,
        initial=initial,
        may_replace=may_replace,
        offer_force=bool(alias) and not owners.is_known(alias),
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        upload = data["file"]
        replace = data.get("replace", False)
        existed = Certificate.objects.filter(alias=alias).exists()
        try:
            certificate = services.import_certificate(
                alias,
                # One byte past the limit is enough for the parser to refuse it.
                upload.read(MAX_FILE_BYTES + 1),
                password=data["password"] or None,
                keystore_alias=data["keystore_alias"] or None,
                replace=replace,
                owner_required=not data.get("force"),
            )
        except KeystoreError as exc:
            form.refused(upload.name, exc)
        else:
            replaced = existed and replace
            action = AuditEntry.CERT_REPLACE if replaced else AuditEntry.CERT_IMPORT
            detail = f"{certificate.subject}; sha256 {certificate.thumbprint_sha256}"
            audit.record(request, action, alias, detail)
            verb = "Replaced" if replaced else "Imported"
            messages.success(request, f"{verb} the certificate of {alias}.")
            return redirect("console:certificate-detail", pk=certificate.pk)
    return render(request, "console/keystore/import.html", {"form": form})


def certificate_detail(request: HttpRequest, pk: int) -> HttpResponse:
    certificate = get_object_or_404(Certificate, pk=pk)
    provider = get_application_model().objects.filter(client_id=certificate.alias).first()
    client_ids = {provider.client_id} if provider else set()
    context = {
        "certificate": certificate,
        # Whether a client has this ID shows in the status; who it is, only to viewers.
        "provider": provider if rights_of(request)["view_provider"] else None,
        "status": certstatus.status(certificate, client_ids=client_ids, now=now()),
    }
    return render(request, "console/keystore/detail.html", context)


def certificate_export(request: HttpRequest, pk: int) -> HttpResponse:
    certificate = get_object_or_404(Certificate, pk=pk)
    pem = services.export_pem(certificate.alias)
    audit.record(request, AuditEntry.CERT_EXPORT, certificate.alias, "PEM download")
    response = HttpResponse(pem, content_type="application/x-pem-file")
    filename = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in certificate.alias)
    response["Content-Disposition"] = f'attachment; filename="{filename or "certificate"}.pem"'
    return response


@require_http_methods(["GET", "POST"])
def certificate_delete(request: HttpRequest, pk: int) -> HttpResponse:
    certificate = get_object_or_404(Certificate, pk=pk)
    if request.method == "POST":
        alias = certificate.alias
        services.delete_certificate(alias)
        audit.record(
            request, AuditEntry.CERT_DELETE, alias, f"sha256 {certificate.thumbprint_sha256}"
        )
        messages.success(request, f"Deleted the certificate of {alias}.")
        return redirect("console:certificates")
    provider = get_application_model().objects.filter(client_id=certificate.alias).first()
    return render(
        request, "console/keystore/delete.html", {"certificate": certificate, "provider": provider}
    )
