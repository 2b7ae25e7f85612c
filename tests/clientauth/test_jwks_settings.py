"""The ``JWKS_URI_*`` keys of ``PRIVATE_KEY_JWT``: defaults, and ``manage.py check``
refusing values it cannot use (``clientauth.E003``) and warning about plain HTTP
outside DEBUG (``clientauth.W002``)."""

from __future__ import annotations

import pytest

from clientauth import checks, conf


def ids(settings, **overrides) -> list[str]:
    settings.PRIVATE_KEY_JWT = {**settings.PRIVATE_KEY_JWT, **overrides}
    found = checks.check_private_key_jwt() + checks.check_jwks_uri_http()
    return [message.id for message in found]


def test_defaults_are_safe_and_valid(settings):
    settings.PRIVATE_KEY_JWT = {}
    policy = conf.policy()
    assert policy.jwks_uri_allow_http is False
    assert policy.jwks_uri_allowed_hosts == frozenset()
    assert 0 < policy.jwks_uri_timeout_seconds <= 5
    assert policy.jwks_uri_max_bytes == 65536
    assert policy.jwks_uri_refetch_interval_seconds == 60
    assert policy.jwks_uri_min_cache_seconds <= policy.jwks_uri_max_cache_seconds == 3600
    assert policy.jwks_uri_max_stale_seconds == 86400
    assert ids(settings) == []


@pytest.mark.parametrize(
    "overrides",
    [
        {"JWKS_URI_TIMEOUT_SECONDS": 0},
        {"JWKS_URI_TIMEOUT_SECONDS": 61},
        {"JWKS_URI_TIMEOUT_SECONDS": "3"},
        {"JWKS_URI_MAX_BYTES": 100},
        {"JWKS_URI_REFETCH_INTERVAL_SECONDS": 0},
        {"JWKS_URI_MIN_CACHE_SECONDS": 4000},
        {"JWKS_URI_MAX_STALE_SECONDS": -1},
        {"JWKS_URI_ALLOWED_HOSTS": "jwks.example"},
        {"JWKS_URI_ALLOWED_HOSTS": [""]},
    ],
)
def test_unusable_values_fail_the_check(settings, overrides):
    assert ids(settings, **overrides) == ["clientauth.E003"]


def test_plain_http_outside_debug_warns(settings):
    settings.DEBUG = False
    assert ids(settings, JWKS_URI_ALLOW_HTTP=True) == ["clientauth.W002"]
    settings.DEBUG = True
    assert ids(settings, JWKS_URI_ALLOW_HTTP=True) == []


def test_allowed_hosts_are_compared_in_lower_case(settings):
    settings.PRIVATE_KEY_JWT = {"JWKS_URI_ALLOWED_HOSTS": ["JWKS.Example.", "[::1]"]}
    assert conf.policy().jwks_uri_allowed_hosts == frozenset({"jwks.example", "::1"})
