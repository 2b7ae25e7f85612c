"""The direct client_credentials grant answers exactly as DOT's own path does.

Each request is sent twice, once through ``clientauth.fastpath.grants`` and once with it
switched off (DOT and oauthlib), and the two answers and token rows are compared.
"""

from __future__ import annotations

import base64
import hashlib

import pytest
from oauth2_provider.models import get_access_token_model
from oauth2_provider.signals import app_authorized

from clientauth.fastpath import grants
from clientauth.registration import register_service_provider
from tests.clientauth.test_token_endpoint import post

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _direct_path_on(fast_path_on):
    """The direct path is one of the two ways compared: on in every run."""


def basic_client(grant_types=("client_credentials",)):
    sp, secret = register_service_provider(
        name="c",
        callbacks=["https://c.example/cb"],
        grant_types=list(grant_types),
        auth_method="client_secret_basic",
    )
    header = "Basic " + base64.b64encode(f"{sp.client_id}:{secret}".encode()).decode()
    return sp, header


def both_ways(client, monkeypatch, form, header):
    fast = post(client, form, HTTP_AUTHORIZATION=header)
    with monkeypatch.context() as m:
        m.setattr(grants, "handles", lambda request: False)
        slow = post(client, form, HTTP_AUTHORIZATION=header)
    return fast, slow


@pytest.mark.parametrize(
    "scope", [None, "", "read", "read write", "write read", "openid", "bogus", "read bogus"]
)
def test_same_answers_as_dot(client, monkeypatch, scope):
    sp, header = basic_client()
    form = {"grant_type": "client_credentials", **({} if scope is None else {"scope": scope})}
    fast, slow = both_ways(client, monkeypatch, form, header)
    assert fast.status_code == slow.status_code
    assert fast["Content-Type"] == slow["Content-Type"] == "application/json"
    assert fast["Cache-Control"] == slow["Cache-Control"] == "no-store"
    fast_body, slow_body = fast.json(), slow.json()
    assert list(fast_body) == list(slow_body)
    if fast.status_code == 200:
        assert fast_body["scope"] == slow_body["scope"]
        assert fast_body["expires_in"] == slow_body["expires_in"]
        assert len(fast_body["access_token"]) == len(slow_body["access_token"])
        rows = get_access_token_model().objects.filter(application=sp).order_by("id")
        fast_row, slow_row = rows
        for field in (
            "scope",
            "user_id",
            "id_token_id",
            "source_refresh_token_id",
            "resource",
            "token",
        ):
            assert getattr(fast_row, field) == getattr(slow_row, field), field
        checksum = hashlib.sha256(fast_body["access_token"].encode()).hexdigest()
        assert fast_row.token_checksum == checksum
        assert abs((fast_row.expires - slow_row.expires).total_seconds()) < 5
    else:
        assert fast_body == slow_body


def test_client_without_the_grant(client, monkeypatch):
    _, header = basic_client(grant_types=["authorization_code"])
    fast, slow = both_ways(client, monkeypatch, {"grant_type": "client_credentials"}, header)
    assert fast.status_code == slow.status_code == 400
    assert fast.json() == slow.json()
    assert fast.json()["error"] == "unauthorized_client"


def test_unusual_requests_go_through_dot(client):
    _, header = basic_client()
    form = {"grant_type": "client_credentials", "resource": "https://api.example/"}
    response = post(client, form, HTTP_AUTHORIZATION=header)
    assert response.status_code == 200
    assert get_access_token_model().objects.get().resource == ["https://api.example/"]


def test_a_listener_for_app_authorized_is_still_called(client):
    _, header = basic_client()
    heard = []

    def listener(sender, request, token, **kwargs):
        heard.append(token)

    app_authorized.connect(listener)
    try:
        assert (
            post(
                client, {"grant_type": "client_credentials"}, HTTP_AUTHORIZATION=header
            ).status_code
            == 200
        )
    finally:
        app_authorized.disconnect(listener)
    assert len(heard) == 1


def test_new_token_matches_oauthlibs_alphabet_and_length_and_is_uniform():
    from collections import Counter

    from oauthlib.common import UNICODE_ASCII_CHARACTER_SET

    tokens = [grants.new_token() for _ in range(4000)]
    assert all(len(t) == 30 and set(t) <= set(UNICODE_ASCII_CHARACTER_SET) for t in tokens)
    assert len(set(tokens)) == len(tokens)
    counts = Counter("".join(tokens))
    expected = 30 * 4000 / len(UNICODE_ASCII_CHARACTER_SET)
    # every character within 15% of its expected count (about 6.5 standard deviations)
    assert all(abs(counts[c] - expected) < 0.15 * expected for c in UNICODE_ASCII_CHARACTER_SET)
