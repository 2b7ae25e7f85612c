from django.apps import AppConfig


class ClientAuthConfig(AppConfig):
    name = "clientauth"
    verbose_name = "Client authentication"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from clientauth import checks  # noqa: F401  (registers the system checks)
        from clientauth.clients import client_exists
        from keystore import owners

        # The keystore's aliases are client IDs: import_cert refuses one that is not.
        owners.register(client_exists)
