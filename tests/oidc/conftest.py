"""Fixtures for the oidc tests: a user, a secret-authenticated client, an authorize helper."""

from __future__ import annotations

import base64
import hashlib
import secrets
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from django.contrib.auth import get_user_model

from tests.clients import create_application

REDIRECT_URI = "https://rp.example/callback"
CLIENT_SECRET = "s3cret-for-tests-only"


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def basic(client_id: str, secret: str = CLIENT_SECRET) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def make_user():
    """Alice, with every standard claim this server supplies."""
    return get_user_model().objects.create_user(
        "alice", email="alice@example.org", password="pw", first_name="Alice", last_name="Liddell"
    )


def make_secret_client(name: str = "Relying party", **fields):
    """A confidential authorization-code client authenticated by client_secret_basic."""
    return create_application(
        name=name,
        client_type="confidential",
        authorization_grant_type="authorization-code",
        redirect_uris=REDIRECT_URI,
        client_secret=CLIENT_SECRET,
        token_endpoint_auth_method="client_secret_basic",
        **fields,
    )


@pytest.fixture
def user(db):
    return make_user()


@pytest.fixture
def secret_client(db):
    return make_secret_client()


def authorize_params(app, *, scope: str = "openid", **more: str) -> dict[str, str]:
    """Query parameters of an authorization request for ``app`` (code flow)."""
    return {
        "response_type": "code",
        "client_id": app.client_id,
        "redirect_uri": REDIRECT_URI,
        "scope": scope,
        **more,
    }


def authorize(client, app, *, scope="openid profile email", nonce="n-0S6_WzA2Mj", extra=None):
    """Drive /oauth2/authorize and the consent form; return (code, verifier, state)."""
    verifier, challenge = pkce_pair()
    state = secrets.token_urlsafe(8)
    params = authorize_params(
        app,
        scope=scope,
        state=state,
        nonce=nonce,
        code_challenge=challenge,
        code_challenge_method="S256",
        **(extra or {}),
    )
    page = client.get("/oauth2/authorize", params)
    assert page.status_code == 200, page.content
    form = page.context["form"]
    data = {name: value for name, value in form.initial.items() if value is not None}
    data["allow"] = "Authorize"
    response = client.post("/oauth2/authorize", data)
    assert response.status_code == 302, response.content
    query = parse_qs(urlsplit(response["Location"]).query)
    assert query["state"] == [state]
    return query["code"][0], verifier, state


def exchange(client, app, code, verifier):
    return form_post(
        client,
        "/oauth2/token",
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT_URI,
            "code_verifier": verifier,
        },
        HTTP_AUTHORIZATION=basic(app.client_id),
    )


def form_post(client, path: str, data: dict, **headers):
    """POST ``data`` as application/x-www-form-urlencoded, as OAuth2 clients send it."""
    return client.post(
        path, urlencode(data), content_type="application/x-www-form-urlencoded", **headers
    )
