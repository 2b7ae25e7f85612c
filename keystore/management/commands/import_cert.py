"""``manage.py import_cert``: import a client's certificate under its client ID.

FILE may be PEM, DER, PKCS#12 or a Java keystore; only the certificate is kept. The
parsing and every refusal live in ``keystore.services``/``keystore.parsing``; this
command reads the file and reports one line. An alias that is no registered client is
refused unless ``--force`` (importing before registering); a certificate already filed
under another alias is imported with a warning on stderr, since its key would then
authenticate both clients.
"""

from __future__ import annotations

from django.core.management.base import CommandError

from djangokit.commands import BaseCommand
from keystore import errors, services
from keystore.errors import KeystoreError
from keystore.parsing import MAX_FILE_BYTES

# The errors are worded for every entry point; here they can name the option to use.
HINTS = {
    errors.AliasExists.reason: "use --replace to replace it",
    errors.WrongPassword.reason: "give the store password with --storepass",
    errors.AmbiguousKeystore.reason: "choose one with --keystore-alias",
    errors.UnknownKeystoreAlias.reason: "check --keystore-alias",
    errors.UnknownOwner.reason: "register the client first, or use --force to import anyway",
}


class Command(BaseCommand):
    help = "Import the public certificate of a client (PEM, DER, PKCS#12 or JKS) under ALIAS."

    def add_arguments(self, parser):
        parser.add_argument("file", metavar="FILE", help="certificate or keystore file")
        parser.add_argument("--alias", required=True, help="the client ID to file it under")
        parser.add_argument("--storepass", help="password of a PKCS#12 or JKS file")
        parser.add_argument(
            "--keystore-alias", help="entry to take from a keystore that holds several"
        )
        parser.add_argument(
            "--replace", action="store_true", help="replace the alias's current certificate"
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="import even when ALIAS is no registered client ID (register it later)",
        )

    def handle(self, *args, **options):
        path = options["file"]
        try:
            with open(path, "rb") as handle:
                # One byte past the limit is enough for the parser to refuse it.
                data = handle.read(MAX_FILE_BYTES + 1)
        except OSError as exc:
            raise CommandError(f"cannot read {path!r}: {exc.strerror or exc}") from None
        replacing = options["replace"] and services.has_certificate(options["alias"])
        try:
            certificate = services.import_certificate(
                options["alias"],
                data,
                password=options["storepass"],
                keystore_alias=options["keystore_alias"],
                replace=options["replace"],
                owner_required=not options["force"],
            )
        except KeystoreError as exc:
            hint = HINTS.get(exc.reason)
            raise CommandError(f"{path}: {exc}" + (f" ({hint})" if hint else "")) from None
        self.audit(
            "cert.replace" if replacing else "cert.import",
            certificate.alias,
            f"{certificate.subject}; sha256 {certificate.thumbprint_sha256}",
        )
        self.stdout.write(
            f"Imported {certificate.key_type} {certificate.key_size} certificate "
            f"{certificate.subject!r} under alias {certificate.alias!r} "
            f"(SHA-256 {certificate.thumbprint_sha256}, "
            f"valid until {certificate.not_after:%Y-%m-%d %H:%M:%S} UTC)"
        )
        others = services.aliases_with_thumbprint(
            certificate.thumbprint_sha256, besides=certificate.alias
        )
        if others:
            self.stderr.write(
                f"warning: the same certificate is also imported under alias "
                f"{', '.join(map(repr, others))}: its key authenticates each of them"
            )
