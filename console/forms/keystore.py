"""The certificate import form.

The upload goes to ``keystore.services.import_certificate``, the function behind
``manage.py import_cert``; its refusals (no certificate in the file, expired, RSA
under 2048 bits, unsupported key type, alias taken without replace, a wrong password)
come back as one form error carrying the same one-line message the command prints,
``FILE: reason``, with the uploaded file's name as FILE. Where the command adds a hint
naming one of its options, the form puts the hint on the matching field instead.
Without ``may_replace`` (the user lacks ``change_certificate``) the form has no
replace field, so an alias already taken is refused.
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

    def __init__(self, *args, may_replace: bool = True, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if not may_replace:
            del self.fields["replace"]

    def clean_alias(self) -> str:
        return self.cleaned_data["alias"].strip()

    def refused(self, filename: str, error: errors.KeystoreError) -> None:
        """Show a refusal of ``keystore.services.import_certificate``."""
        self.add_error(None, f"{filename}: {error}")
        field, hint = FIELD_HINTS.get(error.reason, (None, ""))
        if field in self.fields:
            self.add_error(field, hint)
