"""URLs of the console, every one behind ``console.access.staff_required``."""

from __future__ import annotations

from django.urls import path
from django.views.generic import RedirectView

from console.access import staff_required
from console.views import diagnostics, keystore, providers

app_name = "console"


def _staff(route: str, view, name: str):
    return path(route, staff_required(view), name=name)


urlpatterns = [
    _staff("", RedirectView.as_view(pattern_name="console:providers"), "home"),
    _staff("providers/", providers.provider_list, "providers"),
    _staff("providers/new/", providers.provider_register, "provider-register"),
    _staff("providers/<int:pk>/", providers.provider_detail, "provider-detail"),
    _staff("providers/<int:pk>/created/", providers.provider_created, "provider-created"),
    _staff("providers/<int:pk>/edit/", providers.provider_edit, "provider-edit"),
    _staff("providers/<int:pk>/delete/", providers.provider_delete, "provider-delete"),
    _staff("keystore/", keystore.certificate_list, "certificates"),
    _staff("keystore/import/", keystore.certificate_import, "certificate-import"),
    _staff("keystore/<int:pk>/", keystore.certificate_detail, "certificate-detail"),
    _staff("keystore/<int:pk>/export/", keystore.certificate_export, "certificate-export"),
    _staff("keystore/<int:pk>/delete/", keystore.certificate_delete, "certificate-delete"),
    _staff("failures/", diagnostics.failure_list, "failures"),
    _staff("checker/", diagnostics.checker, "checker"),
    _staff("audit/", diagnostics.audit_list, "audit"),
]
