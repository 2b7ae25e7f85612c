from django.apps import AppConfig


class KeystoreConfig(AppConfig):
    name = "keystore"
    verbose_name = "Keystore"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from keystore import checks  # noqa: F401  (registers the system checks)
