"""The oidc app: ID-token signing keys, discovery, JWKS, userinfo and the authorize page.

``ready()`` validates ``AUTHSERVER_SIGNING_KEY_FILE`` when it is set, so a server
given a key it cannot use (not PEM, not RSA, under 2048 bits, unreadable) stops at
start-up with one clear ``ImproperlyConfigured`` line instead of failing at its
first ID token.
"""

from __future__ import annotations

from django.apps import AppConfig


class OidcConfig(AppConfig):
    name = "oidc"
    verbose_name = "OpenID Connect"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from oidc import keys

        path = keys.key_file()
        if path:
            keys.load_key_file(path)
