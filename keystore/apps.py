from django.apps import AppConfig


class KeystoreConfig(AppConfig):
    name = "keystore"
    verbose_name = "Keystore"
    default_auto_field = "django.db.models.BigAutoField"
