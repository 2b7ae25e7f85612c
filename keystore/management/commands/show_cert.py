"""``manage.py show_cert``: the facts stored for one alias's certificate."""

from __future__ import annotations

from django.core.management.base import CommandError

from djangokit.commands import BaseCommand
from keystore import services
from keystore.errors import KeystoreError


class Command(BaseCommand):
    help = "Show the certificate imported under ALIAS."

    def add_arguments(self, parser):
        parser.add_argument("--alias", required=True, help="the client ID it is filed under")

    def handle(self, *args, **options):
        try:
            certificate = services.get_certificate(options["alias"])
        except KeystoreError as exc:
            raise CommandError(str(exc)) from None
        for label, value in (
            ("Alias", certificate.alias),
            ("Subject", certificate.subject),
            ("Issuer", certificate.issuer),
            ("Serial", certificate.serial),
            ("Not before", f"{certificate.not_before:%Y-%m-%d %H:%M:%S} UTC"),
            ("Not after", f"{certificate.not_after:%Y-%m-%d %H:%M:%S} UTC"),
            ("Key", f"{certificate.key_type} {certificate.key_size}"),
            ("SHA-256", certificate.thumbprint_sha256),
        ):
            self.stdout.write(f"{label + ':':<12}{value}")
