"""The fetch and cache rules of ``clientauth.jwks_cache``, with ``now`` passed in.

Both sides of each bound: the freshness lifetime (``Cache-Control`` clamped to the
minimum and maximum), the staleness bound, the refetch interval for unknown ``kid``s
and the retry interval after a failed fetch; one fetch in flight per client in a
process; a cache that is down; ``fetch=False`` never fetching.
"""

from __future__ import annotations

import threading
import time

import pytest
from django.core.cache import cache

from clientauth import conf, errors, jwks_cache
from clientauth.jwks_cache import lifetime, uri_keys
from tests import keys
from tests.clientauth.jwks_support import Route, jwk_of

NOW = 1_900_000_000.0
CLIENT = "cache-client"


@pytest.fixture
def policy(jwks_settings, fresh_jwks):
    jwks_settings.PRIVATE_KEY_JWT = {
        **jwks_settings.PRIVATE_KEY_JWT,
        "JWKS_URI_MIN_CACHE_SECONDS": 10,
        "JWKS_URI_MAX_CACHE_SECONDS": 100,
        "JWKS_URI_MAX_STALE_SECONDS": 50,
        "JWKS_URI_REFETCH_INTERVAL_SECONDS": 30,
    }
    return conf.policy()


@pytest.fixture
def served(jwks_server, rsa_key):
    jwks_server.publish(jwk_of(rsa_key, "k1"), max_age=60)
    return jwks_server


def kids(found) -> list:
    return [k.kid for k in found]


def test_lifetime_is_max_age_within_the_bounds(policy):
    assert lifetime(None, policy) == 100
    assert lifetime(0, policy) == 10
    assert lifetime(9, policy) == 10
    assert lifetime(10, policy) == 10
    assert lifetime(60, policy) == 60
    assert lifetime(100, policy) == 100
    assert lifetime(10**9, policy) == 100


def test_fresh_keys_are_not_fetched_again(policy, served):
    url = served.url()
    assert kids(uri_keys(CLIENT, url, "k1", now=NOW, policy=policy)) == ["k1"]
    assert kids(uri_keys(CLIENT, url, "k1", now=NOW + 59.9, policy=policy)) == ["k1"]
    assert served.count() == 1
    uri_keys(CLIENT, url, "k1", now=NOW + 60, policy=policy)
    assert served.count() == 2


def test_unknown_kid_refetches_once_per_interval(policy, served, rsa_key):
    url = served.url()
    uri_keys(CLIENT, url, "k1", now=NOW, policy=policy)
    k2 = keys.rsa_pair(name="k2")
    served.publish(jwk_of(rsa_key, "k1"), jwk_of(k2, "k2"), max_age=60)
    assert kids(uri_keys(CLIENT, url, "k2", now=NOW + 1, policy=policy)) == ["k1", "k2"]
    assert served.count() == 2
    for offset in (2, 3, 20):  # the k2 fetch took the interval's gate
        assert "k3" not in kids(uri_keys(CLIENT, url, "k3", now=NOW + offset, policy=policy))
    assert served.count() == 2
    # The gate is the shared cache's key, kept for the interval (the cache's own clock).
    cache.delete(f"{jwks_cache.state_key(CLIENT, url)}:refetch")
    uri_keys(CLIENT, url, "k3", now=NOW + 31, policy=policy)
    assert served.count() == 3


def test_unknown_kid_gate_is_shared_through_the_cache(policy, served, monkeypatch):
    url = served.url()
    uri_keys(CLIENT, url, "k1", now=NOW, policy=policy)
    # Another process took the gate: its key is in the shared cache.
    cache.add(f"{jwks_cache.state_key(CLIENT, url)}:refetch", 1, timeout=30)
    uri_keys(CLIENT, url, "other", now=NOW + 1, policy=policy)
    assert served.count() == 1


def test_failed_fetch_keeps_the_keys_up_to_the_staleness_bound(policy, served):
    url = served.url()
    uri_keys(CLIENT, url, "k1", now=NOW, policy=policy)
    served.routes["/jwks"] = Route(status=503, body=b"")
    # Fresh until NOW + 60, usable until NOW + 110.
    assert kids(uri_keys(CLIENT, url, "k1", now=NOW + 61, policy=policy)) == ["k1"]
    state = jwks_cache.state(jwks_cache.state_key(CLIENT, url))
    assert state["last_error"] == "HTTP 503" and state["last_error_at"] == NOW + 61
    assert kids(uri_keys(CLIENT, url, "k1", now=NOW + 109.9, policy=policy)) == ["k1"]
    with pytest.raises(errors.JwksFetchFailed, match="HTTP 503"):
        uri_keys(CLIENT, url, "k1", now=NOW + 110, policy=policy)


def test_failed_fetch_is_retried_once_per_interval(policy, served, monkeypatch):
    url = served.url()
    served.routes["/jwks"] = Route(status=500, body=b"")
    for _ in range(5):
        with pytest.raises(errors.JwksFetchFailed):
            uri_keys(CLIENT, url, "k1", now=NOW, policy=policy)
    assert served.count() == 1
    # The retry gate lives in the shared cache for the interval (real seconds).
    cache.delete(f"{jwks_cache.state_key(CLIENT, url)}:refresh")
    with pytest.raises(errors.JwksFetchFailed):
        uri_keys(CLIENT, url, "k1", now=NOW + 31, policy=policy)
    assert served.count() == 2


def test_fetch_false_never_fetches(policy, served):
    url = served.url()
    with pytest.raises(errors.JwksFetchDeferred):
        uri_keys(CLIENT, url, "k1", now=NOW, policy=policy, fetch=False)
    uri_keys(CLIENT, url, "k1", now=NOW, policy=policy)
    assert kids(uri_keys(CLIENT, url, "k1", now=NOW + 1, policy=policy, fetch=False)) == ["k1"]
    with pytest.raises(errors.JwksFetchDeferred):
        uri_keys(CLIENT, url, "k9", now=NOW + 1, policy=policy, fetch=False)
    assert served.count() == 1


def test_one_fetch_in_flight_per_client_in_a_process(policy, jwks_server, rsa_key):
    import json

    from tests.clientauth.jwks_support import jwks_of

    body = json.dumps(jwks_of(jwk_of(rsa_key, "k1"))).encode()
    jwks_server.routes["/jwks"] = Route(body=body, delay=0.2)
    url = jwks_server.url()
    results = []

    def worker():
        results.append(kids(uri_keys(CLIENT, url, "k1", now=NOW, policy=policy)))

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [["k1"]] * 8
    assert jwks_server.count() == 1


def test_keys_survive_a_cache_that_is_down(policy, served, monkeypatch):
    url = served.url()
    uri_keys(CLIENT, url, "k1", now=NOW, policy=policy)

    def down(*args, **kwargs):
        raise ConnectionError("cache down")

    for name in ("get", "set", "add", "delete", "delete_many"):
        monkeypatch.setattr(cache, name, down)
    assert kids(uri_keys(CLIENT, url, "k1", now=NOW + 1, policy=policy)) == ["k1"]
    uri_keys(CLIENT, url, "k9", now=NOW + 2, policy=policy)  # a local gate
    uri_keys(CLIENT, url, "k9", now=NOW + 3, policy=policy)
    assert served.count() == 2


def test_source_change_forgets_the_fetched_state(policy, served):
    url = served.url()
    uri_keys(CLIENT, url, "k1", now=NOW, policy=policy)
    key = jwks_cache.state_key(CLIENT, url)
    jwks_cache.forget(key)
    assert jwks_cache.state(key) is None


def test_a_wait_never_exceeds_the_timeout(policy, jwks_server, rsa_key):
    jwks_server.routes["/jwks"] = Route(delay=3)
    started = time.monotonic()
    with pytest.raises(errors.JwksFetchFailed, match="no answer within"):
        uri_keys(CLIENT, jwks_server.url(), "k1", now=NOW, policy=policy)
    assert time.monotonic() - started < policy.jwks_uri_timeout_seconds + 0.5
