"""Django admin for the client metadata beside DOT's applications (DOT's admin shows
the applications themselves): where a project that adopts ``clientauth`` registers an
existing application's authentication method."""

from django.contrib import admin

from clientauth.models import ClientMetadata


@admin.register(ClientMetadata)
class ClientMetadataAdmin(admin.ModelAdmin):
    list_display = (
        "application",
        "token_endpoint_auth_method",
        "token_endpoint_auth_signing_alg",
        "grant_types",
    )
    list_filter = ("token_endpoint_auth_method",)
    raw_id_fields = ("application",)
