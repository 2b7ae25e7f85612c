"""A registered client's credentials after registration: a new secret, its live tokens.

``regenerate_secret`` gives a client a new secret, returned in plaintext once and
stored hashed by DOT's ``ClientSecretField`` on save (with ``clientauth.hashers``);
the secret check reads the stored hash on every request, so the old secret is refused
from the next one. ``live_tokens`` lists a client's unexpired access tokens and its
unrevoked refresh tokens (never the token values); ``revoke_tokens`` revokes them all
as DOT revokes them (RFC 7009 section 2.2: access tokens deleted, refresh tokens
marked revoked family by family, their access tokens with them), and deletes the ID
tokens and unredeemed authorization codes issued to the client. Called by the console;
it does not touch the client's keys or registration.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from oauth2_provider.generators import generate_client_secret
from oauth2_provider.models import (
    get_access_token_model,
    get_grant_model,
    get_id_token_model,
    get_refresh_token_model,
)


def regenerate_secret(application) -> str:
    """Store a new secret for ``application``; return it in plaintext, once."""
    secret = generate_client_secret()
    application.client_secret = secret
    application.save(update_fields=["client_secret"])
    return secret


@dataclass(frozen=True)
class LiveTokens:
    access: list  # unexpired access tokens, soonest expiry first
    access_count: int
    refresh_count: int  # unrevoked refresh tokens


def live_tokens(application, *, now: dt.datetime, limit: int = 50) -> LiveTokens:
    access = get_access_token_model().objects.filter(application=application, expires__gt=now)
    refresh = get_refresh_token_model().objects.filter(
        application=application, revoked__isnull=True
    )
    return LiveTokens(
        access=list(
            access.select_related("user")
            .only("id", "expires", "scope", "created", "user__username")
            .order_by("expires", "id")[:limit]
        ),
        access_count=access.count(),
        refresh_count=refresh.count(),
    )


@dataclass(frozen=True)
class Revoked:
    access: int
    refresh: int

    def __str__(self) -> str:
        return f"{self.access} access token(s), {self.refresh} refresh token(s)"


def revoke_tokens(application) -> Revoked:
    """Revoke every token issued to ``application``; return how many were live."""
    AccessToken = get_access_token_model()
    RefreshToken = get_refresh_token_model()
    with transaction.atomic():
        access_count = AccessToken.objects.filter(application=application).count()
        live_refresh = RefreshToken.objects.filter(application=application, revoked__isnull=True)
        refresh_count = live_refresh.count()
        families = set(
            live_refresh.exclude(token_family=None).values_list("token_family", flat=True)
        )
        for family in families:
            RefreshToken.revoke_family(family)
        for token in live_refresh.filter(token_family=None):
            token.revoke()
        AccessToken.objects.filter(application=application).delete()
        get_id_token_model().objects.filter(application=application).delete()
        get_grant_model().objects.filter(application=application).delete()
    return Revoked(access=access_count, refresh=refresh_count)
