"""Where a client's keys come from: its keystore certificate (every existing client,
unchanged), an inline JWK Set (kept in ClientJwks) or a jwks_uri; one at a time."""

import django.db.models.deletion
from django.db import migrations, models
from oauth2_provider.settings import oauth2_settings


class Migration(migrations.Migration):

    dependencies = [
        ('clientauth', '0008_redeemed_code'),
        migrations.swappable_dependency(oauth2_settings.APPLICATION_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='ClientJwks',
            fields=[
                ('application', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True, related_name='+', serialize=False, to=oauth2_settings.APPLICATION_MODEL)),
                ('jwks', models.TextField()),
                ('sha256', models.CharField(max_length=64)),
                ('updated_at', models.DateTimeField()),
            ],
            options={
                'verbose_name': 'client JWK Set',
            },
        ),
        migrations.AddField(
            model_name='clientmetadata',
            name='jwks_sha256',
            field=models.CharField(blank=True, default='', max_length=64),
        ),
        migrations.AddField(
            model_name='clientmetadata',
            name='jwks_uri',
            field=models.CharField(blank=True, default='', max_length=2000),
        ),
        migrations.AddField(
            model_name='clientmetadata',
            name='key_source',
            field=models.CharField(choices=[('certificate', 'Keystore certificate'), ('jwks', 'JWK Set (inline)'), ('jwks_uri', 'JWK Set URL (jwks_uri)')], default='certificate', max_length=16),
        ),
        migrations.AddConstraint(
            model_name='clientmetadata',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('jwks_sha256', ''), ('jwks_uri', ''), ('key_source', 'certificate')), models.Q(('jwks_uri', ''), ('key_source', 'jwks'), models.Q(('jwks_sha256', ''), _negated=True)), models.Q(('jwks_sha256', ''), ('key_source', 'jwks_uri'), models.Q(('jwks_uri', ''), _negated=True)), _connector='OR'), name='clientauth_metadata_one_key_source'),
        ),
    ]
