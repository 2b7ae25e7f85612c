"""Each client is granted only its allowed scopes (security review, defect 2).

The attack: any client asked for ``scope=introspection write`` and got it, because
every configured scope was available to every client. Now a client has the scopes it
was registered with (``register_app --scopes``, the console), by default every
configured scope but ``introspection``, at every grant: client_credentials (on the
direct token path and DOT's alike), the authorization endpoint, and refresh, which
also narrows a token to what the client may have today.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from clientauth.models import ClientMetadata
from clientauth.registration import register_service_provider
from tests.oidc.conftest import REDIRECT_URI, authorize, authorize_params, basic, form_post

pytestmark = pytest.mark.django_db


def _client(grant_types, **extra):
    return register_service_provider(
        name="Scoped client",
        callbacks=[REDIRECT_URI],
        grant_types=grant_types,
        auth_method="client_secret_basic",
        **extra,
    )


def _client_credentials(client, app, secret, scope=None):
    data = {"grant_type": "client_credentials"}
    if scope is not None:
        data["scope"] = scope
    return form_post(client, "/oauth2/token", data, HTTP_AUTHORIZATION=basic(app.client_id, secret))


@pytest.mark.parametrize("scope", ["introspection", "introspection write", "read introspection"])
def test_the_introspection_scope_is_not_granted_by_default(client, scope):
    app, secret = _client(["client_credentials"])
    response = _client_credentials(client, app, secret, scope)
    assert response.status_code == 400 and response.json()["error"] == "invalid_scope"


def test_the_default_scopes_are_every_scope_but_introspection(client, settings):
    app, secret = _client(["client_credentials"])
    wanted = [s for s in settings.OAUTH2_PROVIDER["SCOPES"] if s != "introspection"]
    response = _client_credentials(client, app, secret, " ".join(wanted))
    assert response.status_code == 200, response.content
    assert response.json()["scope"].split() == wanted


def test_a_client_gets_only_its_registered_scopes(client):
    app, secret = _client(["client_credentials"], scopes=["read"])
    assert _client_credentials(client, app, secret, "write").json()["error"] == "invalid_scope"
    assert _client_credentials(client, app, secret, "read write").status_code == 400
    assert _client_credentials(client, app, secret, "read").json()["scope"] == "read"
    # No scope asked: the default scopes (read) within the allowed ones.
    assert _client_credentials(client, app, secret).json()["scope"] == "read"


def test_default_scopes_outside_the_allowed_ones_are_not_granted(client):
    app, secret = _client(["client_credentials"], scopes=["write"])
    response = _client_credentials(client, app, secret)
    assert response.status_code == 200, response.content
    assert response.json()["scope"] == ""


def test_the_authorization_endpoint_refuses_a_scope_not_allowed(client, user):
    app, _ = _client(["authorization_code", "refresh_token"], scopes=["openid", "read"])
    client.force_login(user)
    params = authorize_params(
        app,
        scope="openid write",
        state="st",
        code_challenge="E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        code_challenge_method="S256",
    )
    response = client.get("/oauth2/authorize", params)
    assert response.status_code == 302, response.content
    query = parse_qs(urlsplit(response["Location"]).query)
    assert query["error"] == ["invalid_scope"] and query["state"] == ["st"]


def test_refresh_keeps_to_the_scopes_allowed_today(client, user):
    app, secret = _client(["authorization_code", "refresh_token"], scopes=["read", "write"])
    client.force_login(user)
    code, verifier, _ = authorize(client, app, scope="read write", nonce="n")
    first = form_post(
        client,
        "/oauth2/token",
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT_URI,
            "code_verifier": verifier,
        },
        HTTP_AUTHORIZATION=basic(app.client_id, secret),
    )
    assert first.status_code == 200, first.content
    assert first.json()["scope"] == "read write"

    ClientMetadata.objects.filter(application=app).update(scope="read")

    def refresh(token, **extra):
        return form_post(
            client,
            "/oauth2/token",
            {"grant_type": "refresh_token", "refresh_token": token, **extra},
            HTTP_AUTHORIZATION=basic(app.client_id, secret),
        )

    asked = refresh(first.json()["refresh_token"], scope="write")
    assert asked.status_code == 400 and asked.json()["error"] == "invalid_scope"
    narrowed = refresh(first.json()["refresh_token"])
    assert narrowed.status_code == 200, narrowed.content
    assert narrowed.json()["scope"] == "read"

    ClientMetadata.objects.filter(application=app).update(scope="profile")
    none_left = refresh(narrowed.json()["refresh_token"])
    assert none_left.status_code == 400 and none_left.json()["error"] == "invalid_scope"


def test_the_admin_checks_scopes_as_register_app_does():
    from clientauth.admin import ClientMetadataForm

    app, _ = _client(["client_credentials"])
    metadata = ClientMetadata.objects.get(application=app)
    data = {
        "application": app.pk,
        "token_endpoint_auth_method": "client_secret_basic",
        "token_endpoint_auth_signing_alg": "",
        "grant_types": "client_credentials",
        "resource_server": False,
    }
    refused = ClientMetadataForm({**data, "scope": "read admin"}, instance=metadata)
    assert not refused.is_valid() and "admin" in str(refused.errors["scope"])
    accepted = ClientMetadataForm({**data, "scope": "write read read"}, instance=metadata)
    assert accepted.is_valid(), accepted.errors
    assert accepted.cleaned_data["scope"] == "read write"
