"""Clients whose keys are a JWK Set, through the token endpoint (issue 16, "What it must show").

A ``jwks_uri`` client served by the loopback JWKS test server: its first key gets a
token; a second key published beside it is accepted after exactly one more fetch; a
key removed is refused once the cache's lifetime has passed; with the server down,
the keys last fetched work up to the staleness bound, then not; a flood of unknown
``kid``s fetches at most once. An inline ``jwks`` client, and the rules that hold for
both: no fetch for an unknown client or a malformed assertion, the certificate under
the client ID ignored, a switch of source effective at once, the direct path never
fetching. The clock is the test's (``clock``), so lifetimes are exact.
"""

from __future__ import annotations

import json
import time
from urllib.parse import urlencode

import pytest

from clientauth import keysources
from clientauth.errors import GENERIC_DESCRIPTION
from clientauth.models import AuthFailure
from clientauth.registration import register_service_provider
from keystore.services import import_certificate
from tests import keys
from tests.clientauth.jwks_support import jwk_of, jwks_of
from tests.security.support import compact

pytestmark = pytest.mark.django_db
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
LIFETIME = 30
STALE = 100


class Clock:
    def __init__(self) -> None:
        self.now = float(int(time.time()))

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock(monkeypatch) -> Clock:
    """``time.time`` under the test's control (the validator and the direct path read it)."""
    clock = Clock()
    monkeypatch.setattr(time, "time", clock)
    return clock


@pytest.fixture
def k2():
    return keys.rsa_pair(name="k2")


@pytest.fixture
def uri_client(jwks_settings, jwks_server, fresh_jwks, rsa_key):
    jwks_settings.PRIVATE_KEY_JWT = {
        **jwks_settings.PRIVATE_KEY_JWT,
        "JWKS_URI_MAX_STALE_SECONDS": STALE,
    }
    jwks_server.publish(jwk_of(rsa_key, "k1"), max_age=LIFETIME)
    sp, _ = register_service_provider(
        name="jwks_uri client",
        callbacks=[],
        grant_types=["client_credentials"],
        auth_method="private_key_jwt",
        jwks_uri=jwks_server.url(),
    )
    return sp


def token(client, pair, client_id, kid="k1", now=None, **claims):
    headers = {} if kid is None else {"kid": kid}
    assertion = pair.sign(
        keys.claims_for(client_id, now=now or time.time(), **claims), headers=headers
    )
    data = {
        "grant_type": "client_credentials",
        "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": assertion,
    }
    return client.post(
        "/oauth2/token", urlencode(data), content_type="application/x-www-form-urlencoded"
    )


def assert_token(response):
    assert response.status_code == 200, response.content
    assert json.loads(response.content)["access_token"]


def assert_generic(response):
    assert response.status_code == 401, response.content
    assert json.loads(response.content) == {
        "error": "invalid_client",
        "error_description": GENERIC_DESCRIPTION,
    }


def reasons(client_id):
    return set(AuthFailure.objects.filter(client_id=client_id).values_list("reason", flat=True))


def test_first_key_gets_a_token_after_one_fetch(client, clock, uri_client, rsa_key, jwks_server):
    assert_token(token(client, rsa_key, uri_client.client_id))
    assert_token(token(client, rsa_key, uri_client.client_id))
    assert_token(token(client, rsa_key, uri_client.client_id, kid=None))
    assert jwks_server.count() == 1


def test_new_key_beside_the_old_is_accepted_after_exactly_one_more_fetch(
    client, clock, uri_client, rsa_key, k2, jwks_server
):
    assert_token(token(client, rsa_key, uri_client.client_id))
    jwks_server.publish(jwk_of(rsa_key, "k1"), jwk_of(k2, "k2"), max_age=LIFETIME)
    clock.advance(5)

    assert_token(token(client, k2, uri_client.client_id, kid="k2"))
    assert jwks_server.count() == 2
    assert_token(token(client, rsa_key, uri_client.client_id))
    assert_token(token(client, k2, uri_client.client_id, kid="k2"))
    assert jwks_server.count() == 2


def test_removed_key_is_refused_once_the_cache_lifetime_has_passed(
    client, clock, uri_client, rsa_key, k2, jwks_server, caplog
):
    jwks_server.publish(jwk_of(rsa_key, "k1"), jwk_of(k2, "k2"), max_age=LIFETIME)
    assert_token(token(client, k2, uri_client.client_id, kid="k2"))
    jwks_server.publish(jwk_of(k2, "k2"), max_age=LIFETIME)

    clock.advance(LIFETIME - 1)
    assert_token(token(client, rsa_key, uri_client.client_id))  # still cached
    clock.advance(2)
    assert_generic(token(client, rsa_key, uri_client.client_id))
    assert "reason=unknown_kid" in caplog.text
    assert_token(token(client, k2, uri_client.client_id, kid="k2"))
    assert jwks_server.count() == 2


def test_server_down_keeps_the_last_keys_up_to_the_staleness_bound(
    client, clock, uri_client, rsa_key, jwks_server, caplog
):
    assert_token(token(client, rsa_key, uri_client.client_id))
    jwks_server.stop()

    clock.advance(LIFETIME + STALE - 1)
    assert_token(token(client, rsa_key, uri_client.client_id))
    report = keysources.current_keys(uri_client)
    assert report.last_error.startswith("fetch failed")
    assert [k.kid for k in report.keys] == ["k1"]

    clock.advance(2)
    assert_generic(token(client, rsa_key, uri_client.client_id))
    assert "jwks_fetch_failed" in reasons(uri_client.client_id)


def test_unknown_kid_sent_100_times_fetches_at_most_once(
    client, clock, uri_client, rsa_key, jwks_server, caplog
):
    assert_token(token(client, rsa_key, uri_client.client_id))
    before = jwks_server.count()
    for _ in range(100):  # within one second of the test's clock
        assert_generic(token(client, rsa_key, uri_client.client_id, kid="nope"))
    assert jwks_server.count() - before <= 1
    assert reasons(uri_client.client_id) == {"unknown_kid"}


def test_unknown_kid_on_a_cold_cache_fetches_once(client, clock, uri_client, rsa_key, jwks_server):
    for _ in range(20):
        assert_generic(token(client, rsa_key, uri_client.client_id, kid="nope"))
    assert jwks_server.count() == 1


def test_no_fetch_for_an_unknown_client_or_a_malformed_assertion(
    client, clock, uri_client, rsa_key, jwks_server
):
    assert_generic(token(client, rsa_key, "no-such-client"))
    data = {
        "grant_type": "client_credentials",
        "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": "not.a.jwt",
    }
    assert_generic(
        client.post(
            "/oauth2/token", urlencode(data), content_type="application/x-www-form-urlencoded"
        )
    )
    hmac = compact(
        {"alg": "HS256", "kid": "k1"}, keys.claims_for(uri_client.client_id, now=time.time()), b"x"
    )
    assert_generic(
        client.post(
            "/oauth2/token",
            urlencode({**data, "client_assertion": hmac}),
            content_type="application/x-www-form-urlencoded",
        )
    )
    assert jwks_server.count() == 0


def test_the_certificate_under_the_client_id_is_not_a_key_of_a_jwks_client(
    client, clock, uri_client, attacker_key, jwks_server
):
    import_certificate(uri_client.client_id, attacker_key.cert_pem)
    assert_generic(token(client, attacker_key, uri_client.client_id, kid=None))
    assert_generic(token(client, attacker_key, uri_client.client_id))


def test_switching_the_source_takes_effect_at_once(
    client, clock, uri_client, rsa_key, attacker_key, jwks_server
):
    assert_token(token(client, rsa_key, uri_client.client_id))
    import_certificate(uri_client.client_id, attacker_key.cert_pem)
    keysources.set_key_source(uri_client, keysources.CERTIFICATE)

    assert_generic(token(client, rsa_key, uri_client.client_id))
    assert_token(token(client, attacker_key, uri_client.client_id))


def test_direct_path_declines_what_would_fetch(
    client, clock, fast_path_on, uri_client, rsa_key, k2, jwks_server
):
    first = token(client, rsa_key, uri_client.client_id)
    assert_token(first)
    assert not getattr(first, "served_directly", False)  # the full path fetched
    second = token(client, rsa_key, uri_client.client_id)
    assert_token(second)
    assert second.served_directly

    jwks_server.publish(jwk_of(rsa_key, "k1"), jwk_of(k2, "k2"), max_age=LIFETIME)
    rotated = token(client, k2, uri_client.client_id, kid="k2")
    assert_token(rotated)
    assert not getattr(rotated, "served_directly", False)
    assert jwks_server.count() == 2


def test_inline_jwks_client(client, clock, fresh_jwks, rsa_key, k2, jwks_server):
    sp, _ = register_service_provider(
        name="inline jwks client",
        callbacks=[],
        grant_types=["client_credentials"],
        auth_method="private_key_jwt",
        jwks=json.dumps(jwks_of(jwk_of(rsa_key, "k1"))),
    )
    assert_token(token(client, rsa_key, sp.client_id))
    assert_generic(token(client, k2, sp.client_id, kid="k2"))

    # Rotation with an inline set: the operator sets the new set (old and new keys).
    keysources.set_key_source(
        sp, keysources.JWKS, jwks=json.dumps(jwks_of(jwk_of(rsa_key, "k1"), jwk_of(k2, "k2")))
    )
    assert_token(token(client, k2, sp.client_id, kid="k2"))
    keysources.set_key_source(sp, keysources.JWKS, jwks=json.dumps(jwks_of(jwk_of(k2, "k2"))))
    assert_generic(token(client, rsa_key, sp.client_id))
    assert jwks_server.count() == 0
