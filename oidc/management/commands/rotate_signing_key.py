"""``manage.py rotate_signing_key``: a new active ID-token signing key (CONTRACT.md).

Every server process signs its next ID token with the new key; the retired public key
stays in the JWKS until the tokens it signed have expired. Refused while
``AUTHSERVER_SIGNING_KEY_FILE`` is set, because then the file is the key.
"""

from __future__ import annotations

from django.core.management.base import CommandError

from djangokit.commands import BaseCommand
from oidc import keys


class Command(BaseCommand):
    help = "Make a new active ID-token signing key; old public keys stay published until expiry."

    def handle(self, *args, **options) -> None:
        try:
            row = keys.rotate()
        except keys.SigningKeyFileInUse:
            raise CommandError(
                "AUTHSERVER_SIGNING_KEY_FILE is set: that file is the signing key; "
                "replace the file to rotate"
            ) from None
        self.audit("signing_key.rotate", row.kid)
        self.stdout.write(f"New active signing key: {row.kid}")
