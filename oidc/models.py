"""The server's own ID-token signing keys (OIDC Core section 10.1, RFC 7517 for the JWKS).

At most one row is active: a partial unique constraint makes the database, not the
code, decide which of several processes creating the first key (or rotating) wins.
A retired key's public half stays published until every ID token it signed has
expired. Private keys live here as PEM only when ``AUTHSERVER_SIGNING_KEY_FILE`` is
unset; with the file set, this table is unused. Written by ``oidc.keys`` only.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q


class SigningKey(models.Model):
    kid = models.CharField(max_length=64, unique=True)
    private_key_pem = models.TextField()
    algorithm = models.CharField(max_length=8, default="RS256")
    created_at = models.DateTimeField()
    active = models.BooleanField(default=False)
    retired_at = models.DateTimeField(null=True, blank=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["active"], condition=Q(active=True), name="oidc_one_active_signing_key"
            ),
        ]

    def __str__(self) -> str:
        state = "active" if self.active else f"retired {self.retired_at:%Y-%m-%d %H:%M}"
        return f"{self.kid} ({state})"
