"""``jti`` tricks (RFC 7523 section 3 item 7, RFC 7519 section 4.1.7, CONTRACT.md "The JTI
table"): identifiers the table cannot hold are refused by name after the signature,
unusual but valid ones are recorded exactly, replays are refused, and one client's
``jti`` never blocks another's.
"""

from __future__ import annotations

import pytest

from clientauth.models import JtiRecord
from tests.security.conftest import register
from tests.security.support import assert_refused, assert_token, form, jti_rows, post


def refused(response, description: str) -> None:
    assert_refused(response, 401, "invalid_client", description)


@pytest.mark.parametrize(
    "jti, description",
    [
        ("", "jti must be a non-empty string"),
        ("j" * 256, "jti is longer than 255 characters"),
        ("é" * 256, "jti is longer than 255 characters"),
        ("nul\x00byte", "jti contains control characters"),
        ("tab\there", "jti contains control characters"),
        ("new\nline", "jti contains control characters"),
        ("\x1b[31mred", "jti contains control characters"),
        ("\ud800lone-surrogate", "jti contains control characters"),
    ],
    ids=["empty", "256", "256-unicode", "nul", "tab", "newline", "escape", "surrogate"],
)
def test_unusable_jti_is_refused_by_name(client, rsa_key, claims, jti, description):
    refused(post(client, form(rsa_key.sign(claims(jti=jti)))), description)
    assert jti_rows() == 0


@pytest.mark.parametrize(
    "jti",
    ["j" * 255, "é" * 255, "日本語のjti", "emoji-\U0001f510", "' OR 1=1 --", "%00", " ", "\u202e"],
    ids=["255", "255-unicode", "cjk", "emoji", "sql", "percent", "space", "rtl"],
)
def test_unusual_valid_jti_is_recorded_exactly_and_replay_refused(
    client, rsa_key, rsa_client, claims, jti
):
    assertion = rsa_key.sign(claims(jti=jti))
    assert_token(post(client, form(assertion)))
    assert list(JtiRecord.objects.values_list("jwt_id", flat=True)) == [jti]
    refused(post(client, form(assertion)), "jti has been used already")
    refused(post(client, form(rsa_key.sign(claims(jti=jti)))), "jti has been used already")
    assert jti_rows() == 1


def test_case_and_normalisation_variants_are_distinct(client, rsa_key, claims):
    """Exact comparison: no case folding or Unicode normalisation merges two jtis."""
    for jti in ("Abc", "abc", "ABC", "\u00e9", "e\u0301"):
        assert_token(post(client, form(rsa_key.sign(claims(jti=jti)))))
    assert jti_rows() == 5


def test_another_clients_jti_does_not_block_this_client(
    client, rsa_key, ec_key, rsa_client, claims
):
    other = register("sec-other-client", ec_key)
    shared = "shared-jti-value"
    assert_token(post(client, form(ec_key.sign(claims(other.client_id, jti=shared)))))
    assert_token(post(client, form(rsa_key.sign(claims(jti=shared)))))
    assert jti_rows(other.client_id) == 1 and jti_rows(rsa_client.client_id) == 1
    refused(post(client, form(rsa_key.sign(claims(jti=shared)))), "jti has been used already")


def test_attacker_cannot_burn_a_clients_jti(client, rsa_key, attacker_key, rsa_client, claims):
    """A forged assertion naming the client's future jti leaves the jti usable."""
    future = "next-jti-of-the-client"
    refused(
        post(client, form(attacker_key.sign(claims(jti=future)))), "Client authentication failed."
    )
    assert jti_rows() == 0
    assert_token(post(client, form(rsa_key.sign(claims(jti=future)))))


def test_refused_claims_do_not_consume_the_jti(client, rsa_key, claims, issuer):
    jti = "kept-after-refusal"
    refused(
        post(client, form(rsa_key.sign(claims(jti=jti, aud=issuer + "/x")))),
        f"aud must be {issuer} or {issuer}/oauth2/token",
    )
    assert jti_rows() == 0
    assert_token(post(client, form(rsa_key.sign(claims(jti=jti)))))


def test_grant_refused_after_authentication_consumes_the_jti(client, rsa_key, claims):
    """Authentication passed but the grant failed: the assertion passed every check,
    so its jti is used (the README's rule), and DOT's own writes stand."""
    assertion = rsa_key.sign(claims())
    response = post(client, form(assertion, scope="no-such-scope"))
    assert response.status_code == 400
    assert jti_rows() == 1
    assert_refused(
        post(client, form(assertion)), 401, "invalid_client", "jti has been used already"
    )


def test_grant_refused_before_authentication_consumes_no_jti(client, rsa_key, claims):
    """An unsupported grant type is refused before any client is authenticated."""
    assertion = rsa_key.sign(claims())
    response = post(client, form(assertion, grant_type="urn:example:no-such-grant"))
    assert response.status_code == 400
    assert response.json()["error"] == "unsupported_grant_type"
    assert jti_rows() == 0
    assert_token(post(client, form(assertion)))
