"""Service provider pages: list, register (secret shown once), detail, edit, delete."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from clientauth import registration
from clientauth.models import AuthFailure, ServiceProvider
from console.models import AuditEntry
from console.views.providers import NEW_SECRET_SESSION_KEY
from keystore import services
from keystore.models import Certificate

pytestmark = pytest.mark.django_db

REGISTER = {
    "name": "Today App",
    "callbacks": "https://today.example/cb\nhttps://today.example/cb2",
    "grant_types": ["authorization_code", "refresh_token", "client_credentials"],
    "auth_method": "private_key_jwt",
    "signing_alg": "RS256",
}


def _register(**overrides):
    arguments = {
        "name": "Today App",
        "callbacks": ["https://today.example/cb"],
        "grant_types": ["authorization_code", "refresh_token"],
        "auth_method": "private_key_jwt",
        **overrides,
    }
    return registration.register_service_provider(**arguments)


def test_register_shows_key_and_secret_once(staff_client, staff_user):
    response = staff_client.post(reverse("console:provider-register"), REGISTER)
    assert response.status_code == 302
    provider = ServiceProvider.objects.get()
    assert response["Location"] == reverse("console:provider-created", args=[provider.pk])
    assert provider.redirect_uris.split() == [
        "https://today.example/cb",
        "https://today.example/cb2",
    ]
    assert provider.client_metadata.grant_type_list == REGISTER["grant_types"]
    assert provider.client_metadata.token_endpoint_auth_signing_alg == "RS256"

    secret = staff_client.session[NEW_SECRET_SESSION_KEY]["secret"]
    assert secret not in response["Location"]
    # Stored hashed, never as the plaintext.
    assert provider.client_secret != secret

    page = staff_client.get(response["Location"])
    body = page.content.decode()
    assert provider.client_id in body and secret in body
    assert "not shown again" in body
    assert 'data-copy="client-secret"' in body
    assert page["Cache-Control"] == "no-store"
    assert NEW_SECRET_SESSION_KEY not in staff_client.session

    again = staff_client.get(response["Location"]).content.decode()
    assert secret not in again and provider.client_id in again

    entry = AuditEntry.objects.get()
    assert (entry.action, entry.target, entry.actor) == (
        AuditEntry.SP_REGISTER,
        provider.client_id,
        staff_user,
    )
    assert secret not in entry.detail


def test_register_refusal_shows_the_register_app_message(staff_client):
    bad = {**REGISTER, "callbacks": "ftp://today.example/cb"}
    response = staff_client.post(reverse("console:provider-register"), bad)
    assert response.status_code == 200
    with pytest.raises(registration.RegistrationError) as refused:
        _register(callbacks=["ftp://today.example/cb"])
    assert str(refused.value) in [str(e) for e in response.context["form"].non_field_errors()]
    assert not ServiceProvider.objects.exists()
    assert not AuditEntry.objects.exists()


def test_register_form_rejects_missing_fields(staff_client):
    response = staff_client.post(reverse("console:provider-register"), {"name": ""})
    assert response.status_code == 200
    assert response.context["form"].errors
    assert not ServiceProvider.objects.exists()


def test_list_shows_name_client_id_method_and_certificate_status(staff_client, rsa_key):
    with_cert, _ = _register(name="Has Cert")
    without, _ = _register(name="No Cert")
    services.import_certificate(with_cert.client_id, rsa_key.cert_pem)
    body = staff_client.get(reverse("console:providers")).content.decode()
    for provider in (with_cert, without):
        assert provider.name in body and provider.client_id in body
    assert "Private Key JWT" in body
    assert "Valid" in body and "No certificate" in body


def test_detail_shows_settings_certificate_and_recent_failures(staff_client, rsa_key):
    provider, _ = _register(signing_alg="PS256")
    services.import_certificate(provider.client_id, rsa_key.cert_pem)
    AuthFailure.objects.create(
        client_id=provider.client_id,
        reason="audience_mismatch",
        detail="aud is not accepted",
        endpoint="token",
        remote_addr="192.0.2.7",
        created_at=timezone.now(),
    )
    AuthFailure.objects.create(
        client_id="someone-else", reason="expired", created_at=timezone.now()
    )
    body = staff_client.get(reverse("console:provider-detail", args=[provider.pk])).content
    body = body.decode()
    assert "PS256" in body and "https://today.example/cb" in body
    assert Certificate.objects.get().thumbprint_sha256 in body
    assert "audience_mismatch" in body and "192.0.2.7" in body
    assert "someone-else" not in body


def test_edit_runs_the_registration_rules_and_audits(staff_client):
    provider, _ = _register()
    url = reverse("console:provider-edit", args=[provider.pk])
    form = staff_client.get(url).context["form"]
    assert form.initial["callbacks"] == "https://today.example/cb"

    refused = staff_client.post(url, {**REGISTER, "auth_method": "client_secret_basic"})
    assert refused.status_code == 200
    assert "a signing algorithm applies only to private_key_jwt" in refused.content.decode()

    edited = {**REGISTER, "name": "Tomorrow App", "callbacks": "https://tomorrow.example/cb"}
    response = staff_client.post(url, edited)
    assert response.status_code == 302
    provider.refresh_from_db()
    assert provider.name == "Tomorrow App"
    assert provider.redirect_uris == "https://tomorrow.example/cb"
    entry = AuditEntry.objects.get()
    assert entry.action == AuditEntry.SP_EDIT and "name" in entry.detail


def test_delete_asks_then_deletes_with_certificate(staff_client, rsa_key):
    provider, _ = _register()
    services.import_certificate(provider.client_id, rsa_key.cert_pem)
    url = reverse("console:provider-delete", args=[provider.pk])
    confirm = staff_client.get(url)
    assert confirm.status_code == 200 and "Delete service provider" in confirm.content.decode()
    assert ServiceProvider.objects.exists()

    response = staff_client.post(url, {"delete_certificate": "1"})
    assert response.status_code == 302
    assert not ServiceProvider.objects.exists()
    assert not Certificate.objects.exists()
    assert set(AuditEntry.objects.values_list("action", flat=True)) == {
        AuditEntry.SP_DELETE,
        AuditEntry.CERT_DELETE,
    }


def test_delete_can_keep_the_certificate(staff_client, rsa_key):
    provider, _ = _register()
    services.import_certificate(provider.client_id, rsa_key.cert_pem)
    staff_client.post(reverse("console:provider-delete", args=[provider.pk]), {})
    assert not ServiceProvider.objects.exists()
    assert Certificate.objects.filter(alias=provider.client_id).exists()


# Allowed scopes and the resource-server flag.


def test_form_offers_the_configured_scopes_with_their_descriptions(staff_client, settings):
    body = staff_client.get(reverse("console:provider-register")).content.decode()
    for scope, description in settings.OAUTH2_PROVIDER["SCOPES"].items():
        assert f'value="{scope}"' in body and description in body
    assert 'name="resource_server"' in body and "introspect the tokens of every client" in body
    assert "default client scopes (openid, profile, email, read, write)" in body

    settings.OAUTH2_PROVIDER = {
        **settings.OAUTH2_PROVIDER,
        "SCOPES": {"read": "Read access", "billing": "Billing data"},
    }
    body = staff_client.get(reverse("console:provider-register")).content.decode()
    assert 'value="billing"' in body and 'value="openid"' not in body


def test_register_sets_scopes_in_configured_order_and_resource_server(staff_client):
    data = {**REGISTER, "scopes": ["write", "openid", "read"], "resource_server": "on"}
    response = staff_client.post(reverse("console:provider-register"), data)
    assert response.status_code == 302
    metadata = ServiceProvider.objects.get().client_metadata
    assert metadata.scope == "openid read write"
    assert metadata.resource_server is True


def test_register_without_scopes_stores_the_default(staff_client):
    staff_client.post(reverse("console:provider-register"), REGISTER)
    metadata = ServiceProvider.objects.get().client_metadata
    assert (metadata.scope, metadata.resource_server) == ("", False)


def test_unknown_scope_is_refused_and_named(staff_client):
    data = {**REGISTER, "scopes": ["openid", "admin"]}
    response = staff_client.post(reverse("console:provider-register"), data)
    assert response.status_code == 200
    assert "admin" in str(response.context["form"].errors["scopes"])
    assert not ServiceProvider.objects.exists()
    assert not AuditEntry.objects.exists()


def test_edit_shows_and_changes_scopes_and_resource_server(staff_client):
    provider, _ = _register(scopes=["email", "openid"], resource_server=True)
    url = reverse("console:provider-edit", args=[provider.pk])
    form = staff_client.get(url).context["form"]
    assert form.initial["scopes"] == ["openid", "email"]
    assert form.initial["resource_server"] is True

    response = staff_client.post(url, {**REGISTER, "scopes": ["read"]})
    assert response.status_code == 302
    metadata = ServiceProvider.objects.get().client_metadata
    assert (metadata.scope, metadata.resource_server) == ("read", False)
    entry = AuditEntry.objects.get()
    assert "scopes" in entry.detail and "resource_server" in entry.detail

    staff_client.post(url, REGISTER)
    assert ServiceProvider.objects.get().client_metadata.scope == ""


def test_detail_shows_scopes_and_resource_server(staff_client):
    provider, _ = _register(scopes=["profile", "openid"], resource_server=True)
    body = staff_client.get(reverse("console:provider-detail", args=[provider.pk])).content
    body = body.decode()
    assert "<code>openid</code>, <code>profile</code>" in body
    assert "Yes: may introspect the tokens of every client" in body

    other, _ = _register(name="Plain")
    body = staff_client.get(reverse("console:provider-detail", args=[other.pk])).content
    body = body.decode()
    assert "The server's default client scopes:</span> <code>openid</code>" in body
    assert "<code>introspection</code>" not in body
    assert "No: may introspect only its own tokens" in body


@pytest.mark.parametrize("scopes", [None, []])
def test_registration_default_scopes_are_stored_empty(scopes):
    provider, _ = _register(scopes=scopes)
    assert provider.client_metadata.scope == ""
    assert provider.client_metadata.resource_server is False


def test_registration_refuses_an_unknown_scope_by_name():
    with pytest.raises(registration.RegistrationError, match="unknown scope 'admin'"):
        _register(scopes=["read", "admin"])
    assert not ServiceProvider.objects.exists()


def test_refused_update_leaves_scopes_as_they_were():
    provider, _ = _register(scopes=["read"])
    arguments = {
        "name": "Today App",
        "callbacks": ["https://today.example/cb"],
        "grant_types": ["authorization_code"],
        "auth_method": "private_key_jwt",
    }
    with pytest.raises(registration.RegistrationError, match="'read write'"):
        registration.update_service_provider(provider, **arguments, scopes=["read write"])
    provider.refresh_from_db()
    assert provider.client_metadata.scope == "read"
    registration.update_service_provider(provider, **arguments, scopes=["write", "read", "read"])
    provider.refresh_from_db()
    assert provider.client_metadata.scope == "read write"
