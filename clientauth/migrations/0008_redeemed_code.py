"""Redeemed authorization codes, so a second redemption revokes the first one's tokens."""

import django.db.models.deletion
from django.db import migrations, models
from oauth2_provider.settings import oauth2_settings


class Migration(migrations.Migration):

    dependencies = [
        ('clientauth', '0007_authfailure_count_last_seen'),
        migrations.swappable_dependency(oauth2_settings.APPLICATION_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='RedeemedCode',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('code_checksum', models.CharField(max_length=64)),
                ('access_token_id', models.BigIntegerField(null=True)),
                ('token_family', models.UUIDField(null=True)),
                ('expires', models.DateTimeField(db_index=True)),
                ('application', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to=oauth2_settings.APPLICATION_MODEL)),
            ],
            options={
                'constraints': [models.UniqueConstraint(fields=('application', 'code_checksum'), name='clientauth_redeemed_code_unique')],
            },
        ),
    ]
