"""``manage.py set_key_source``: switch where a client's assertion keys come from.

One of ``--certificate`` (its keystore certificate), ``--jwks FILE`` (an inline JWK
Set) or ``--jwks-uri URL``; validated by ``clientauth.keysources`` as registration
validates, and logged. A refusal changes nothing.
"""

from __future__ import annotations

from django.core.management.base import CommandError

from clientauth import keysources
from clientauth.management.commands.show_keys import application_named
from clientauth.management.jwksfile import read_jwks_file
from djangokit.commands import BaseCommand


class Command(BaseCommand):
    help = "Set a client's key source: its certificate, an inline JWK Set, or a jwks_uri."

    def add_arguments(self, parser):
        parser.add_argument("--client-id", required=True, metavar="ID")
        source = parser.add_mutually_exclusive_group(required=True)
        source.add_argument(
            "--certificate",
            action="store_true",
            help="the certificate imported under the client ID (the default source)",
        )
        source.add_argument("--jwks", metavar="FILE", help="a file holding the client's JWK Set")
        source.add_argument("--jwks-uri", metavar="URL", help="the URL of the client's JWK Set")

    def handle(self, *args, **options):
        application = application_named(options["client_id"])
        if options["jwks"]:
            source, values = keysources.JWKS, {"jwks": read_jwks_file(options["jwks"])}
        elif options["jwks_uri"]:
            source, values = keysources.JWKS_URI, {"jwks_uri": options["jwks_uri"]}
        else:
            source, values = keysources.CERTIFICATE, {}
        try:
            old, new = keysources.set_key_source(application, source, **values)
        except keysources.KeySourceError as exc:
            raise CommandError(str(exc)) from None
        self.audit("sp.key_source", application.client_id, f"{old} -> {new}")
        self.stdout.write(f"Key source of {application.client_id}: {old} -> {new}")
