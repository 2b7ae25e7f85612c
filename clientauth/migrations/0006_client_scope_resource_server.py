"""Each client's allowed scopes and whether it is a resource server (may introspect
every client's tokens). Existing rows get the defaults: the server's default client
scopes, and not a resource server."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("clientauth", "0005_client_metadata"),
    ]

    operations = [
        migrations.AddField(
            model_name="clientmetadata",
            name="scope",
            field=models.CharField(blank=True, default="", max_length=1000),
        ),
        migrations.AddField(
            model_name="clientmetadata",
            name="resource_server",
            field=models.BooleanField(default=False),
        ),
    ]
