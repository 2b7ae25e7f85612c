"""``manage.py bootstrap``: what ``make run`` needs before serving.

Makes sure an ID-token signing key exists (the database's, created if missing, or the
``AUTHSERVER_SIGNING_KEY_FILE``) and that an admin user exists. A new admin gets a
random password, printed once with the URL to log in; an existing admin is left alone
(``manage.py changepassword admin`` resets it). Never a fixed password.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.contrib.auth import get_user_model

from djangokit.commands import BaseCommand
from oidc import keys

ADMIN_USERNAME = "admin"


class Command(BaseCommand):
    help = "Make sure a signing key and an admin user exist; print how to log in."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--username", default=ADMIN_USERNAME, help="admin username")

    def handle(self, *args, username: str, **options) -> None:
        key = keys.active_key()
        source = "AUTHSERVER_SIGNING_KEY_FILE" if keys.key_file() else "database"
        self.stdout.write(f"ID-token signing key: {key.kid} ({source})")

        console = f"{settings.AUTHSERVER_ISSUER}/console/"
        User = get_user_model()
        if User.objects.filter(**{User.USERNAME_FIELD: username}).exists():
            self.stdout.write(
                f"Admin user {username!r} exists. Log in at {console} "
                f"(reset its password with: manage.py changepassword {username})"
            )
            return
        password = secrets.token_urlsafe(18)
        User.objects.create_superuser(username=username, email="", password=password)
        self.audit("user.create_admin", username, "superuser with a random password")
        self.stdout.write(
            f"Created admin user. Log in at {console}\n"
            f"  username: {username}\n"
            f"  password: {password}"
        )
