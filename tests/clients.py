"""Creating applications in tests as an operator's database would hold them: a row of
DOT's application model and, where metadata are given, its ``ClientMetadata`` row."""

from __future__ import annotations

from oauth2_provider.models import get_application_model

from clientauth.models import ClientMetadata

METADATA_FIELDS = (
    "token_endpoint_auth_method",
    "token_endpoint_auth_signing_alg",
    "grant_types",
    "scope",
    "resource_server",
)


def create_application(**fields):
    """An application with ``fields``; the metadata fields among them go to its
    ``ClientMetadata`` row (none when no metadata field is given)."""
    metadata = {name: fields.pop(name) for name in METADATA_FIELDS if name in fields}
    application = get_application_model().objects.create(**fields)
    if metadata:
        ClientMetadata.objects.create(application=application, **metadata)
    return application
