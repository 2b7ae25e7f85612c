"""URLs of the console, each stating the rights it needs (``console.access``).

Staff is required everywhere; ``needs`` names the model permissions on top. The
checker needs to view service providers and certificates because its verdict reveals
both (which client exists, its method and pinned algorithm, its key's validity).
A client's tokens are part of the service provider: seeing them needs
``view_provider``, revoking them or regenerating its secret ``change_provider``; so are
its JWK Set's keys: fetching its ``jwks_uri`` now needs ``change_provider``.
Rotating the server's signing key needs ``rotate_signing_key`` (``change`` on
``oidc.SigningKey``), which no other right implies.
"""

from __future__ import annotations

from console.access import STAFF_ONLY, console_path
from console.views import credentials, diagnostics, home, keystore, providers, signing

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
        "providers/<int:pk>/fetch-keys/",
        providers.provider_fetch_keys,
        "provider-fetch-keys",
        needs=("change_provider",),
    ),
    console_path(
        "providers/<int:pk>/secret/",
        credentials.provider_secret,
        "provider-secret",
        needs=("change_provider",),
    ),
    console_path(
        "providers/<int:pk>/tokens/",
        credentials.provider_tokens,
        "provider-tokens",
        needs=("view_provider",),
    ),
    console_path(
        "providers/<int:pk>/tokens/revoke/",
        credentials.provider_tokens_revoke,
        "provider-tokens-revoke",
        needs=("change_provider",),
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
    console_path(
        "signing-keys/", signing.signing_keys, "signing-keys", needs=("view_signing_key",)
    ),
    console_path(
        "signing-keys/rotate/",
        signing.rotate,
        "signing-key-rotate",
        needs=("rotate_signing_key",),
    ),
]
