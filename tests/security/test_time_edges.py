"""Time edges (RFC 7523 section 3 items 4-6, RFC 7519 sections 4.1.4-4.1.6, WSO2's
RejectBeforeInMinutes, CONTRACT.md ``LEEWAY_SECONDS``, ``MAX_ASSERTION_LIFETIME_SECONDS``):
both sides of every boundary, with the server's clock pinned to a whole second.

With the defaults (leeway 60 s, lifetime 3600 s, iat no older than 100 minutes):
``exp = now - 60`` is accepted and ``now - 61`` refused; ``nbf``/``iat = now + 60``
accepted and ``now + 61`` refused; ``exp - iat = 3600`` accepted, ``3601`` refused.
"""

from __future__ import annotations

import uuid

import pytest

from tests.security.support import assert_refused, assert_token, form, jti_rows, post


@pytest.fixture
def at(rsa_key, rsa_client, token_url, frozen_now):
    """``at(**claims_relative_to_now)``: sign claims with times given as offsets from now."""

    def make(**offsets):
        claims = {
            "iss": rsa_client.client_id,
            "sub": rsa_client.client_id,
            "aud": token_url,
            "jti": uuid.uuid4().hex,
        }
        for name, offset in offsets.items():
            if offset is not None:
                claims[name] = int(frozen_now) + offset
        return rsa_key.sign(claims)

    return make


def accepted(client, assertion) -> None:
    assert_token(post(client, form(assertion)))


def refused(client, assertion, description: str) -> None:
    before = jti_rows()
    assert_refused(post(client, form(assertion)), 401, "invalid_client", description)
    assert jti_rows() == before


def test_exp_leeway(client, at):
    accepted(client, at(exp=-60, iat=-120))
    refused(client, at(exp=-61, iat=-120), "assertion has expired (exp)")
    accepted(client, at(exp=-60))
    refused(client, at(exp=-61), "assertion has expired (exp)")


def test_exp_now_is_accepted(client, at):
    accepted(client, at(exp=0, iat=-1))


def test_nbf_leeway(client, at):
    accepted(client, at(exp=300, iat=0, nbf=60))
    refused(client, at(exp=300, iat=0, nbf=61), "assertion is not valid yet (nbf)")
    accepted(client, at(exp=300, nbf=-3000))


def test_iat_in_the_future_leeway(client, at):
    accepted(client, at(exp=300, iat=60))
    refused(client, at(exp=300, iat=61), "iat is in the future")


def test_lifetime_from_iat(client, at):
    accepted(client, at(iat=-10, exp=3590))
    refused(client, at(iat=-10, exp=3591), "exp is more than 3600 s after iat")


def test_lifetime_from_now_without_iat(client, at):
    accepted(client, at(exp=3600))
    refused(client, at(exp=3601), "exp is more than 3600 s after now")


def test_lifetime_setting(client, at, settings):
    settings.PRIVATE_KEY_JWT = {"MAX_ASSERTION_LIFETIME_SECONDS": 120}
    accepted(client, at(iat=0, exp=120))
    refused(client, at(iat=0, exp=121), "exp is more than 120 s after iat")


def test_reject_before_in_minutes(client, at, settings):
    """iat older than REJECT_BEFORE_IN_MINUTES plus leeway is refused, even if exp is fine."""
    settings.PRIVATE_KEY_JWT = {"REJECT_BEFORE_IN_MINUTES": 1}
    accepted(client, at(iat=-120, exp=300))
    refused(client, at(iat=-121, exp=300), "iat is older than 1 minutes")


def test_reject_before_default_with_a_long_lifetime(client, at, settings):
    settings.PRIVATE_KEY_JWT = {"MAX_ASSERTION_LIFETIME_SECONDS": 3 * 3600}
    accepted(client, at(iat=-6060, exp=300))
    refused(client, at(iat=-6061, exp=300), "iat is older than 100 minutes")


def test_zero_leeway(client, at, settings):
    settings.PRIVATE_KEY_JWT = {"LEEWAY_SECONDS": 0}
    accepted(client, at(exp=0))
    refused(client, at(exp=-1), "assertion has expired (exp)")
    accepted(client, at(exp=300, nbf=0))
    refused(client, at(exp=300, nbf=1), "assertion is not valid yet (nbf)")
    refused(client, at(exp=300, iat=1), "iat is in the future")


def test_epoch_and_negative_dates(client, at, frozen_now):
    refused(client, at(exp=-int(frozen_now)), "assertion has expired (exp)")
    refused(client, at(exp=-int(frozen_now) - 10**6), "assertion has expired (exp)")
    refused(client, at(exp=300, iat=-int(frozen_now)), "exp is more than 3600 s after iat")


def test_replay_window_follows_exp_and_leeway(
    client, rsa_key, rsa_client, token_url, monkeypatch, frozen_now
):
    """A used jti is refused until its exp plus leeway has passed; then it may come again."""
    claims = {
        "iss": rsa_client.client_id,
        "sub": rsa_client.client_id,
        "aud": token_url,
        "jti": "window-jti",
        "exp": int(frozen_now) + 10,
    }
    first = rsa_key.sign(claims)
    accepted(client, first)
    refused(client, first, "jti has been used already")
    monkeypatch.setattr("clientauth.validator.time.time", lambda: frozen_now + 70)
    refused(client, first, "jti has been used already")
    again = rsa_key.sign({**claims, "exp": int(frozen_now) + 100})
    monkeypatch.setattr("clientauth.validator.time.time", lambda: frozen_now + 71)
    accepted(client, again)
    assert jti_rows(rsa_client.client_id) == 1
