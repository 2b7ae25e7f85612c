"""A stock DOT project with ``clientauth`` dropped in serves private_key_jwt to Authlib.

The project's applications are DOT's default model, created before ``clientauth``
was installed; its certificates were imported with ``import_cert``. Authlib's
``PrivateKeyJWT`` gets a client_credentials token, runs the code flow with PKCE and a
refresh, and introspects and revokes at DOT's own endpoints; an assertion sent twice
is refused the second time, and one signed by a key the client never registered is
refused. ``test_without_validator.py`` shows the same requests failing without the
validator.
"""

from __future__ import annotations

import pytest
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuthError

from tests import keys
from tests.dropin import client as rp

pytestmark = pytest.mark.live


def test_the_drop_in_settings_pass_django_checks(dropin):
    result = dropin.manage("check")

    assert result.returncode == 0, result.stderr


def test_client_credentials_token(dropin):
    oauth = rp.session(dropin, dropin.clients["client_credentials"])

    token = oauth.fetch_token(dropin.token_url, grant_type="client_credentials")

    assert token["token_type"] == "Bearer"
    assert token["access_token"]
    assert token["scope"] == "read"
    assert "refresh_token" not in token


def test_code_flow_with_pkce_and_a_refresh(dropin):
    oauth = rp.code_session(dropin, dropin.clients["authorization_code"])
    verifier = generate_token(48)
    callback = rp.authorize(dropin, oauth, verifier)

    first = oauth.fetch_token(
        dropin.token_url, authorization_response=callback, code_verifier=verifier
    )
    refreshed = oauth.refresh_token(dropin.token_url)

    assert first["access_token"] and first["refresh_token"]
    assert first["scope"] == "read"
    assert refreshed["access_token"] not in ("", first["access_token"])
    # ROTATE_REFRESH_TOKEN: the refresh token is replaced too.
    assert refreshed["refresh_token"] not in ("", first["refresh_token"])


def test_introspect_then_revoke(dropin):
    cc = dropin.clients["client_credentials"]
    oauth = rp.session(dropin, cc)
    access_token = oauth.fetch_token(dropin.token_url, grant_type="client_credentials")[
        "access_token"
    ]
    introspect_url = dropin.url("/o/introspect/")

    before = oauth.introspect_token(introspect_url, token=access_token)
    revoked = oauth.revoke_token(dropin.url("/o/revoke_token/"), token=access_token)
    after = oauth.introspect_token(introspect_url, token=access_token)

    assert before.status_code == 200, before.text
    assert before.json()["active"] is True
    assert before.json()["client_id"] == cc.client_id
    assert revoked.status_code == 200, revoked.text
    assert after.status_code == 200, after.text
    assert after.json() == {"active": False}


def test_introspection_with_a_raw_assertion(dropin):
    """The form fields themselves, without Authlib: one fresh assertion per request."""
    cc = dropin.clients["client_credentials"]
    token = rp.session(dropin, cc).fetch_token(dropin.token_url, grant_type="client_credentials")

    response = rp.post(
        dropin,
        "/o/introspect/",
        {"token": token["access_token"], **rp.assertion_fields(rp.assertion(dropin, cc))},
    )

    assert response.status_code == 200, response.text
    assert response.json()["active"] is True


def test_a_replayed_assertion_is_refused(dropin):
    cc = dropin.clients["client_credentials"]
    data = {"grant_type": "client_credentials", **rp.assertion_fields(rp.assertion(dropin, cc))}

    first = rp.post(dropin, "/o/token/", data)
    replay = rp.post(dropin, "/o/token/", data)

    assert first.status_code == 200, first.text
    assert replay.status_code == 401, replay.text
    assert replay.json()["error"] == "invalid_client"
    assert replay.json()["error_description"] == "jti has been used already"


def test_an_assertion_signed_by_another_key_is_refused(dropin):
    cc = dropin.clients["client_credentials"]
    forged = rp.assertion(dropin, cc, key=keys.rsa_pair(name="attacker"))

    response = rp.post(
        dropin, "/o/token/", {"grant_type": "client_credentials", **rp.assertion_fields(forged)}
    )

    assert response.status_code == 401, response.text
    assert response.json()["error"] == "invalid_client"


def test_authlib_with_another_key_gets_no_token(dropin):
    cc = dropin.clients["client_credentials"]
    impostor = rp.Client(cc.client_id, "", keys.rsa_pair(name="attacker"))

    with pytest.raises(OAuthError) as refused:
        rp.session(dropin, impostor).fetch_token(dropin.token_url, grant_type="client_credentials")

    assert refused.value.error == "invalid_client"


@pytest.mark.parametrize("how", ["basic", "post"])
def test_the_existing_client_secret_still_works(dropin, how):
    """Dropping the validator in does not lock out the project's existing secret clients."""
    cc = dropin.clients["client_credentials"]
    data = {"grant_type": "client_credentials"}
    if how == "basic":
        response = rp.post(dropin, "/o/token/", data, auth=(cc.client_id, cc.client_secret))
    else:
        data.update(client_id=cc.client_id, client_secret=cc.client_secret)
        response = rp.post(dropin, "/o/token/", data)

    assert response.status_code == 200, response.text
    assert response.json()["access_token"]
    # Stored with the stock project's password hasher; stored again with the keyed
    # hash once it matched.
    stored = dropin.manage(
        "shell",
        "-c",
        "from oauth2_provider.models import Application; "
        f"print(Application.objects.get(client_id={cc.client_id!r}).client_secret.split('$')[0])",
    )
    assert stored.stdout.split()[-1] == "clientauth_hmac_sha256", stored.stdout + stored.stderr
