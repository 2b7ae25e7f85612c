"""Client metadata leave the swapped ServiceProvider for a one-to-one row of their own,
so that DOT's stock Application can carry them too. Every existing service provider
gets its row, with the values it had."""

import django.db.models.deletion
from django.db import migrations, models
from oauth2_provider.settings import oauth2_settings

FIELDS = ("token_endpoint_auth_method", "token_endpoint_auth_signing_alg", "grant_types")


def copy_to_metadata(apps, schema_editor):
    if oauth2_settings.APPLICATION_MODEL.lower() != "clientauth.serviceprovider":
        return  # ServiceProvider is swapped out (or unused): nothing to copy
    provider_model = apps.get_model("clientauth", "ServiceProvider")
    metadata_model = apps.get_model("clientauth", "ClientMetadata")
    db = schema_editor.connection.alias
    metadata_model.objects.using(db).bulk_create(
        metadata_model(application_id=row["id"], **{f: row[f] for f in FIELDS})
        for row in provider_model.objects.using(db).values("id", *FIELDS)
    )


def copy_back(apps, schema_editor):
    if oauth2_settings.APPLICATION_MODEL.lower() != "clientauth.serviceprovider":
        return
    provider_model = apps.get_model("clientauth", "ServiceProvider")
    metadata_model = apps.get_model("clientauth", "ClientMetadata")
    db = schema_editor.connection.alias
    for row in metadata_model.objects.using(db).values("application_id", *FIELDS):
        provider_model.objects.using(db).filter(pk=row.pop("application_id")).update(**row)


class Migration(migrations.Migration):
    dependencies = [
        ("clientauth", "0004_jti_exp_time_not_indexed"),
        migrations.swappable_dependency(oauth2_settings.APPLICATION_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="ClientMetadata",
            fields=[
                (
                    "application",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="client_metadata",
                        serialize=False,
                        to=oauth2_settings.APPLICATION_MODEL,
                    ),
                ),
                (
                    "token_endpoint_auth_method",
                    models.CharField(
                        choices=[
                            ("private_key_jwt", "Private Key JWT"),
                            ("client_secret_basic", "Client secret (HTTP Basic)"),
                            ("client_secret_post", "Client secret (form body)"),
                        ],
                        default="private_key_jwt",
                        max_length=32,
                    ),
                ),
                (
                    "token_endpoint_auth_signing_alg",
                    models.CharField(
                        blank=True,
                        choices=[
                            ("", "Any allowed algorithm"),
                            ("RS256", "RS256"),
                            ("RS384", "RS384"),
                            ("RS512", "RS512"),
                            ("PS256", "PS256"),
                            ("PS384", "PS384"),
                            ("PS512", "PS512"),
                            ("ES256", "ES256"),
                            ("ES384", "ES384"),
                            ("ES512", "ES512"),
                            ("EdDSA", "EdDSA"),
                            ("Ed25519", "Ed25519"),
                        ],
                        default="",
                        max_length=16,
                    ),
                ),
                ("grant_types", models.CharField(blank=True, default="", max_length=255)),
            ],
            options={
                "verbose_name": "client metadata",
                "verbose_name_plural": "client metadata",
            },
        ),
        migrations.RunPython(copy_to_metadata, copy_back),
        migrations.RemoveField(model_name="serviceprovider", name="token_endpoint_auth_method"),
        migrations.RemoveField(model_name="serviceprovider", name="token_endpoint_auth_signing_alg"),
        migrations.RemoveField(model_name="serviceprovider", name="grant_types"),
    ]
