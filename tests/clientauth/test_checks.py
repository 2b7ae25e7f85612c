"""``manage.py check`` refuses a misconfigured PRIVATE_KEY_JWT with stable IDs."""

from __future__ import annotations

import pytest

from clientauth.checks import check_private_key_jwt


def ids(settings_dict, settings):
    settings.PRIVATE_KEY_JWT = settings_dict
    return [error.id for error in check_private_key_jwt()]


def test_defaults_are_clean(settings):
    assert ids({}, settings) == []


def test_unknown_key(settings):
    assert ids({"PREVENT_TOKEN_RESUSE": False}, settings) == ["clientauth.E001"]


@pytest.mark.parametrize("alg", ["HS256", "none", "RS1", "ES256K"])
def test_hmac_none_or_unknown_algorithm(alg, settings):
    assert ids({"ALLOWED_ALGORITHMS": ["RS256", alg]}, settings) == ["clientauth.E002"]


def test_empty_algorithms(settings):
    assert ids({"ALLOWED_ALGORITHMS": []}, settings) == ["clientauth.E002"]


@pytest.mark.parametrize("issuer", ["127.0.0.1:8000", "/relative", "http://a.example/", "ftp://x"])
def test_issuer_must_be_absolute_without_trailing_slash(issuer, settings):
    settings.AUTHSERVER_ISSUER = issuer
    assert "clientauth.E004" in ids({}, settings)


def test_alias_must_be_absolute(settings):
    assert ids({"TOKEN_ENDPOINT_ALIAS": "gateway/token"}, settings) == ["clientauth.E005"]
    assert ids({"TOKEN_ENDPOINT_ALIAS": ["https://gw.example/token"]}, settings) == []


@pytest.mark.parametrize(
    "values",
    [{"LEEWAY_SECONDS": -1}, {"REJECT_BEFORE_IN_MINUTES": "100"}, {"MAX_ASSERTION_BYTES": 10}],
)
def test_values_of_the_wrong_type_or_range(values, settings):
    assert ids(values, settings) == ["clientauth.E003"]
