"""A rotated refresh token used again revokes its family (RFC 9700 section 4.14.2),
and the revocation DOT writes while refusing the grant stays written: the refused
request does not roll it back. Runs on every database the suite runs on."""

from __future__ import annotations

import time

import pytest
from django.core.cache import cache
from oauth2_provider.models import get_access_token_model, get_refresh_token_model

from clientauth.constants import JWT_BEARER_CLIENT_ASSERTION_TYPE
from clientauth.registration import register_service_provider
from keystore.services import clear_key_cache, import_certificate
from tests import keys
from tests.oidc.conftest import REDIRECT_URI, authorize, form_post

pytestmark = pytest.mark.django_db


@pytest.fixture
def pk_app(rsa_key):
    cache.clear()
    clear_key_cache()
    app, _ = register_service_provider(
        name="Code client",
        callbacks=[REDIRECT_URI],
        grant_types=["authorization_code", "refresh_token"],
        auth_method="private_key_jwt",
    )
    import_certificate(app.client_id, rsa_key.cert_pem)
    yield app
    cache.clear()


def with_assertion(pair, app, data: dict) -> dict:
    assertion = pair.sign(keys.claims_for(app.client_id, now=time.time()))
    return {
        **data,
        "client_assertion_type": JWT_BEARER_CLIENT_ASSERTION_TYPE,
        "client_assertion": assertion,
    }


def refresh(client, pair, app, refresh_token: str):
    data = {"grant_type": "refresh_token", "refresh_token": refresh_token}
    return form_post(client, "/oauth2/token", with_assertion(pair, app, data))


def introspect(client, pair, app, token: str) -> dict:
    response = form_post(client, "/oauth2/introspect", with_assertion(pair, app, {"token": token}))
    assert response.status_code == 200, response.content
    return response.json()


def test_reusing_a_rotated_refresh_token_revokes_the_family(client, user, pk_app, rsa_key):
    client.force_login(user)
    code, verifier, _ = authorize(client, pk_app, scope="read")
    exchange = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT_URI,
        "code_verifier": verifier,
    }
    first = form_post(client, "/oauth2/token", with_assertion(rsa_key, pk_app, exchange))
    assert first.status_code == 200, first.content
    r1 = first.json()["refresh_token"]

    rotated = refresh(client, rsa_key, pk_app, r1)
    assert rotated.status_code == 200, rotated.content
    a2, r2 = rotated.json()["access_token"], rotated.json()["refresh_token"]
    assert introspect(client, rsa_key, pk_app, a2)["active"] is True

    stolen = refresh(client, rsa_key, pk_app, r1)  # r1 was rotated away: reuse
    assert stolen.status_code == 400 and stolen.json()["error"] == "invalid_grant"

    # The theft signal revoked the family, and the refusal did not undo it.
    after = refresh(client, rsa_key, pk_app, r2)
    assert after.status_code == 400 and after.json()["error"] == "invalid_grant"
    assert introspect(client, rsa_key, pk_app, a2) == {"active": False}
    assert not get_access_token_model().objects.filter(application=pk_app).exists()
    refresh_tokens = get_refresh_token_model().objects.filter(application=pk_app)
    assert all(row.revoked is not None for row in refresh_tokens)
