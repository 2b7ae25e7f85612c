"""A failure row counts a burst of refusals (``clientauth.failures``): how many, and when
the latest was. Each existing row is a burst of one, last seen when it was made."""

from django.db import migrations, models


def last_seen_is_created_at(apps, schema_editor):
    AuthFailure = apps.get_model("clientauth", "AuthFailure")
    AuthFailure.objects.update(last_seen=models.F("created_at"))


class Migration(migrations.Migration):
    dependencies = [
        ("clientauth", "0006_client_scope_resource_server"),
    ]

    operations = [
        migrations.AddField(
            model_name="authfailure",
            name="count",
            field=models.PositiveIntegerField(default=1),
        ),
        migrations.AddField(
            model_name="authfailure",
            name="last_seen",
            field=models.DateTimeField(null=True),
        ),
        migrations.RunPython(last_seen_is_created_at, migrations.RunPython.noop, elidable=True),
        migrations.AlterField(
            model_name="authfailure",
            name="last_seen",
            field=models.DateTimeField(db_index=True),
        ),
        migrations.AlterModelOptions(
            name="authfailure",
            options={"ordering": ["-last_seen", "-id"]},
        ),
        migrations.AddIndex(
            model_name="authfailure",
            index=models.Index(
                fields=["client_id", "reason", "endpoint", "last_seen"],
                name="clientauth_failure_burst",
            ),
        ),
    ]
