"""A Redis cache that is down costs neither tokens nor replay protection, and never a 5xx.

The cache only sits in front of the database (``clientauth.jti``): with ``REDIS_URL``
pointing at a port where nothing listens, the token endpoint still issues tokens, the
database still refuses a replayed ``jti`` with the contract's 401, and the outage is
logged as a warning by ``clientauth.jti``. The cache is configured exactly as
``authserver.env.cache()`` builds it from ``REDIS_URL`` (django-redis with its short
socket timeouts), swapped in through pytest-django's ``settings`` fixture.

Not here: Redis that is up (``test_concurrency.py``) and a database that is down.
"""

from __future__ import annotations

import logging
import socket
import time
from urllib.parse import urlencode

import pytest
from django.core.cache import caches

from authserver import env
from clientauth import jti as jti_module
from clientauth import registration
from keystore import services
from tests import keys

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
REPLAY = {"error": "invalid_client", "error_description": "jti has been used already"}


def dead_port() -> int:
    """A port nothing listens on: bound once to pick it, then closed."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def dead_redis(settings, monkeypatch):
    monkeypatch.setenv("REDIS_URL", f"redis://127.0.0.1:{dead_port()}/0")
    settings.CACHES = {"default": env.cache()}
    # The warning is rate-limited per process; start this test with the limit unspent.
    monkeypatch.setattr(jti_module, "_last_cache_warning", float("-inf"))
    assert settings.CACHES["default"]["BACKEND"] == "django_redis.cache.RedisCache"
    with pytest.raises(Exception, match="(?i)connect"):
        caches["default"].get("probe")
    yield
    caches["default"].close()


@pytest.fixture
def client_id(transactional_db, rsa_key) -> str:
    # Real commits: the gate writes the cache in an on_commit hook, which must not fail either.
    provider, _ = registration.register_service_provider(
        name="cache-down",
        callbacks=["https://rp.example/callback"],
        grant_types=["client_credentials"],
        auth_method="private_key_jwt",
    )
    services.import_certificate(provider.client_id, rsa_key.cert_pem)
    return provider.client_id


def post_token(client, assertion: str):
    return client.post(
        "/oauth2/token",
        urlencode(
            {
                "grant_type": "client_credentials",
                "client_assertion_type": ASSERTION_TYPE,
                "client_assertion": assertion,
            }
        ),
        content_type="application/x-www-form-urlencoded",
    )


def test_tokens_issued_and_replays_refused_with_redis_down(
    dead_redis, client_id, rsa_key, client, caplog
):
    caplog.set_level(logging.WARNING, logger="clientauth.jti")
    assertion = rsa_key.sign(keys.claims_for(client_id, now=time.time()))

    first = post_token(client, assertion)
    replay = post_token(client, assertion)
    fresh = post_token(client, rsa_key.sign(keys.claims_for(client_id, now=time.time())))

    assert first.status_code == 200, first.content
    assert first.json()["access_token"]
    assert replay.status_code == 401, replay.content
    assert replay.json() == REPLAY
    assert fresh.status_code == 200, fresh.content
    assert fresh.json()["access_token"] != first.json()["access_token"]
    warnings = [
        r for r in caplog.records if r.name == "clientauth.jti" and r.levelno == logging.WARNING
    ]
    assert warnings, caplog.text
    assert "cache unavailable" in warnings[0].getMessage()
    # The log names the failure, never the assertion.
    assert assertion not in caplog.text


def test_cache_outage_never_yields_a_server_error(dead_redis, client_id, rsa_key, client):
    now = time.time()
    good = rsa_key.sign(keys.claims_for(client_id, now=now))
    requests = [
        good,
        good,
        rsa_key.sign(keys.claims_for(client_id, now=now, exp=int(now) - 3600, iat=int(now) - 3700)),
        "not-a-jwt",
    ]

    statuses = [post_token(client, assertion).status_code for assertion in requests]

    assert statuses == [200, 401, 401, 401]
