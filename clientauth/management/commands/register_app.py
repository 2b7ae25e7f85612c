"""``manage.py register_app``: register a service provider and print its credentials.

Prints "OAuth Client Key" and "OAuth Client Secret" as WSO2's console shows them, or,
with ``--json``, one JSON object with ``client_id`` and ``client_secret``. All
validation is ``clientauth.registration``'s, shared with the console. ``--jwks-uri`` or
``--jwks FILE`` register the client's keys as a JWK Set instead of a certificate.
"""

from __future__ import annotations

import json

from django.core.management.base import CommandError

from clientauth import registration
from clientauth.constants import ASYMMETRIC_ALGORITHMS, AUTH_METHODS, PRIVATE_KEY_JWT
from clientauth.management.jwksfile import read_jwks_file
from djangokit.commands import BaseCommand


class Command(BaseCommand):
    help = "Register a service provider (OAuth client) and print its client key and secret."

    def add_arguments(self, parser):
        parser.add_argument("--name", required=True, help="display name of the application")
        parser.add_argument(
            "--callback",
            action="append",
            default=[],
            metavar="URL",
            help="redirect URI; repeat for several",
        )
        parser.add_argument(
            "--grant-types",
            default=",".join(registration.DEFAULT_GRANT_TYPES),
            metavar="LIST",
            help=f"comma-separated, from {', '.join(registration.GRANT_TYPES)}",
        )
        parser.add_argument(
            "--auth-method", default=PRIVATE_KEY_JWT, help=f"one of {', '.join(AUTH_METHODS)}"
        )
        parser.add_argument(
            "--signing-alg",
            default="",
            metavar="ALG",
            help=f"pin the assertion algorithm, one of {', '.join(ASYMMETRIC_ALGORITHMS)}",
        )
        parser.add_argument(
            "--scopes",
            default="",
            metavar="LIST",
            help=(
                "scopes the client may be granted, space- or comma-separated "
                "(default: every configured scope but introspection)"
            ),
        )
        parser.add_argument(
            "--resource-server",
            action="store_true",
            help="let the client introspect every client's tokens, not only its own",
        )
        keys = parser.add_mutually_exclusive_group()
        keys.add_argument(
            "--jwks-uri", default="", metavar="URL", help="the client's keys: its JWK Set URL"
        )
        keys.add_argument(
            "--jwks", metavar="FILE", help="the client's keys: a file holding its JWK Set"
        )
        parser.add_argument("--json", action="store_true", help="print one JSON object")

    def handle(self, *args, **options):
        jwks = read_jwks_file(options["jwks"]) if options["jwks"] else None
        try:
            provider, secret = registration.register_service_provider(
                name=options["name"],
                callbacks=options["callback"],
                grant_types=registration.parse_grant_types(options["grant_types"]),
                auth_method=options["auth_method"],
                signing_alg=options["signing_alg"],
                scopes=options["scopes"].replace(",", " ").split(),
                resource_server=options["resource_server"],
                jwks=jwks,
                jwks_uri=options["jwks_uri"],
            )
        except registration.RegistrationError as exc:
            raise CommandError(str(exc)) from None
        self.audit("sp.register", provider.client_id, f"{provider.name}; {options['auth_method']}")
        if options["json"]:
            self.stdout.write(
                json.dumps({"client_id": provider.client_id, "client_secret": secret})
            )
        else:
            self.stdout.write(f"OAuth Client Key: {provider.client_id}")
            self.stdout.write(f"OAuth Client Secret: {secret}")
