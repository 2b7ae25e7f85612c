"""URLs of the console, each stating the rights it needs (``console.access``).

Staff is required everywhere; ``needs`` names the model permissions on top. The
checker needs to view service providers and certificates because its verdict reveals
both (which client exists, its method and pinned algorithm, its key's validity).
"""

from __future__ import annotations

from console.access import STAFF_ONLY, console_path
from console.views import diagnostics, home, keystore, providers

app_name = "console"

urlpatterns = [
    console_path("", home.home, "home", needs=STAFF_ONLY),
    console_path("providers/", providers.provider_list, "providers", needs=("view_provider",)),
    console_path(
        "providers/new/", providers.provider_register, "provider-register", needs=("add_provider",)
    ),
    console_path(
        "providers/<int:pk>/",
        providers.provider_detail,
        "provider-detail",
        needs=("view_provider",),
    ),
    console_path(
        "providers/<int:pk>/created/",
        providers.provider_created,
        "provider-created",
        needs=("add_provider",),
    ),
    console_path(
        "providers/<int:pk>/edit/",
        providers.provider_edit,
        "provider-edit",
        needs=("change_provider",),
    ),
    console_path(
        "providers/<int:pk>/delete/",
        providers.provider_delete,
        "provider-delete",
        needs=("delete_provider",),
    ),
    console_path(
        "keystore/", keystore.certificate_list, "certificates", needs=("view_certificate",)
    ),
    console_path(
        "keystore/import/",
        keystore.certificate_import,
        "certificate-import",
        needs=("add_certificate",),
    ),
    console_path(
        "keystore/<int:pk>/",
        keystore.certificate_detail,
        "certificate-detail",
        needs=("view_certificate",),
    ),
    console_path(
        "keystore/<int:pk>/export/",
        keystore.certificate_export,
        "certificate-export",
        needs=("view_certificate",),
    ),
    console_path(
        "keystore/<int:pk>/delete/",
        keystore.certificate_delete,
        "certificate-delete",
        needs=("delete_certificate",),
    ),
    console_path("failures/", diagnostics.failure_list, "failures", needs=("view_failure",)),
    console_path(
        "checker/",
        diagnostics.checker,
        "checker",
        needs=("view_provider", "view_certificate"),
    ),
    console_path("audit/", diagnostics.audit_list, "audit", needs=("view_audit",)),
]
