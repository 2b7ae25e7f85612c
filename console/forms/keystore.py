"""The certificate import form.

The upload goes to ``keystore.services.import_certificate``, the function behind
``manage.py import_cert``; its refusals (no certificate in the file, expired, RSA
under 2048 bits, unsupported key type, alias taken without replace, a wrong password)
come back as one form error carrying the same one-line message the command prints,
``FILE: reason``, with the uploaded file's name as FILE. Where the command adds a hint
naming one of its options, the form puts the hint on the matching field instead.
Without ``may_replace`` (the user lacks ``change_certificate``) the form has no
replace field, so an alias already taken is refused.

An alias that is no service provider's client ID is refused as ``import_cert`` refuses
it (``UnknownOwner``); for such an alias only, the form offers the explicit "import
anyway" box (``offer_force``), ``import_cert --force``, for importing before
registering.
"""

from __future__ import annotations

from django import forms

from keystore import errors

# import_cert appends a hint naming its option; here the hint goes on the form field.
FIELD_HINTS = {
    errors.AliasExists.reason: ("replace", "Tick this to replace the current certificate."),
    errors.WrongPassword.reason: ("password", "Enter the password of the keystore file."),
    errors.AmbiguousKeystore.reason: ("keystore_alias", "Name the entry to import."),
    errors.UnknownKeystoreAlias.reason: ("keystore_alias", "No entry has this name."),
    errors.UnknownOwner.reason: (
        "force",
        "Register the service provider first, or tick this to import anyway.",
    ),
}


class ImportCertificateForm(forms.Form):
    alias = forms.CharField(
        max_length=255,
        label="Alias (client ID)",
        help_text="The client ID of the service provider this certificate authenticates.",
    )
    file = forms.FileField(
        label="Certificate file",
        help_text="PEM or DER X.509 certificate, PKCS#12 (.p12, .pfx) or Java keystore (.jks).",
    )
    password = forms.CharField(
        label="Keystore password",
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False),
        help_text="For PKCS#12 and JKS files.",
    )
    keystore_alias = forms.CharField(
        label="Entry in the keystore",
        required=False,
        max_length=255,
        help_text="Which entry to take from a PKCS#12 or JKS file holding several.",
    )
    replace = forms.BooleanField(
        label="Replace the certificate already under this alias",
        required=False,
    )

    force = forms.BooleanField(
        label="Import anyway: no service provider has this client ID yet",
        required=False,
        help_text="The token endpoint uses the certificate once a service provider is "
        "registered with this client ID.",
    )

    def __init__(
        self, *args, may_replace: bool = True, offer_force: bool = False, **kwargs
    ) -> None:
        super().__init__(*args, **kwargs)
        if not may_replace:
            del self.fields["replace"]
        if not offer_force:
            del self.fields["force"]

    def refused(self, filename: str, error: errors.KeystoreError) -> None:
        """Show a refusal of ``keystore.services.import_certificate``."""
        self.add_error(None, f"{filename}: {error}")
        field, hint = FIELD_HINTS.get(error.reason, (None, ""))
        if field in self.fields:
            self.add_error(field, hint)
