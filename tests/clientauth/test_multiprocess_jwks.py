"""``jwks_uri`` clients served by two server processes (issue 16, "What it must show").

A live gunicorn server with two sync workers (two processes) on its own database,
SQLite, or PostgreSQL when the run's ``DATABASE_URL`` is, and Redis when ``REDIS_URL``
is set, fetches keys from the loopback JWKS test server in this process. With Redis
the processes share one cache, so the fetch counts are exact across both: one fetch
for the first key, exactly one more for a key published beside it, none for a flood of
unknown ``kid``s within the refetch interval. Without Redis (the local-memory cache)
each process keeps its own: the bounds are then per process, which the counts say.
Removal after the cache's lifetime and staleness with the server down hold either way.
"""

from __future__ import annotations

import json
import os
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests import keys
from tests.clientauth.jwks_support import JwksServer, jwk_of
from tests.live import LiveServer, run_live_server

pytestmark = pytest.mark.live

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
WORKERS = 2
SHARED_CACHE = bool(os.environ.get("REDIS_URL"))
# Fetches one event may cost: one with a shared cache, one per process without.
PER_EVENT = 1 if SHARED_CACHE else WORKERS


@pytest.fixture(scope="module")
def live() -> LiveServer:
    with run_live_server(
        workers=WORKERS, settings_module="tests.clientauth.live_jwks_settings"
    ) as server:
        yield server


@pytest.fixture
def jwks():
    server = JwksServer()
    yield server
    server.stop()


def register(live: LiveServer, url: str) -> str:
    out = live.manage(
        "register_app", "--name", "jwks", "--grant-types", "client_credentials",
        "--jwks-uri", url, "--json",
    )  # fmt: skip
    return json.loads(out)["client_id"]


def request(live: LiveServer, pair: keys.KeyPair, client_id: str, kid: str):
    url = live.url("/oauth2/token")
    claims = keys.claims_for(client_id, now=time.time(), aud=url)
    return requests.post(
        url,
        data={
            "grant_type": "client_credentials",
            "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": pair.sign(claims, headers={"kid": kid}),
        },
        timeout=30,
    )


def statuses(live, pair, client_id, kid, count) -> set[int]:
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = pool.map(lambda _: request(live, pair, client_id, kid), range(count))
        return {answer.status_code for answer in answers}


def test_rotation_and_unknown_kid_flood(live, jwks, rsa_key):
    k2 = keys.rsa_pair(name="k2")
    jwks.publish(jwk_of(rsa_key, "k1"), max_age=300)
    client_id = register(live, jwks.url())

    assert statuses(live, rsa_key, client_id, "k1", 12) == {200}
    first = jwks.count()
    assert 1 <= first <= PER_EVENT

    jwks.publish(jwk_of(rsa_key, "k1"), jwk_of(k2, "k2"), max_age=300)
    answer = request(live, k2, client_id, "k2")
    assert answer.status_code == 200, answer.text
    assert jwks.count() == first + 1
    assert statuses(live, k2, client_id, "k2", 12) == {200}
    assert jwks.count() <= first + PER_EVENT

    before = jwks.count()
    started = time.monotonic()
    assert statuses(live, rsa_key, client_id, "unknown", 100) == {401}
    assert time.monotonic() - started < 10
    assert jwks.count() - before <= (1 if SHARED_CACHE else WORKERS)
    assert "reason=unknown_kid" in live.log()


def test_removed_key_is_refused_after_the_cache_lifetime(live, jwks, rsa_key):
    k2 = keys.rsa_pair(name="k2")
    jwks.publish(jwk_of(rsa_key, "k1"), jwk_of(k2, "k2"), max_age=2)
    client_id = register(live, jwks.url())
    assert statuses(live, rsa_key, client_id, "k1", 6) == {200}

    jwks.publish(jwk_of(k2, "k2"), max_age=2)
    time.sleep(2.5)
    assert statuses(live, rsa_key, client_id, "k1", 6) == {401}
    assert statuses(live, k2, client_id, "k2", 6) == {200}


def test_server_down_keeps_keys_up_to_the_staleness_bound(live, jwks, rsa_key):
    jwks.publish(jwk_of(rsa_key, "k1"), max_age=1)  # fresh 1 s, then stale for 3 s
    client_id = register(live, jwks.url())
    assert statuses(live, rsa_key, client_id, "k1", 6) == {200}
    fetched_at = time.monotonic()
    jwks.stop()

    time.sleep(max(0.0, fetched_at + 2 - time.monotonic()))
    assert request(live, rsa_key, client_id, "k1").status_code == 200
    time.sleep(max(0.0, fetched_at + 4.5 - time.monotonic()))
    assert statuses(live, rsa_key, client_id, "k1", 6) == {401}
    assert "reason=jwks_fetch_failed" in live.log()
