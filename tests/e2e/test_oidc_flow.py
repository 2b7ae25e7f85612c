"""The whole OpenID Connect code flow against gunicorn, driven by Authlib (a client
library nobody here wrote): discovery, authorize with PKCE S256, state and nonce, the
Django login form, consent, the code, private_key_jwt at the token endpoint, the ID
token checked against /oauth2/jwks, userinfo, refresh, introspection and revocation.
Then what must be refused at every endpoint a client authenticates at, key rotation as
every server process sees it, and concurrent first-use creation of the signing key.
"""

from __future__ import annotations

import base64
import re
import secrets
import subprocess
import sys
import threading
import time
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session
from authlib.oauth2.rfc7523 import PrivateKeyJWT
from joserfc import jwt
from joserfc.jwk import KeySet

from tests import keys
from tests.live import ROOT, LiveServer, run_live_server

pytestmark = pytest.mark.live

CALLBACK = "https://rp.example/callback"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


class _Forms(HTMLParser):
    """The inputs of the first form on a page (name -> value), and its submit names."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, str] = {}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "input" and attrs.get("name") and attrs.get("type") != "submit":
            self.fields.setdefault(attrs["name"], attrs.get("value") or "")


def form_fields(html: str) -> dict[str, str]:
    parser = _Forms()
    parser.feed(html)
    return parser.fields


@pytest.fixture(scope="module")
def live():
    with run_live_server(workers=2) as server:
        yield server


@pytest.fixture(scope="module")
def admin(live: LiveServer) -> tuple[str, str]:
    out = live.manage("bootstrap")
    password = re.search(r"password: (\S+)", out).group(1)
    return "admin", password


def register(live: LiveServer, key: keys.KeyPair, name: str) -> dict:
    return live.register_client(name, key.cert_pem, callback=CALLBACK)


@pytest.fixture(scope="module")
def client_a(live, rsa_key) -> dict:
    return register(live, rsa_key, "rp-a")


@pytest.fixture(scope="module")
def client_b(live, ec_key) -> dict:
    return register(live, ec_key, "rp-b")


def discover(live: LiveServer) -> dict:
    response = requests.get(live.url("/.well-known/openid-configuration"), timeout=10)
    assert response.status_code == 200
    return response.json()


def rp_session(live: LiveServer, client: dict, key: keys.KeyPair, meta: dict) -> OAuth2Session:
    session = OAuth2Session(
        client["client_id"],
        key.private_pem.decode(),
        token_endpoint_auth_method="private_key_jwt",
        revocation_endpoint_auth_method="private_key_jwt",
        scope="openid profile email",
        redirect_uri=CALLBACK,
        code_challenge_method="S256",
    )
    # The assertion's aud is the token endpoint at every endpoint (CONTRACT.md).
    session.register_client_auth_method(PrivateKeyJWT(meta["token_endpoint"]))
    return session


def log_in_and_consent(live: LiveServer, authorize_url: str, admin: tuple[str, str]) -> str:
    """Play the browser: log in with Django's form, allow; return the redirect Location."""
    browser = requests.Session()
    login_page = browser.get(authorize_url, timeout=10)
    assert urlsplit(login_page.url).path == "/accounts/login/"
    fields = form_fields(login_page.text)
    fields.update(username=admin[0], password=admin[1])
    consent = browser.post(login_page.url, data=fields, timeout=10)
    assert consent.status_code == 200, consent.text
    assert urlsplit(consent.url).path == "/oauth2/authorize"
    fields = form_fields(consent.text)
    assert fields["code_challenge_method"] == "S256"
    fields["allow"] = "Authorize"
    answer = browser.post(consent.url, data=fields, allow_redirects=False, timeout=10)
    assert answer.status_code == 302, answer.text
    return answer.headers["Location"]


def verify_id_token(live: LiveServer, meta: dict, id_token: str, client_id: str, nonce: str):
    jwks = requests.get(meta["jwks_uri"], timeout=10).json()
    token = jwt.decode(id_token, KeySet.import_key_set(jwks), algorithms=["RS256"])
    jwt.JWTClaimsRegistry(
        iss={"essential": True, "value": live.issuer},
        aud={"essential": True, "value": client_id},
        nonce={"essential": True, "value": nonce},
        sub={"essential": True},
        exp={"essential": True},
        iat={"essential": True},
    ).validate(token.claims)
    assert token.header["alg"] == "RS256"
    assert token.header["kid"] in [k["kid"] for k in jwks["keys"]]
    return token


def run_code_flow(live, client, key, admin, meta):
    rp = rp_session(live, client, key, meta)
    nonce = secrets.token_urlsafe(12)
    verifier = secrets.token_urlsafe(48)
    url, state = rp.create_authorization_url(
        meta["authorization_endpoint"], nonce=nonce, code_verifier=verifier
    )
    location = log_in_and_consent(live, url, admin)
    assert location.startswith(CALLBACK)
    assert parse_qs(urlsplit(location).query)["state"] == [state]
    token = rp.fetch_token(
        meta["token_endpoint"], authorization_response=location, code_verifier=verifier
    )
    return rp, token, nonce


def test_discovery_is_built_from_the_issuer_whatever_host_says(live):
    port = urlsplit(live.base_url).port
    response = requests.get(
        live.url("/.well-known/openid-configuration"),
        headers={"Host": f"localhost:{port}", "X-Forwarded-Host": "evil.example"},
        timeout=10,
    )
    meta = response.json()
    assert meta["issuer"] == live.issuer
    for name, value in meta.items():
        if name == "jwks_uri" or name.endswith("_endpoint"):
            assert value.startswith(live.issuer + "/"), name
    assert "private_key_jwt" in meta["token_endpoint_auth_methods_supported"]
    alias = requests.get(live.url("/oauth2/token/.well-known/openid-configuration"), timeout=10)
    assert alias.json() == discover(live)


def test_full_flow_with_private_key_jwt(live, admin, client_a, rsa_key):
    meta = discover(live)
    rp, token, nonce = run_code_flow(live, client_a, rsa_key, admin, meta)
    id_token = verify_id_token(live, meta, token["id_token"], client_a["client_id"], nonce)
    assert id_token.claims["preferred_username"] == "admin"

    userinfo = rp.get(meta["userinfo_endpoint"], timeout=10)
    assert userinfo.status_code == 200
    assert userinfo.json()["sub"] == id_token.claims["sub"]

    old_refresh = token["refresh_token"]
    refreshed = rp.refresh_token(meta["token_endpoint"], refresh_token=old_refresh)
    assert refreshed["refresh_token"] != old_refresh
    assert refreshed["access_token"] != token["access_token"]

    introspection = rp.introspect_token(
        meta["introspection_endpoint"], token=refreshed["access_token"]
    )
    assert introspection.status_code == 200, introspection.text
    assert introspection.json()["active"] is True
    assert introspection.json()["client_id"] == client_a["client_id"]

    # The rotated-out refresh token is dead.
    stale = rp.introspect_token(meta["introspection_endpoint"], token=token["access_token"])
    assert stale.json()["active"] is False

    revoked = rp.revoke_token(meta["revocation_endpoint"], token=refreshed["access_token"])
    assert revoked.status_code == 200, revoked.text
    after = rp.introspect_token(meta["introspection_endpoint"], token=refreshed["access_token"])
    assert after.json()["active"] is False


def endpoint_request(meta: dict, endpoint: str) -> tuple[str, dict]:
    if endpoint == "token":
        return meta["token_endpoint"], {"grant_type": "client_credentials"}
    if endpoint == "introspect":
        return meta["introspection_endpoint"], {"token": "no-such-token"}
    return meta["revocation_endpoint"], {"token": "no-such-token"}


def assert_invalid_client(response: requests.Response) -> None:
    assert response.status_code == 401, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.json()["error"] == "invalid_client"
    assert "no-store" in response.headers.get("Cache-Control", "")


ENDPOINTS = ["token", "introspect", "revoke"]


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_replayed_assertion_is_refused(live, client_a, rsa_key, endpoint):
    meta = discover(live)
    url, form = endpoint_request(meta, endpoint)
    claims = keys.claims_for(client_a["client_id"], now=time.time(), aud=meta["token_endpoint"])
    assertion = rsa_key.sign(claims)
    body = {**form, "client_assertion_type": ASSERTION_TYPE, "client_assertion": assertion}
    first = requests.post(url, data=body, timeout=10)
    assert first.status_code == 200, first.text
    assert_invalid_client(requests.post(url, data=body, timeout=10))


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_assertion_for_another_client_is_refused(live, client_a, client_b, rsa_key, endpoint):
    meta = discover(live)
    url, form = endpoint_request(meta, endpoint)
    # Client A's key, claiming to be client B.
    claims = keys.claims_for(client_b["client_id"], now=time.time(), aud=meta["token_endpoint"])
    body = {
        **form,
        "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": rsa_key.sign(claims),
    }
    assert_invalid_client(requests.post(url, data=body, timeout=10))
    # A's own valid assertion, presented with B's client_id.
    claims = keys.claims_for(client_a["client_id"], now=time.time(), aud=meta["token_endpoint"])
    body = {
        **form,
        "client_id": client_b["client_id"],
        "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": rsa_key.sign(claims),
    }
    assert_invalid_client(requests.post(url, data=body, timeout=10))


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("style", ["basic", "post"])
def test_secret_of_a_private_key_jwt_client_is_refused(live, client_a, endpoint, style):
    meta = discover(live)
    url, form = endpoint_request(meta, endpoint)
    if style == "basic":
        credentials = f"{client_a['client_id']}:{client_a['client_secret']}"
        header = {"Authorization": "Basic " + base64.b64encode(credentials.encode()).decode()}
        response = requests.post(url, data=form, headers=header, timeout=10)
    else:
        body = {
            **form,
            "client_id": client_a["client_id"],
            "client_secret": client_a["client_secret"],
        }
        response = requests.post(url, data=body, timeout=10)
    assert_invalid_client(response)


def test_rotation_is_used_at_once_and_old_key_stays_published(live, admin, client_a, rsa_key):
    meta = discover(live)
    before = [k["kid"] for k in requests.get(meta["jwks_uri"], timeout=10).json()["keys"]]
    _, token, nonce = run_code_flow(live, client_a, rsa_key, admin, meta)
    old = verify_id_token(live, meta, token["id_token"], client_a["client_id"], nonce)
    out = live.manage("rotate_signing_key")
    new_kid = out.strip().rsplit(" ", 1)[-1]
    assert new_kid not in before
    # Each new ID token, from whichever worker answers, carries the new kid.
    for _ in range(live.workers * 2):
        _, token, nonce = run_code_flow(live, client_a, rsa_key, admin, meta)
        new = verify_id_token(live, meta, token["id_token"], client_a["client_id"], nonce)
        assert new.header["kid"] == new_kid
    kids = [k["kid"] for k in requests.get(meta["jwks_uri"], timeout=10).json()["keys"]]
    assert kids[0] == new_kid
    assert old.header["kid"] in kids


def test_concurrent_first_use_creates_exactly_one_key():
    """Several processes asking for the signing key of a fresh database at one instant."""
    count = 6
    with run_live_server(workers=1) as fresh:
        start = time.time() + 6  # every process is imported and waiting by then
        code = (
            f"import time; time.sleep(max(0, {start} - time.time()));"
            "from oidc import keys; print(keys.active_key().kid)"
        )
        results: list[subprocess.CompletedProcess] = []
        lock = threading.Lock()

        def one() -> None:
            result = subprocess.run(
                [sys.executable, str(ROOT / "manage.py"), "shell", "--no-imports", "-c", code],
                cwd=ROOT,
                env=fresh.env,
                capture_output=True,
                text=True,
                timeout=120,
            )
            with lock:
                results.append(result)

        threads = [threading.Thread(target=one) for _ in range(count)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert all(r.returncode == 0 for r in results), [r.stderr for r in results]
        kids = {r.stdout.strip() for r in results}
        assert len(kids) == 1
        rows = fresh.manage(
            "shell",
            "--no-imports",
            "-c",
            "from oidc.models import SigningKey; print(SigningKey.objects.count())",
        )
        assert rows.strip() == "1"
        jwks = requests.get(fresh.url("/oauth2/jwks"), timeout=10).json()
        assert [k["kid"] for k in jwks["keys"]] == list(kids)
