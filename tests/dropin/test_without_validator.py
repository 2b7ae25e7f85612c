"""Without our validator the stock project refuses private_key_jwt: the validator does the work.

``settings_novalidator`` is the drop-in settings minus ``OAUTH2_VALIDATOR_CLASS`` and
``OAUTH2_BACKEND_CLASS``: ``clientauth`` and ``keystore`` are installed and migrated and
the certificates imported, but DOT's own validator knows no client assertions. Every
request that ``test_private_key_jwt.py`` shows succeeding with the validator is refused
here, while the same clients' secrets still work, so the server itself is healthy.
"""

from __future__ import annotations

import pytest
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuthError

from tests.dropin import client as rp

pytestmark = pytest.mark.live


def secret_token(dropin, name: str) -> dict:
    """A token for the client-credentials client through its secret (HTTP Basic)."""
    client = dropin.clients[name]
    response = rp.post(
        dropin,
        "/o/token/",
        {"grant_type": "client_credentials", "scope": "read"},
        auth=(client.client_id, client.client_secret),
    )
    assert response.status_code == 200, response.text
    return response.json()


def test_the_clients_secret_still_gets_a_token(dropin_without_validator):
    token = secret_token(dropin_without_validator, "client_credentials")

    assert token["access_token"]
    assert token["token_type"] == "Bearer"


def test_client_credentials_with_an_assertion_is_refused(dropin_without_validator):
    dropin = dropin_without_validator
    cc = dropin.clients["client_credentials"]

    response = rp.post(
        dropin,
        "/o/token/",
        {"grant_type": "client_credentials", **rp.assertion_fields(rp.assertion(dropin, cc))},
    )

    assert response.status_code == 401, response.text
    assert response.json()["error"] == "invalid_client"


def test_authlib_private_key_jwt_gets_no_token(dropin_without_validator):
    dropin = dropin_without_validator
    oauth = rp.session(dropin, dropin.clients["client_credentials"])

    with pytest.raises(OAuthError) as refused:
        oauth.fetch_token(dropin.token_url, grant_type="client_credentials")

    assert refused.value.error == "invalid_client"


def test_code_exchange_with_an_assertion_is_refused(dropin_without_validator):
    dropin = dropin_without_validator
    oauth = rp.code_session(dropin, dropin.clients["authorization_code"])
    verifier = generate_token(48)
    callback = rp.authorize(dropin, oauth, verifier)

    with pytest.raises(OAuthError) as refused:
        oauth.fetch_token(dropin.token_url, authorization_response=callback, code_verifier=verifier)

    assert refused.value.error == "invalid_client"


def test_introspection_and_revocation_with_an_assertion_are_refused(dropin_without_validator):
    dropin = dropin_without_validator
    cc = dropin.clients["client_credentials"]
    access_token = secret_token(dropin, "client_credentials")["access_token"]
    oauth = rp.session(dropin, cc)

    introspected = oauth.introspect_token(dropin.url("/o/introspect/"), token=access_token)
    revoked = oauth.revoke_token(dropin.url("/o/revoke_token/"), token=access_token)

    # DOT answers a client it cannot authenticate at introspection with a bare 403.
    assert introspected.status_code == 403, introspected.text
    assert revoked.status_code == 401, revoked.text
    assert revoked.json()["error"] == "invalid_client"
    still = rp.post(
        dropin,
        "/o/introspect/",
        {"token": access_token},
        auth=(cc.client_id, cc.client_secret),
    )
    assert still.json()["active"] is True
