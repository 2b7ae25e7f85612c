"""The client side of the drop-in tests: Authlib sessions, raw assertions, a browser login.

``session()`` is Authlib's ``OAuth2Session`` with its RFC 7523 ``PrivateKeyJWT``
client-auth method for the token, introspection and revocation endpoints (``aud`` is
DOT's token URL, as Authlib sets it). ``assertion()`` signs one with PyJWT where a test
needs the exact value, to send it twice. ``authorize()`` logs the user in through the
project's login form and returns the redirect that carries the code.
"""

from __future__ import annotations

import re
import time

import jwt
import requests
from authlib.integrations.requests_client import OAuth2Session
from authlib.oauth2.rfc7523 import PrivateKeyJWT

from tests import keys
from tests.dropin.harness import Client, DropIn
from tests.dropin.seed import REDIRECT_URI

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
TIMEOUT = 10


def session(dropin: DropIn, client: Client, **kwargs) -> OAuth2Session:
    """Authlib's session for ``client``, authenticating with private_key_jwt everywhere."""
    oauth = OAuth2Session(
        client.client_id,
        client.key.private_pem.decode(),
        token_endpoint_auth_method="private_key_jwt",
        # Authlib's default for revocation is client_secret_basic, even so.
        revocation_endpoint_auth_method="private_key_jwt",
        scope="read",
        **kwargs,
    )
    oauth.register_client_auth_method(PrivateKeyJWT(dropin.token_url))
    return oauth


def assertion(dropin: DropIn, client: Client, key: keys.KeyPair | None = None) -> str:
    """A fresh client assertion (iss = sub = client ID, aud = token URL, 60 s, random jti)."""
    claims = keys.claims_for(client.client_id, now=time.time(), aud=dropin.token_url, lifetime=60)
    signer = (key or client.key).private_key
    return jwt.encode(claims, signer, algorithm="RS256", headers={"typ": "JWT"})


def assertion_fields(value: str) -> dict[str, str]:
    return {"client_assertion_type": ASSERTION_TYPE, "client_assertion": value}


def post(dropin: DropIn, path: str, data: dict, **kwargs) -> requests.Response:
    return requests.post(dropin.url(path), data=data, timeout=TIMEOUT, **kwargs)


def login(dropin: DropIn) -> requests.Session:
    """A browser session logged in through ``/accounts/login/`` (CSRF token from the form)."""
    browser = requests.Session()
    form = browser.get(dropin.url("/accounts/login/"), timeout=TIMEOUT)
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text).group(1)
    response = browser.post(
        dropin.url("/accounts/login/"),
        data={
            "csrfmiddlewaretoken": csrf,
            "username": dropin.username,
            "password": dropin.password,
        },
        headers={"Referer": dropin.url("/accounts/login/")},
        allow_redirects=False,
        timeout=TIMEOUT,
    )
    assert response.status_code == 302, response.text
    return browser


def authorize(dropin: DropIn, oauth: OAuth2Session, code_verifier: str) -> str:
    """Log in, ask ``/o/authorize/`` for a code with PKCE S256; the callback URL it gives."""
    url, _state = oauth.create_authorization_url(
        dropin.url("/o/authorize/"), code_verifier=code_verifier
    )
    response = login(dropin).get(url, allow_redirects=False, timeout=TIMEOUT)
    assert response.status_code == 302, response.text
    location = response.headers["Location"]
    assert location.startswith(REDIRECT_URI + "?") and "code=" in location, location
    return location


def code_session(dropin: DropIn, client: Client) -> OAuth2Session:
    """``session()`` for the authorization-code client: its redirect URI, PKCE S256."""
    return session(dropin, client, redirect_uri=REDIRECT_URI, code_challenge_method="S256")
