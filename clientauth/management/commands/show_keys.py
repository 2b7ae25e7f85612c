"""``manage.py show_keys``: the keys a client authenticates with, and where they come from.

One line per key (kid, type, algorithm, use, RFC 7638 SHA-256 thumbprint) after the
source; for a ``jwks_uri``, when it was fetched, until when the keys are used, and the
last fetch error. ``--fetch`` fetches a ``jwks_uri`` first (``keysources.fetch_now``);
``--json`` prints one JSON object.
"""

from __future__ import annotations

import dataclasses
import json

from django.core.management.base import CommandError
from oauth2_provider.models import get_application_model

from clientauth import keysources
from djangokit.commands import BaseCommand


def application_named(client_id: str):
    """The application with ``client_id``, or ``CommandError`` naming it."""
    found = get_application_model().objects.filter(client_id=client_id).first()
    if found is None:
        raise CommandError(f"--client-id: no client {client_id[:255]!r}")
    return found


def _when(value) -> str:
    return value.isoformat(timespec="seconds") if value else "-"


class Command(BaseCommand):
    help = "Show a client's key source and current keys."

    def add_arguments(self, parser):
        parser.add_argument("--client-id", required=True, metavar="ID")
        parser.add_argument("--fetch", action="store_true", help="fetch a jwks_uri first")
        parser.add_argument("--json", action="store_true", help="print one JSON object")

    def handle(self, *args, **options):
        application = application_named(options["client_id"])
        try:
            if options["fetch"]:
                report = keysources.fetch_now(application)
            else:
                report = keysources.current_keys(application)
        except keysources.KeySourceError as exc:
            raise CommandError(f"--fetch: {exc}") from None
        if options["json"]:
            self.stdout.write(json.dumps(dataclasses.asdict(report), default=str))
            return
        source = report.source + (f" {report.jwks_uri}" if report.jwks_uri else "")
        self.stdout.write(f"Source: {source}")
        if report.source == keysources.JWKS_URI:
            self.stdout.write(
                f"Fetched: {_when(report.fetched_at)}  fresh until: {_when(report.fresh_until)}"
                f"  used until: {_when(report.usable_until)}"
            )
            if report.last_error:
                when = _when(report.last_error_at)
                self.stdout.write(f"Last error ({when}): {report.last_error}")
        for note in report.notes:
            self.stdout.write(f"Note: {note}")
        for key in report.keys:
            self.stdout.write(
                f"kid={key.kid or '-'} kty={key.kty} alg={key.alg or '-'} use={key.use or '-'} "
                f"sha256={key.thumbprint}"
            )
        if options["fetch"] and report.last_error:
            raise CommandError(f"fetch failed: {report.last_error}")
