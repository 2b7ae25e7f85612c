"""``manage.py list_certs``: one line per imported certificate, by alias, then the
expiry warnings (``keystore.W001``/``W002``) on stderr, one line each."""

from __future__ import annotations

from djangokit.commands import BaseCommand
from keystore import services
from keystore.checks import expiry_warnings


class Command(BaseCommand):
    help = (
        "List the imported certificates: alias, key, expiry, SHA-256 thumbprint, subject; "
        "warn about those expired or expiring within 30 days."
    )

    def handle(self, *args, **options):
        for certificate in services.list_certificates():
            self.stdout.write(
                f"{certificate.alias}\t{certificate.key_type} {certificate.key_size}\t"
                f"{certificate.not_after:%Y-%m-%d}\t{certificate.thumbprint_sha256}\t"
                f"{certificate.subject}"
            )
        for warning in expiry_warnings():
            self.stderr.write(f"warning: {warning.msg} ({warning.id})")
