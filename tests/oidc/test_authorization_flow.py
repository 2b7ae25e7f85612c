"""The authorization-code flow through Django's test client: consent, PKCE, ID tokens,
userinfo. Client authentication here is by secret; private_key_jwt is tests/e2e's."""

from __future__ import annotations

import hashlib
import json
from urllib.parse import parse_qs, urlsplit

import pytest
from jwcrypto import jwk, jwt
from oauth2_provider.models import get_access_token_model

from oidc import keys
from tests.clients import create_application
from tests.oidc.conftest import authorize, authorize_params, exchange, pkce_pair

pytestmark = pytest.mark.django_db


def verify_id_token(client, token: str) -> tuple[dict, dict]:
    jwks = jwk.JWKSet.from_json(client.get("/oauth2/jwks").content)
    parsed = jwt.JWT(jwt=token, key=jwks, algs=["RS256"])
    return json.loads(parsed.header), json.loads(parsed.claims)


def test_anonymous_user_is_sent_to_the_login_page(client, secret_client):
    _, challenge = pkce_pair()
    response = client.get(
        "/oauth2/authorize",
        authorize_params(secret_client, code_challenge=challenge, code_challenge_method="S256"),
    )
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


def test_login_page_renders_the_form(client):
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    assert b'name="username"' in response.content
    assert b'name="password"' in response.content
    assert b"csrfmiddlewaretoken" in response.content


def test_code_flow_issues_rs256_id_token_with_server_kid_and_nonce(client, user, secret_client):
    client.force_login(user)
    code, verifier, _ = authorize(client, secret_client, nonce="abc-nonce")
    response = exchange(client, secret_client, code, verifier)
    assert response.status_code == 200, response.content
    body = response.json()
    header, claims = verify_id_token(client, body["id_token"])
    assert header["alg"] == "RS256"
    assert header["kid"] == keys.active_key().kid
    assert claims["iss"] == "http://127.0.0.1:8000"
    assert claims["aud"] == secret_client.client_id
    assert claims["nonce"] == "abc-nonce"
    assert claims["sub"] == user.oidc_subject.sub
    assert claims["email"] == "alice@example.org"
    assert claims["preferred_username"] == "alice"
    assert claims["name"] == "Alice Liddell"
    # The access token is linked to the ID token it came with (found by the server's kid).
    # Tokens are stored hashed (RFC 9700 section 4): look the row up by its checksum.
    checksum = hashlib.sha256(body["access_token"].encode()).hexdigest()
    access = get_access_token_model().objects.get(token_checksum=checksum)
    assert access.id_token is not None and str(access.id_token.jti) == claims["jti"]


def test_application_algorithm_field_does_not_matter(client, user, secret_client):
    secret_client.algorithm = "HS256"
    secret_client.save(update_fields=["algorithm"])
    client.force_login(user)
    code, verifier, _ = authorize(client, secret_client)
    response = exchange(client, secret_client, code, verifier)
    header, _ = verify_id_token(client, response.json()["id_token"])
    assert header["alg"] == "RS256"


def test_rotation_signs_new_tokens_with_new_kid_and_keeps_old_key(client, user, secret_client):
    client.force_login(user)
    old_kid = keys.active_key().kid
    code, verifier, _ = authorize(client, secret_client)
    old_token = exchange(client, secret_client, code, verifier).json()["id_token"]
    new_kid = keys.rotate().kid
    code, verifier, _ = authorize(client, secret_client)
    header, _ = verify_id_token(
        client, exchange(client, secret_client, code, verifier).json()["id_token"]
    )
    assert header["kid"] == new_kid != old_kid
    assert verify_id_token(client, old_token)[0]["kid"] == old_kid
    kids = [k["kid"] for k in client.get("/oauth2/jwks").json()["keys"]]
    assert kids == [new_kid, old_kid]


@pytest.mark.parametrize("method", ["plain", None])
def test_pkce_other_than_s256_is_refused(client, user, secret_client, method):
    client.force_login(user)
    verifier, _ = pkce_pair()
    params = authorize_params(secret_client, state="xyz", code_challenge=verifier)
    if method:
        params["code_challenge_method"] = method
    response = client.get("/oauth2/authorize", params)
    assert response.status_code == 302
    query = parse_qs(urlsplit(response["Location"]).query)
    assert query["error"] == ["invalid_request"]
    assert query["state"] == ["xyz"]


def test_missing_pkce_is_refused(client, user, secret_client):
    client.force_login(user)
    response = client.get("/oauth2/authorize", authorize_params(secret_client))
    assert response.status_code == 302
    assert parse_qs(urlsplit(response["Location"]).query)["error"] == ["invalid_request"]


def test_denied_consent_redirects_with_access_denied(client, user, secret_client):
    client.force_login(user)
    _, challenge = pkce_pair()
    params = authorize_params(
        secret_client, state="s1", code_challenge=challenge, code_challenge_method="S256"
    )
    page = client.get("/oauth2/authorize", params)
    data = {k: v for k, v in page.context["form"].initial.items() if v is not None}
    response = client.post("/oauth2/authorize", data)
    assert parse_qs(urlsplit(response["Location"]).query)["error"] == ["access_denied"]


@pytest.mark.parametrize(
    ("scope", "expected"),
    [
        ("openid", {"sub"}),
        ("openid email", {"sub", "email"}),
        ("openid profile email", {"sub", "email", "name", "preferred_username"}),
    ],
)
def test_userinfo_claims_follow_granted_scopes(client, user, secret_client, scope, expected):
    client.force_login(user)
    code, verifier, _ = authorize(client, secret_client, scope=scope)
    access_token = exchange(client, secret_client, code, verifier).json()["access_token"]
    response = client.get("/oauth2/userinfo", HTTP_AUTHORIZATION=f"Bearer {access_token}")
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    assert set(response.json()) == expected
    assert response.json()["sub"] == user.oidc_subject.sub


def test_userinfo_without_token_is_refused(client):
    response = client.get("/oauth2/userinfo")
    assert response.status_code == 401


def userinfo_token(client, user, secret_client, scope="openid email"):
    client.force_login(user)
    code, verifier, _ = authorize(client, secret_client, scope=scope)
    return exchange(client, secret_client, code, verifier).json()["access_token"]


def test_userinfo_answers_post_with_a_bearer_token(client, user, secret_client):
    """OIDC Core 5.3.1: GET and POST; DOT's view is CSRF-exempt and so is ours."""
    from django.test import Client

    token = userinfo_token(client, user, secret_client)
    strict = Client(enforce_csrf_checks=True)
    response = strict.post("/oauth2/userinfo", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200, response.content
    assert response.json()["sub"] == user.oidc_subject.sub


def test_userinfo_refuses_a_token_in_the_query_string(client, user, secret_client):
    token = userinfo_token(client, user, secret_client)
    response = client.get("/oauth2/userinfo", {"access_token": token})
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert response["Cache-Control"] == "no-store"


def test_userinfo_refuses_a_token_without_a_user(client, db):
    """A client_credentials token, even with openid in its scope, is 401 invalid_token."""
    import datetime as dt

    from django.utils import timezone
    from oauth2_provider.models import get_access_token_model

    app = create_application(
        name="Service",
        client_type="confidential",
        authorization_grant_type="client-credentials",
        redirect_uris="",
    )
    raw = "client-only-token-" + "x" * 20
    get_access_token_model().objects.create(
        application=app,
        user=None,
        token=raw,
        scope="openid read",
        expires=timezone.now() + dt.timedelta(hours=1),
    )
    response = client.get("/oauth2/userinfo", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_token"
    assert 'error="invalid_token"' in response["WWW-Authenticate"]
