"""The server's ID-token signing keys (OIDC Core section 10.1, RFC 7517 for the JWKS)
and its users' subject identifiers (OIDC Core section 8).

At most one row is active: a partial unique constraint makes the database, not the
code, decide which of several processes creating the first key (or rotating) wins.
A retired key's public half stays published until every ID token it signed has
expired. Private keys live here as PEM only when ``AUTHSERVER_SIGNING_KEY_FILE`` is
unset; with the file set, this table is unused. Written by ``oidc.keys`` only.

A ``Subject`` row gives a user the ``sub`` that ID tokens and userinfo carry; the
one-to-one constraint lets the database settle two processes creating it at once.
"""

from __future__ import annotations

import secrets

from django.conf import settings
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


def new_subject() -> str:
    """A random subject identifier: 32 URL-safe characters, 192 bits."""
    return secrets.token_urlsafe(24)


class Subject(models.Model):
    """The ``sub`` of a user (OIDC Core section 2, 8): public, opaque and random, so it
    reveals neither how many users there are nor who signed up when, and it survives a
    rotated ``SECRET_KEY``. Created on first need by ``oidc.subjects``."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="oidc_subject"
    )
    sub = models.CharField(max_length=255, unique=True, default=new_subject, editable=False)

    def __str__(self) -> str:
        return self.sub
