"""Client secrets cost a keyed hash, never a password hash (security review, defect 3).

The attack: ``Authorization: Basic <unknown id>:x`` made the server run a PBKDF2 with
a million iterations, so a few requests a second starved legitimate clients; and the
difference between that and the instant "method not registered" answer told which
client IDs exist. Here PBKDF2 is the users' hasher, as in production, and every
refusal must run exactly the keyed hash a real check runs and no PBKDF2 at all.
"""

from __future__ import annotations

import base64
from unittest import mock

import pytest
from django.contrib.auth.hashers import make_password
from django.utils import crypto

from clientauth import hashers
from clientauth.constants import CLIENT_SECRET_BASIC, CLIENT_SECRET_POST, PRIVATE_KEY_JWT
from clientauth.models import ServiceProvider
from tests.security.support import assert_refused, assert_token, form, post

pytestmark = pytest.mark.django_db

SECRET = "s" * 40 + "-client-secret"
PBKDF2 = "django.contrib.auth.hashers.PBKDF2PasswordHasher"
KEYED = "clientauth.hashers.ClientSecretHasher"


@pytest.fixture(autouse=True)
def _production_hashers(settings):
    settings.PASSWORD_HASHERS = [PBKDF2, KEYED]


@pytest.fixture
def spy():
    """Counts PBKDF2 runs and keyed-hash runs."""
    counts = {"pbkdf2": 0, "keyed": 0}
    real_pbkdf2, real_digest = crypto.pbkdf2, hashers._digest

    def pbkdf2(*args, **kwargs):
        counts["pbkdf2"] += 1
        return real_pbkdf2(*args, **kwargs)

    def digest(*args, **kwargs):
        counts["keyed"] += 1
        return real_digest(*args, **kwargs)

    with (
        mock.patch("django.contrib.auth.hashers.pbkdf2", pbkdf2),
        mock.patch.object(hashers, "_digest", digest),
    ):
        yield counts


def _client(client_id: str, method: str, secret: str = SECRET) -> ServiceProvider:
    from tests.clients import create_application

    return create_application(
        client_id=client_id,
        client_secret=secret,
        name=client_id,
        client_type=ServiceProvider.CLIENT_CONFIDENTIAL,
        authorization_grant_type=ServiceProvider.GRANT_CLIENT_CREDENTIALS,
        grant_types="client_credentials",
        token_endpoint_auth_method=method,
    )


def _basic(client, client_id: str, secret: str):
    value = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return post(client, form(None), HTTP_AUTHORIZATION=f"Basic {value}")


def test_a_new_secret_is_stored_with_the_keyed_hash():
    provider = _client("keyed-client", CLIENT_SECRET_BASIC)
    assert provider.client_secret.startswith(hashers.ALGORITHM + "$")
    assert SECRET not in provider.client_secret


def _cost(spy, send) -> dict[str, int]:
    spy.update(pbkdf2=0, keyed=0)
    send()
    return dict(spy)


def test_every_refusal_runs_the_same_keyed_hash_and_no_password_hash(client, spy):
    """Unknown client, other method, wrong secret: the same work, none of it PBKDF2.
    (The direct token path declines a refusal and the full path checks again, so a
    refusal may cost two keyed hashes; it costs the same two whatever the reason.)"""
    _client("basic-client", CLIENT_SECRET_BASIC)
    _client("jwt-client", PRIVATE_KEY_JWT)
    cases = {
        "unknown client": ("no-such-client", SECRET),
        "registered for another method": ("jwt-client", SECRET),
        "wrong secret": ("basic-client", "wrong-" + SECRET),
    }
    costs = {}
    for case, (client_id, secret) in cases.items():
        costs[case] = _cost(
            spy, lambda: assert_refused(_basic(client, client_id, secret), 401, "invalid_client")
        )
    first = costs["wrong secret"]
    assert first["pbkdf2"] == 0 and first["keyed"] >= 1
    assert all(cost == first for cost in costs.values()), costs
    success = _cost(spy, lambda: assert_token(_basic(client, "basic-client", SECRET)))
    assert success == {"pbkdf2": 0, "keyed": 1}


def test_the_secret_in_the_body_costs_the_same(client, spy):
    _client("post-client", CLIENT_SECRET_POST)
    costs = [
        _cost(
            spy,
            lambda: assert_refused(
                post(client, form(None, client_id=client_id, client_secret="wrong")),
                401,
                "invalid_client",
            ),
        )
        for client_id in ("post-client", "unknown-post-client")
    ]
    assert costs[0] == costs[1] and costs[0]["pbkdf2"] == 0 and costs[0]["keyed"] >= 1


def test_a_password_hashed_secret_is_stored_again_on_first_success(client, spy):
    provider = _client("legacy-client", CLIENT_SECRET_BASIC)
    legacy = make_password(SECRET, hasher="pbkdf2_sha256")
    ServiceProvider.objects.filter(pk=provider.pk).update(client_secret=legacy)

    assert_refused(_basic(client, "legacy-client", "wrong"), 401, "invalid_client")
    provider.refresh_from_db()
    assert provider.client_secret == legacy  # a wrong secret changes nothing

    assert_token(_basic(client, "legacy-client", SECRET))
    provider.refresh_from_db()
    assert provider.client_secret.startswith(hashers.ALGORITHM + "$")

    spy.update(pbkdf2=0, keyed=0)
    assert_token(_basic(client, "legacy-client", SECRET))
    assert spy["pbkdf2"] == 0


def test_a_rotated_secret_key_still_verifies_and_rekeys(client, settings):
    provider = _client("rotated-client", CLIENT_SECRET_BASIC)
    old_hash = provider.client_secret
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "a-new-secret-key-for-this-test-only-0123456789"

    assert_token(_basic(client, "rotated-client", SECRET))
    provider.refresh_from_db()
    assert provider.client_secret != old_hash
    settings.SECRET_KEY_FALLBACKS = []
    assert_token(_basic(client, "rotated-client", SECRET))


def test_the_key_matters(settings):
    """A leaked hash cannot be checked without the server's key."""
    encoded = hashers.ClientSecretHasher().encode(SECRET, "salt")
    settings.SECRET_KEY = "another-key-entirely-0123456789-0123456789"
    assert not hashers.ClientSecretHasher().verify(SECRET, encoded)


def test_a_plain_stored_secret_still_works_and_costs_the_same(client, spy):
    provider = _client("plain-client", CLIENT_SECRET_BASIC)
    ServiceProvider.objects.filter(pk=provider.pk).update(client_secret=SECRET)
    assert_token(_basic(client, "plain-client", SECRET))
    plain = _cost(
        spy, lambda: assert_refused(_basic(client, "plain-client", "w"), 401, "invalid_client")
    )
    unknown = _cost(
        spy, lambda: assert_refused(_basic(client, "nobody", "w"), 401, "invalid_client")
    )
    assert plain == unknown
