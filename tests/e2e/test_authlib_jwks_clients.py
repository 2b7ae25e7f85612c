"""Authlib's ``PrivateKeyJWT`` with a ``kid`` header, against clients whose keys are a JWK
Set: a ``jwks_uri`` client (served by the loopback JWKS test server) and an inline
``jwks`` client, on a live gunicorn server (issue 16, "What it must show").

The ``jwks_uri`` client rotates its key the way the README says, with no operator: it
publishes a second key beside the first and signs with the new ``kid``. A ``kid`` the
set does not have is refused with the generic 401.

Not here: the fetch rules and refusals (``tests/clientauth``, ``tests/security``).
"""

from __future__ import annotations

import json

import pytest
from authlib.integrations.requests_client import OAuth2Session, OAuthError
from authlib.oauth2.rfc7523 import PrivateKeyJWT
from joserfc.jwk import ECKey

from tests import keys
from tests.clientauth.jwks_support import JwksServer, jwk_of, jwks_of
from tests.live import LiveServer, run_live_server

pytestmark = pytest.mark.live


@pytest.fixture(scope="module")
def live() -> LiveServer:
    with run_live_server(
        workers=2, settings_module="tests.clientauth.live_jwks_settings"
    ) as server:
        yield server


@pytest.fixture(scope="module")
def jwks():
    server = JwksServer()
    yield server
    server.stop()


def register(live: LiveServer, *args: str) -> str:
    out = live.manage(
        "register_app", "--name", "authlib-jwks", "--grant-types", "client_credentials",
        *args, "--json",
    )  # fmt: skip
    return json.loads(out)["client_id"]


def fetch(live: LiveServer, client_id: str, secret, alg: str, kid: str, seen=None) -> dict:
    token_url = live.url("/oauth2/token")
    session = OAuth2Session(client_id, secret, token_endpoint_auth_method="private_key_jwt")
    session.register_client_auth_method(PrivateKeyJWT(token_url, alg=alg, headers={"kid": kid}))
    if seen is not None:
        session.register_compliance_hook("access_token_response", lambda r: seen.append(r) or r)
    try:
        return session.fetch_token(token_url, grant_type="client_credentials")
    finally:
        session.close()


def test_jwks_uri_client_with_kid_and_rotation(live, jwks, rsa_key):
    jwks.publish(jwk_of(rsa_key, "k1", use="sig", alg="RS256"), max_age=300)
    client_id = register(live, "--jwks-uri", jwks.url())

    assert fetch(live, client_id, rsa_key.private_pem.decode(), "RS256", "k1")["access_token"]

    k2 = keys.rsa_pair(name="k2")
    jwks.publish(jwk_of(rsa_key, "k1"), jwk_of(k2, "k2"), max_age=300)
    assert fetch(live, client_id, k2.private_pem.decode(), "RS256", "k2")["access_token"]
    assert fetch(live, client_id, rsa_key.private_pem.decode(), "RS256", "k1")["access_token"]


def test_inline_jwks_client_with_kid(live, ec_key, tmp_path):
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps(jwks_of(jwk_of(ec_key, "ec1", use="sig"))))
    client_id = register(live, "--jwks", str(path))
    secret = ECKey.import_key(ec_key.private_pem.decode())

    assert fetch(live, client_id, secret, "ES256", "ec1")["access_token"]

    seen: list = []
    with pytest.raises(OAuthError):
        fetch(live, client_id, secret, "ES256", "ec2", seen)
    assert [r.status_code for r in seen] == [401]
    assert seen[0].json() == {
        "error": "invalid_client",
        "error_description": "Client authentication failed.",
    }
