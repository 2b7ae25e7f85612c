"""Forms of the failures page (filters) and of the assertion checker."""

from __future__ import annotations

from django import forms


class FailureFilterForm(forms.Form):
    client = forms.CharField(label="Client ID", required=False, max_length=255)
    reason = forms.ChoiceField(label="Reason", required=False)
    since = forms.DateField(
        label="From", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        label="To", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, reasons: list[str] = (), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["reason"].choices = [("", "Any reason")] + [(r, r) for r in reasons]

    def clean(self) -> dict:
        data = super().clean()
        since, until = data.get("since"), data.get("until")
        if since and until and since > until:
            raise forms.ValidationError("'From' is after 'To'.")
        return data


class CheckerForm(forms.Form):
    assertion = forms.CharField(
        label="Client assertion",
        widget=forms.Textarea(
            attrs={"rows": 6, "spellcheck": "false", "placeholder": "eyJhbGciOi..."}
        ),
        help_text="The client_assertion value exactly as the client sends it.",
    )
    client_id = forms.CharField(
        label="client_id parameter",
        required=False,
        max_length=255,
        help_text="Optional, as at the token endpoint: when given it must match iss and sub.",
    )

    def clean_assertion(self) -> str:
        return self.cleaned_data["assertion"].strip()
