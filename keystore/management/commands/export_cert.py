"""``manage.py export_cert``: write an alias's certificate as PEM, to stdout or a file."""

from __future__ import annotations

from django.core.management.base import CommandError

from djangokit.commands import BaseCommand
from keystore import services
from keystore.errors import KeystoreError


class Command(BaseCommand):
    help = "Export the certificate imported under ALIAS as PEM."

    def add_arguments(self, parser):
        parser.add_argument("--alias", required=True, help="the client ID it is filed under")
        parser.add_argument("--out", metavar="FILE", help="write here instead of stdout")

    def handle(self, *args, **options):
        try:
            pem = services.export_pem(options["alias"])
        except KeystoreError as exc:
            raise CommandError(str(exc)) from None
        self.audit("cert.export", options["alias"], f"PEM to {options['out'] or 'stdout'}")
        if not options["out"]:
            self.stdout.write(pem, ending="")
            return
        try:
            with open(options["out"], "w", encoding="ascii") as handle:
                handle.write(pem)
        except OSError as exc:
            raise CommandError(f"cannot write --out {options['out']!r}: {exc.strerror}") from None
        self.stdout.write(
            f"Wrote the certificate under alias {options['alias']!r} to {options['out']}"
        )
