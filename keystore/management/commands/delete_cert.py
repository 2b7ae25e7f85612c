"""``manage.py delete_cert``: remove an alias's certificate; its client can no longer
authenticate with a key from it, in every server process, from the next request."""

from __future__ import annotations

from django.core.management.base import CommandError

from djangokit.commands import BaseCommand
from keystore import services
from keystore.errors import KeystoreError


class Command(BaseCommand):
    help = "Delete the certificate imported under ALIAS."

    def add_arguments(self, parser):
        parser.add_argument("--alias", required=True, help="the client ID it is filed under")

    def handle(self, *args, **options):
        try:
            services.delete_certificate(options["alias"])
        except KeystoreError as exc:
            raise CommandError(str(exc)) from None
        self.audit("cert.delete", options["alias"])
        self.stdout.write(f"Deleted the certificate under alias {options['alias']!r}")
