"""Forms for registering and editing service providers.

Registration goes through ``clientauth.registration.register_service_provider``, the
function behind ``manage.py register_app``, and editing through its sibling
``update_service_provider``, so the console refuses exactly what the command refuses,
with the same message. Field-level parsing here only turns the
browser's inputs into that function's arguments. The scope checkboxes are the
configured ``OAUTH2_PROVIDER["SCOPES"]``, read per form; none ticked registers the
server's default client scopes (``clientauth.clients.default_client_scopes``).
"""

from __future__ import annotations

from django import forms

from clientauth import clients, registration
from clientauth.models import ClientMetadata

GRANT_TYPE_LABELS = {
    registration.AUTHORIZATION_CODE: "Authorization code (with PKCE)",
    registration.REFRESH_TOKEN: "Refresh token",
    registration.CLIENT_CREDENTIALS: "Client credentials",
}
GRANT_TYPE_CHOICES = [(g, GRANT_TYPE_LABELS.get(g, g)) for g in registration.GRANT_TYPES]


class ServiceProviderForm(forms.Form):
    name = forms.CharField(max_length=255)
    callbacks = forms.CharField(
        label="Callback URLs",
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "https://app.example/callback"}),
        help_text="One URL per line.",
        required=False,
    )
    grant_types = forms.MultipleChoiceField(
        choices=GRANT_TYPE_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        initial=list(registration.DEFAULT_GRANT_TYPES),
    )
    auth_method = forms.ChoiceField(
        label="Client authentication",
        choices=ClientMetadata.AUTH_METHOD_CHOICES,
        initial=ClientMetadata.AUTH_METHOD_CHOICES[0][0],
    )
    signing_alg = forms.ChoiceField(
        label="Pinned signing algorithm",
        choices=ClientMetadata.SIGNING_ALG_CHOICES,
        required=False,
        help_text="Assertions must use this algorithm. Leave on 'any' to accept every "
        "algorithm the server allows.",
    )
    scopes = forms.MultipleChoiceField(
        label="Allowed scopes",
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    resource_server = forms.BooleanField(
        label="Resource server",
        required=False,
        help_text="May introspect the tokens of every client (RFC 7662). Otherwise the "
        "client may introspect only its own tokens.",
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # Read per form, as the settings are: the configured scopes, in their order,
        # and the defaults a client registered without a list gets.
        self.fields["scopes"].choices = [
            (scope, f"{scope}: {description}")
            for scope, description in registration.configured_scopes().items()
        ]
        defaults = ", ".join(clients.default_client_scopes()) or "none"
        self.fields["scopes"].help_text = (
            "The scopes this client may be granted. Tick none for the server's default "
            f"client scopes ({defaults})."
        )

    def clean_callbacks(self) -> list[str]:
        lines = self.cleaned_data["callbacks"].splitlines()
        return [line.strip() for line in lines if line.strip()]

    def arguments(self) -> dict:
        """The cleaned data as keyword arguments of the registration functions."""
        data = self.cleaned_data
        return {
            "name": data["name"],
            "callbacks": data["callbacks"],
            "grant_types": data["grant_types"],
            "auth_method": data["auth_method"],
            "signing_alg": data["signing_alg"] or "",
            "scopes": data["scopes"],
            "resource_server": data["resource_server"],
        }
