from django.apps import AppConfig


class ClientAuthConfig(AppConfig):
    name = "clientauth"
    verbose_name = "Client authentication"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from clientauth import checks  # noqa: F401  (registers the system checks)
