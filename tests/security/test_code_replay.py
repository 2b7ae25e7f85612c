"""A second redemption of an authorization code revokes the first one's tokens
(security review, defect 8; RFC 6749 section 4.1.2, RFC 9700 section 4.5); and a
refresh token goes only to a client allowed the refresh_token grant (defect 11).
Runs on every database the suite runs on (CI: SQLite, then PostgreSQL)."""

from __future__ import annotations

import pytest
from oauth2_provider.models import get_access_token_model, get_refresh_token_model

from clientauth.models import RedeemedCode
from clientauth.registration import register_service_provider
from tests.oidc.conftest import REDIRECT_URI, authorize, basic, form_post

pytestmark = pytest.mark.django_db


@pytest.fixture
def app(db):
    return register_service_provider(
        name="Code client",
        callbacks=[REDIRECT_URI],
        grant_types=["authorization_code", "refresh_token"],
        auth_method="client_secret_basic",
    )


def _exchange(client, app, secret, code, verifier):
    return form_post(
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


def _refresh(client, app, secret, token):
    return form_post(
        client,
        "/oauth2/token",
        {"grant_type": "refresh_token", "refresh_token": token},
        HTTP_AUTHORIZATION=basic(app.client_id, secret),
    )


def _active(client, app, secret, token) -> bool:
    response = form_post(
        client,
        "/oauth2/introspect",
        {"token": token},
        HTTP_AUTHORIZATION=basic(app.client_id, secret),
    )
    assert response.status_code == 200, response.content
    return response.json()["active"]


def test_a_replayed_code_revokes_the_tokens_it_gave(client, user, app):
    app, secret = app
    client.force_login(user)
    code, verifier, _ = authorize(client, app, scope="openid read")
    first = _exchange(client, app, secret, code, verifier)
    assert first.status_code == 200, first.content
    access, refresh = first.json()["access_token"], first.json()["refresh_token"]
    # A refresh before the replay: its tokens came from the code too.
    rotated = _refresh(client, app, secret, refresh)
    assert rotated.status_code == 200, rotated.content
    access2, refresh2 = rotated.json()["access_token"], rotated.json()["refresh_token"]
    assert _active(client, app, secret, access) is False  # rotation revoked it
    assert _active(client, app, secret, access2) is True

    replay = _exchange(client, app, secret, code, verifier)
    assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"

    assert _active(client, app, secret, access2) is False
    after = _refresh(client, app, secret, refresh2)
    assert after.status_code == 400 and after.json()["error"] == "invalid_grant"
    assert not get_access_token_model().objects.filter(application=app).exists()
    assert all(
        rt.revoked is not None for rt in get_refresh_token_model().objects.filter(application=app)
    )


def test_another_clients_code_revokes_nothing(client, user, app):
    app, secret = app
    other, other_secret = register_service_provider(
        name="Other",
        callbacks=[REDIRECT_URI],
        grant_types=["authorization_code", "refresh_token"],
        auth_method="client_secret_basic",
    )
    client.force_login(user)
    code, verifier, _ = authorize(client, app, scope="read")
    first = _exchange(client, app, secret, code, verifier)
    assert first.status_code == 200, first.content
    stolen = _exchange(client, other, other_secret, code, verifier)
    assert stolen.status_code == 400 and stolen.json()["error"] == "invalid_grant"
    assert _active(client, app, secret, first.json()["access_token"]) is True


def test_the_record_holds_no_code(client, user, app):
    app, secret = app
    client.force_login(user)
    code, verifier, _ = authorize(client, app, scope="read")
    assert _exchange(client, app, secret, code, verifier).status_code == 200
    record = RedeemedCode.objects.get(application=app)
    assert code not in record.code_checksum and len(record.code_checksum) == 64


def test_no_refresh_token_without_the_refresh_token_grant(client, user):
    app, secret = register_service_provider(
        name="No refresh",
        callbacks=[REDIRECT_URI],
        grant_types=["authorization_code"],
        auth_method="client_secret_basic",
    )
    client.force_login(user)
    code, verifier, _ = authorize(client, app, scope="openid read")
    response = _exchange(client, app, secret, code, verifier)
    assert response.status_code == 200, response.content
    assert "refresh_token" not in response.json()
    assert response.json()["access_token"] and response.json()["id_token"]
    assert not get_refresh_token_model().objects.filter(application=app).exists()


def test_a_refresh_token_with_the_refresh_token_grant(client, user, app):
    app, secret = app
    client.force_login(user)
    code, verifier, _ = authorize(client, app, scope="read")
    response = _exchange(client, app, secret, code, verifier)
    assert response.json()["refresh_token"]
