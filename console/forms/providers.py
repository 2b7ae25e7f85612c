"""Forms for registering and editing service providers.

Registration goes through ``clientauth.registration.register_service_provider``, the
function behind ``manage.py register_app``, and editing through its sibling
``update_service_provider``, so the console refuses exactly what the command refuses,
with the same message. Field-level parsing here only turns the
browser's inputs into that function's arguments. The scope checkboxes are the
configured ``OAUTH2_PROVIDER["SCOPES"]``, read per form; none ticked registers the
server's default client scopes (``clientauth.clients.default_client_scopes``).

The key source (RFC 7591 section 2: the keystore certificate, an inline ``jwks`` pasted
or uploaded, or a ``jwks_uri``) is checked here by ``clientauth.keysources.prepare``,
the function registration and ``set_key_source`` use, so a refused set or URL is shown
at its field with the same one line and nothing is written.
"""

from __future__ import annotations

from django import forms

from clientauth import clients, conf, keysources, registration
from clientauth.constants import PRIVATE_KEY_JWT
from clientauth.models import ClientMetadata

GRANT_TYPE_LABELS = {
    registration.AUTHORIZATION_CODE: "Authorization code (with PKCE)",
    registration.REFRESH_TOKEN: "Refresh token",
    registration.CLIENT_CREDENTIALS: "Client credentials",
}
GRANT_TYPE_CHOICES = [(g, GRANT_TYPE_LABELS.get(g, g)) for g in registration.GRANT_TYPES]
KEY_SOURCE_CHOICES = [
    (keysources.CERTIFICATE, "Keystore certificate imported under the client ID"),
    (keysources.JWKS, "Inline JWK Set (jwks)"),
    (keysources.JWKS_URI, "JWK Set URL (jwks_uri)"),
]


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
    key_source = forms.ChoiceField(
        label="Client keys",
        choices=KEY_SOURCE_CHOICES,
        initial=keysources.CERTIFICATE,
        widget=forms.RadioSelect,
        help_text="Where private_key_jwt assertions are verified from. With a JWK Set the "
        "certificate is not used; with a jwks_uri the client rotates its keys itself.",
    )
    jwks = forms.CharField(
        label="JWK Set",
        required=False,
        widget=forms.Textarea(
            attrs={"rows": 6, "spellcheck": "false", "placeholder": '{"keys": [...]}'}
        ),
        help_text="For an inline JWK Set: public keys only, each with its kid.",
    )
    jwks_file = forms.FileField(
        label="JWK Set file",
        required=False,
        help_text="For an inline JWK Set: a file holding it, used instead of the text above.",
    )
    jwks_uri = forms.CharField(
        label="jwks_uri",
        required=False,
        max_length=2000,
        widget=forms.URLInput(attrs={"placeholder": "https://client.example/jwks.json"}),
        help_text="For a jwks_uri: the https URL the client publishes its JWK Set at.",
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
        # A POST that sends no key source leaves it as it is (registering: the
        # certificate); a browser always sends the radio's value.
        if not self.key_source_sent():
            self.fields["key_source"].required = False
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

    def key_source_sent(self) -> bool:
        return not self.is_bound or "key_source" in self.data

    def clean_callbacks(self) -> list[str]:
        lines = self.cleaned_data["callbacks"].splitlines()
        return [line.strip() for line in lines if line.strip()]

    def clean_jwks_file(self) -> bytes | None:
        upload = self.cleaned_data.get("jwks_file")
        if not upload:
            return None
        limit = conf.policy().jwks_uri_max_bytes
        data = upload.read(limit + 1)  # never more than the cap into memory
        if len(data) > limit:
            raise forms.ValidationError(f"larger than {limit} bytes (JWKS_URI_MAX_BYTES)")
        return data

    # What ``clean`` made of the key-source fields: ``keysources.prepare``'s values and
    # the ``jwks`` / ``jwks_uri`` argument; None when no source was sent (unchanged).
    key_source_prepared: dict | None = None
    key_source_values: dict | None = None

    def clean(self) -> dict:
        data = super().clean()
        source = data.get("key_source")
        if not source:
            return data
        if source != keysources.CERTIFICATE and data.get("auth_method") != PRIVATE_KEY_JWT:
            self.add_error("key_source", f"a JWK Set applies only to {PRIVATE_KEY_JWT}")
            return data
        field, values = "key_source", {}
        if source == keysources.JWKS:
            if data.get("jwks_file") is not None:
                field, values = "jwks_file", {"jwks": data["jwks_file"]}
            elif "jwks_file" in self.errors:
                return data
            elif data.get("jwks", "").strip():
                field, values = "jwks", {"jwks": data["jwks"].strip()}
            else:
                self.add_error("jwks", "paste the JWK Set or choose a file holding it")
                return data
        elif source == keysources.JWKS_URI:
            field, values = "jwks_uri", {"jwks_uri": data.get("jwks_uri", "").strip()}
            if not values["jwks_uri"]:
                self.add_error("jwks_uri", "enter the URL of the client's JWK Set")
                return data
        try:
            self.key_source_prepared = keysources.prepare(source, **values)
        except keysources.KeySourceError as exc:
            self.add_error(field, str(exc))
        else:
            self.key_source_values = values
        return data

    def key_source_arguments(self) -> dict:
        """The key source as ``register_service_provider``'s ``jwks`` / ``jwks_uri``."""
        return dict(self.key_source_values or {})

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
