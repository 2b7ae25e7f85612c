"""Django admin for the client metadata beside DOT's applications (DOT's admin shows
the applications themselves): where a project that adopts ``clientauth`` registers an
existing application's authentication method, scopes and resource-server right. The
scopes are checked as ``register_app`` checks them."""

from django import forms
from django.contrib import admin

from clientauth import registration
from clientauth.models import ClientMetadata


class ClientMetadataForm(forms.ModelForm):
    class Meta:
        model = ClientMetadata
        fields = (
            "application",
            "token_endpoint_auth_method",
            "token_endpoint_auth_signing_alg",
            "grant_types",
            "scope",
            "resource_server",
        )

    def clean_scope(self) -> str:
        try:
            scopes = registration.normalized_scopes(self.cleaned_data["scope"].split())
        except registration.RegistrationError as exc:
            raise forms.ValidationError(str(exc)) from None
        return " ".join(scopes)


@admin.register(ClientMetadata)
class ClientMetadataAdmin(admin.ModelAdmin):
    form = ClientMetadataForm
    list_display = (
        "application",
        "token_endpoint_auth_method",
        "token_endpoint_auth_signing_alg",
        "grant_types",
        "scope",
        "resource_server",
        "key_source",
    )
    list_filter = ("token_endpoint_auth_method", "resource_server", "key_source")
    raw_id_fields = ("application",)
