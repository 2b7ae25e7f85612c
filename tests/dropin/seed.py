"""The stock project's data, made before ``clientauth`` is installed.

Run as ``python -m tests.dropin.seed`` with ``DJANGO_SETTINGS_MODULE`` set to the plain
settings: a user, and two confidential applications of DOT's default model (it allows
one grant type each), one for ``client_credentials`` and one for the authorization
code grant. Prints their client IDs and secrets (hashed in the database) as JSON.
"""

from __future__ import annotations

import json
import secrets

import django

USERNAME = "alice"
PASSWORD = "alice-dropin-password"
REDIRECT_URI = "http://127.0.0.1/cb"


def seed() -> dict:
    from django.contrib.auth import get_user_model
    from oauth2_provider.models import Application

    user = get_user_model().objects.create_user(USERNAME, password=PASSWORD)
    clients = {}
    for name, grant, redirect_uris in [
        ("client_credentials", Application.GRANT_CLIENT_CREDENTIALS, ""),
        ("authorization_code", Application.GRANT_AUTHORIZATION_CODE, REDIRECT_URI),
    ]:
        secret = secrets.token_urlsafe(32)
        app = Application.objects.create(
            name=f"dropin {name}",
            user=user,
            client_type=Application.CLIENT_CONFIDENTIAL,
            authorization_grant_type=grant,
            redirect_uris=redirect_uris,
            client_secret=secret,
            skip_authorization=True,
        )
        clients[name] = {"client_id": app.client_id, "client_secret": secret}
    return {"username": USERNAME, "password": PASSWORD, "clients": clients}


if __name__ == "__main__":
    django.setup()
    print(json.dumps(seed()))
