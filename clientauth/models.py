"""Client metadata beside DOT's application, used JTIs, and recorded failures.

``ClientMetadata`` holds the registered client-authentication method, the optional
pinned signing algorithm and the grant types (RFC 7591 section 2's
``token_endpoint_auth_method``, ``token_endpoint_auth_signing_alg`` and
``grant_types``) and where its keys come from (its keystore certificate, ``jwks`` or
``jwks_uri``) in a one-to-one row beside any DOT application model; an inline
``jwks`` is kept in ``ClientJwks``.
``ServiceProvider`` is this server's application model. ``JtiRecord``
is WSO2's ``IDN_OIDC_JTI`` table. ``AuthFailure`` is the bounded record of refused
client authentications that the console shows; it never holds an assertion.
"""

from __future__ import annotations

from django.db import models
from oauth2_provider.models import AbstractApplication
from oauth2_provider.settings import oauth2_settings

from clientauth.constants import (
    ASYMMETRIC_ALGORITHMS,
    CLIENT_SECRET_BASIC,
    CLIENT_SECRET_POST,
    PRIVATE_KEY_JWT,
)


class ServiceProvider(AbstractApplication):
    """This server's application model (``OAUTH2_PROVIDER_APPLICATION_MODEL``): DOT's
    own fields, named as WSO2 names clients. Nothing in ``clientauth`` depends on it;
    a project that keeps DOT's ``Application`` leaves this table empty."""

    class Meta(AbstractApplication.Meta):
        swappable = "OAUTH2_PROVIDER_APPLICATION_MODEL"
        verbose_name = "service provider"

    def __str__(self) -> str:
        return f"{self.name} ({self.client_id})"


class ClientMetadata(models.Model):
    """RFC 7591 section 2 metadata of one application that DOT's model has no field for.

    A one-to-one row beside any application model, so DOT's stock ``Application``
    works unchanged. An application without a row is unregistered here: DOT's own
    rules apply to it (its one ``authorization_grant_type``; its secret by either
    method) and, once a key is imported under its client ID, private_key_jwt too.
    """

    AUTH_METHOD_CHOICES = [
        (PRIVATE_KEY_JWT, "Private Key JWT"),
        (CLIENT_SECRET_BASIC, "Client secret (HTTP Basic)"),
        (CLIENT_SECRET_POST, "Client secret (form body)"),
    ]
    SIGNING_ALG_CHOICES = [("", "Any allowed algorithm")] + [(a, a) for a in ASYMMETRIC_ALGORITHMS]

    application = models.OneToOneField(
        oauth2_settings.APPLICATION_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="client_metadata",
    )
    token_endpoint_auth_method = models.CharField(
        max_length=32, choices=AUTH_METHOD_CHOICES, default=PRIVATE_KEY_JWT
    )
    token_endpoint_auth_signing_alg = models.CharField(
        max_length=16, choices=SIGNING_ALG_CHOICES, blank=True, default=""
    )
    # RFC 7591 "grant_types", comma-separated wire names. DOT's single
    # authorization_grant_type cannot hold several; it is kept as a summary.
    grant_types = models.CharField(max_length=255, blank=True, default="")
    # RFC 7591 "scope": the scopes the client may be granted, space-separated. Empty:
    # the server's default client scopes (``clientauth.clients.default_client_scopes``).
    scope = models.CharField(max_length=1000, blank=True, default="")
    # A resource server may introspect every client's tokens (RFC 7662 section 4);
    # any other client only its own.
    resource_server = models.BooleanField(default=False)
    # Where the client's assertion keys come from: one source at a time (RFC 7591
    # section 2: jwks and jwks_uri are mutually exclusive). ``clientauth.keysources``.
    KEY_SOURCE_CERTIFICATE = "certificate"
    KEY_SOURCE_JWKS = "jwks"
    KEY_SOURCE_JWKS_URI = "jwks_uri"
    KEY_SOURCE_CHOICES = [
        (KEY_SOURCE_CERTIFICATE, "Keystore certificate"),
        (KEY_SOURCE_JWKS, "JWK Set (inline)"),
        (KEY_SOURCE_JWKS_URI, "JWK Set URL (jwks_uri)"),
    ]
    key_source = models.CharField(
        max_length=16, choices=KEY_SOURCE_CHOICES, default=KEY_SOURCE_CERTIFICATE
    )
    # RFC 7591 "jwks_uri"; "" unless key_source is jwks_uri.
    jwks_uri = models.CharField(max_length=2000, blank=True, default="")
    # SHA-256 (hex) of the inline JWK Set, which lives in ``ClientJwks``: the token path
    # reads this row on every request and the set's text only when this process has
    # not parsed that set yet. "" unless key_source is jwks.
    jwks_sha256 = models.CharField(max_length=64, blank=True, default="")

    class Meta:
        verbose_name = "client metadata"
        verbose_name_plural = "client metadata"
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(key_source="certificate", jwks_uri="", jwks_sha256="")
                    | (models.Q(key_source="jwks", jwks_uri="") & ~models.Q(jwks_sha256=""))
                    | (models.Q(key_source="jwks_uri", jwks_sha256="") & ~models.Q(jwks_uri=""))
                ),
                name="clientauth_metadata_one_key_source",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.application_id} {self.token_endpoint_auth_method}"

    @property
    def grant_type_list(self) -> list[str]:
        return [g for g in self.grant_types.split(",") if g]

    @property
    def scope_list(self) -> list[str]:
        return self.scope.split()


class ClientJwks(models.Model):
    """The inline JWK Set (RFC 7591 section 2 ``jwks``) of a client whose key source is
    ``jwks``: public keys only, checked when set (``clientauth.jwk``). Apart from
    ``ClientMetadata`` so that the token path's one SELECT never carries it."""

    application = models.OneToOneField(
        oauth2_settings.APPLICATION_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="+",
    )
    jwks = models.TextField()
    sha256 = models.CharField(max_length=64)
    updated_at = models.DateTimeField()

    class Meta:
        verbose_name = "client JWK Set"

    def __str__(self) -> str:
        return f"{self.application_id} {self.sha256[:12]}"


class JtiRecord(models.Model):
    """One used ``jti`` (RFC 7519 section 4.1.7) of one client, until ``EXP_TIME``."""

    client = models.ForeignKey(
        oauth2_settings.APPLICATION_MODEL,
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
    """One burst of refused client authentications with the same client, reason and
    endpoint (``clientauth.failures`` says what a burst is): who (a registered client,
    or "" for none), why, how often, first and last seen, and the latest refusal's
    detail and address."""

    client_id = models.CharField(max_length=255, blank=True, db_index=True)
    reason = models.CharField(max_length=64, db_index=True)
    detail = models.CharField(max_length=255, blank=True)
    endpoint = models.CharField(max_length=64, blank=True)
    remote_addr = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(db_index=True)  # the burst's first refusal
    last_seen = models.DateTimeField(db_index=True)  # its latest
    count = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-last_seen", "-id"]
        indexes = [
            # The open burst of a key: the one UPDATE each refusal makes.
            models.Index(
                fields=["client_id", "reason", "endpoint", "last_seen"],
                name="clientauth_failure_burst",
            ),
        ]

    def __str__(self) -> str:
        when = f"{self.last_seen:%Y-%m-%d %H:%M:%S}"
        return f"{when} {self.client_id or '-'} {self.reason} x{self.count}"

    def save(self, *args, **kwargs) -> None:
        # A row made by hand (a test, the shell) is a burst of one.
        if self.last_seen is None:
            self.last_seen = self.created_at
        super().save(*args, **kwargs)


class RedeemedCode(models.Model):
    """An authorization code already exchanged for tokens, and the tokens it gave.

    DOT deletes a grant once redeemed; this row remembers it, so that a second
    redemption is recognised as one and the tokens of the first are revoked (RFC 6749
    section 4.1.2, RFC 9700 section 4.5). Kept until those tokens have expired. The
    code itself is not stored, only its SHA-256.
    """

    code_checksum = models.CharField(max_length=64)
    application = models.ForeignKey(
        oauth2_settings.APPLICATION_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    access_token_id = models.BigIntegerField(null=True)
    # The refresh token's family (DOT's RefreshToken.token_family): every token a
    # rotation of it has since issued.
    token_family = models.UUIDField(null=True)
    expires = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["application", "code_checksum"], name="clientauth_redeemed_code_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.application_id}/{self.code_checksum[:12]}"
