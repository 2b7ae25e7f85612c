"""A client library nobody here wrote gets tokens from the live server with private_key_jwt.

Authlib's ``OAuth2Session`` with its RFC 7523 ``PrivateKeyJWT`` client-auth method runs
the ``client_credentials`` grant against gunicorn, once per key type the contract
names: RS256, PS256, ES256 and EdDSA. Authlib sets ``aud`` to the token endpoint URL,
one of the accepted audiences. An assertion whose ``alg`` is RFC 9864's ``Ed25519``
(which neither PyJWT nor joserfc emits by that name, so ``tests.keys`` signs it) is
accepted too. A key the client never registered is refused, so the passes above are
the server's verification at work, not a server that accepts anything.

Not here: the authorization-code flow (``test_oidc_flow.py``) and each verifier rule
(``tests/clientauth``).
"""

from __future__ import annotations

import base64
import json
import time

import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session, OAuthError
from authlib.oauth2.rfc7523 import PrivateKeyJWT
from joserfc.jwk import ECKey, OKPKey

from tests import keys
from tests.live import LiveServer, run_live_server

pytestmark = pytest.mark.live

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


@pytest.fixture(scope="module")
def live() -> LiveServer:
    with run_live_server(workers=2) as server:
        yield server


REGISTER = """
import json
from io import StringIO
from django.core.management import call_command
clients = {{}}
for alg, cert in {specs!r}:
    out = StringIO()
    call_command("register_app", "--name", "authlib-" + alg, "--callback",
                 "https://rp.example/callback", "--grant-types", "client_credentials",
                 "--auth-method", "private_key_jwt", "--signing-alg", alg, "--json", stdout=out)
    clients[alg] = json.loads(out.getvalue())["client_id"]
    call_command("import_cert", "--alias", clients[alg], cert, stdout=StringIO())
print(json.dumps(clients))
"""


@pytest.fixture(scope="module")
def clients(live, rsa_key, ps_key, ec_key, ed_key, tmp_path_factory) -> dict[str, str]:
    """One client_credentials client per algorithm, pinned to it, with its certificate.

    ``register_app`` and ``import_cert`` run through ``call_command`` in one manage.py
    process: the same commands, one Django start-up instead of ten.
    """
    folder = tmp_path_factory.mktemp("certs")
    specs = []
    for alg, key in [
        ("RS256", rsa_key),
        ("PS256", ps_key),
        ("ES256", ec_key),
        ("EdDSA", ed_key),
        ("Ed25519", ed_key),
    ]:
        cert = folder / f"{alg}.pem"
        cert.write_bytes(key.cert_pem)
        specs.append((alg, str(cert)))
    out = live.manage("shell", "-c", REGISTER.format(specs=specs))
    return json.loads(out.strip().splitlines()[-1])


def authlib_secret(key: keys.KeyPair):
    """The private key as Authlib takes it for ``client_secret``.

    Authlib's ``PrivateKeyJWT.sign`` imports a PEM string as an RSA key; EC and OKP keys
    are handed over as joserfc key objects made from the same PEM, which it also accepts.
    """
    pem = key.private_pem.decode()
    if key.alg.startswith(("RS", "PS")):
        return pem
    if key.alg.startswith("ES"):
        return ECKey.import_key(pem)
    return OKPKey.import_key(pem)


def fetch(live: LiveServer, client_id: str, secret, alg: str, seen: list | None = None) -> dict:
    """Authlib's client_credentials request; ``seen`` collects the raw HTTP responses."""
    token_url = live.url("/oauth2/token")
    session = OAuth2Session(
        client_id, secret, token_endpoint_auth_method="private_key_jwt", scope="read"
    )
    session.register_client_auth_method(PrivateKeyJWT(token_url, alg=alg))

    def keep(response):
        if seen is not None:
            seen.append(response)
        return response

    session.register_compliance_hook("access_token_response", keep)
    try:
        return session.fetch_token(token_url, grant_type="client_credentials")
    finally:
        session.close()


# joserfc warns that RFC 9864 deprecates "EdDSA"; the contract still accepts it.
@pytest.mark.filterwarnings("ignore:EdDSA is deprecated")
@pytest.mark.parametrize(
    ("fixture", "alg"),
    [("rsa_key", "RS256"), ("ps_key", "PS256"), ("ec_key", "ES256"), ("ed_key", "EdDSA")],
)
def test_authlib_private_key_jwt_obtains_a_token(live, clients, request, fixture, alg):
    key: keys.KeyPair = request.getfixturevalue(fixture)
    client_id = clients[alg]
    secret = authlib_secret(key)

    first = fetch(live, client_id, secret, alg)
    # A second assertion carries a fresh jti: private_key_jwt is not single-shot per client.
    second = fetch(live, client_id, secret, alg)

    for token in (first, second):
        assert token["token_type"].lower() == "bearer"
        assert token["access_token"]
        assert token["expires_in"] > 0
        assert token["scope"] == "read"
    assert first["access_token"] != second["access_token"]


def test_authlib_with_an_unregistered_key_is_refused(live, clients, attacker_key):
    seen: list = []

    with pytest.raises(OAuthError) as refused:
        fetch(live, clients["RS256"], attacker_key.private_pem.decode(), "RS256", seen)

    assert [r.status_code for r in seen] == [401]
    assert seen[0].json() == {
        "error": "invalid_client",
        "error_description": "Client authentication failed.",
    }
    assert refused.value.error == "invalid_client"


def test_rfc9864_ed25519_alg_is_accepted(live, clients, ed_key):
    client_id = clients["Ed25519"]
    token_url = live.url("/oauth2/token")
    claims = keys.claims_for(client_id, now=time.time(), aud=token_url)
    assertion = ed_key.sign(claims, alg="Ed25519")
    header = json.loads(base64.urlsafe_b64decode(assertion.split(".")[0] + "=="))
    assert header["alg"] == "Ed25519"

    response = requests.post(
        token_url,
        data={
            "grant_type": "client_credentials",
            "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": assertion,
        },
        timeout=10,
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"].lower() == "bearer"
    assert body["access_token"]
