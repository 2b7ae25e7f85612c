"""Service providers (DOT's swapped Application), used JTIs, and recorded failures.

``ServiceProvider`` adds the registered client-authentication method and the optional
pinned signing algorithm (OIDC Dynamic Client Registration's
``token_endpoint_auth_method`` and ``token_endpoint_auth_signing_alg``). ``JtiRecord``
is WSO2's ``IDN_OIDC_JTI`` table. ``AuthFailure`` is the bounded record of refused
client authentications that the console shows; it never holds an assertion.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from oauth2_provider.models import AbstractApplication

from clientauth.constants import (
    ASYMMETRIC_ALGORITHMS,
    CLIENT_SECRET_BASIC,
    CLIENT_SECRET_POST,
    PRIVATE_KEY_JWT,
)

# Registered grant (RFC 7591 wire name) -> DOT's name for it.
DOT_GRANT_NAMES = {
    "authorization_code": AbstractApplication.GRANT_AUTHORIZATION_CODE,
    "client_credentials": AbstractApplication.GRANT_CLIENT_CREDENTIALS,
}


class ServiceProvider(AbstractApplication):
    AUTH_METHOD_CHOICES = [
        (PRIVATE_KEY_JWT, "Private Key JWT"),
        (CLIENT_SECRET_BASIC, "Client secret (HTTP Basic)"),
        (CLIENT_SECRET_POST, "Client secret (form body)"),
    ]
    SIGNING_ALG_CHOICES = [("", "Any allowed algorithm")] + [(a, a) for a in ASYMMETRIC_ALGORITHMS]

    token_endpoint_auth_method = models.CharField(
        max_length=32, choices=AUTH_METHOD_CHOICES, default=PRIVATE_KEY_JWT
    )
    token_endpoint_auth_signing_alg = models.CharField(
        max_length=16, choices=SIGNING_ALG_CHOICES, blank=True, default=""
    )
    # RFC 7591 section 2 "grant_types", comma-separated wire names. DOT's single
    # authorization_grant_type cannot hold several; it is kept as a summary, and an
    # empty list falls back to it (rows made without clientauth.registration).
    grant_types = models.CharField(max_length=255, blank=True, default="")

    class Meta(AbstractApplication.Meta):
        swappable = "OAUTH2_PROVIDER_APPLICATION_MODEL"
        verbose_name = "service provider"

    def __str__(self) -> str:
        return f"{self.name} ({self.client_id})"

    @property
    def grant_type_list(self) -> list[str]:
        return [g for g in self.grant_types.split(",") if g]

    def allows_grant_type(self, *grant_types: str) -> bool:
        """DOT asks with its own names (``GRANT_TYPE_MAPPING``); answer from the list.

        DOT allows ``refresh_token`` to any client of a grant that can issue a refresh
        token; here it is allowed only when registered.
        """
        registered = self.grant_type_list
        if not registered:
            return super().allows_grant_type(*grant_types)
        from oauth2_provider.oauth2_validators import GRANT_TYPE_MAPPING

        if set(grant_types) == set(GRANT_TYPE_MAPPING["refresh_token"]):
            return "refresh_token" in registered
        return any(DOT_GRANT_NAMES.get(g) in grant_types for g in registered)


class JtiRecord(models.Model):
    """One used ``jti`` (RFC 7519 section 4.1.7) of one client, until ``EXP_TIME``."""

    client = models.ForeignKey(
        settings.OAUTH2_PROVIDER_APPLICATION_MODEL,
        to_field="client_id",
        db_column="CLIENT_ID",
        on_delete=models.CASCADE,
        related_name="+",
        # The unique (CLIENT_ID, JWT_ID) index serves every look-up by client, the
        # cascade included; a second index on CLIENT_ID would only be written to, once
        # for every token issued.
        db_index=False,
    )
    jwt_id = models.CharField(max_length=255, db_column="JWT_ID")
    # Not indexed: only purge_jtis filters on it, and it deletes most of what it reads,
    # while an index would be written once for every token issued.
    exp_time = models.DateTimeField(db_column="EXP_TIME")
    time_created = models.DateTimeField(db_column="TIME_CREATED")

    class Meta:
        db_table = "IDN_OIDC_JTI"
        constraints = [
            models.UniqueConstraint(fields=["client", "jwt_id"], name="idn_oidc_jti_client_jwt_id"),
        ]

    def __str__(self) -> str:
        return f"{self.client_id}/{self.jwt_id}"


class AuthFailure(models.Model):
    """A refused client authentication: who (when known), why, when, from where."""

    client_id = models.CharField(max_length=255, blank=True, db_index=True)
    reason = models.CharField(max_length=64, db_index=True)
    detail = models.CharField(max_length=255, blank=True)
    endpoint = models.CharField(max_length=64, blank=True)
    remote_addr = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.client_id or '-'} {self.reason}"
