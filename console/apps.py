"""The admin console: service providers, the keystore, failures and the audit trail."""

from django.apps import AppConfig


class ConsoleConfig(AppConfig):
    name = "console"
    verbose_name = "Admin console"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from console import receivers

        receivers.connect()
