"""Claim type confusion (RFC 7519 section 2 NumericDate and StringOrURI, section 4.1;
RFC 7523 section 3 items 1-7): every claim of the wrong JSON type is refused, after the
signature verified, with the failed check named, and consumes no ``jti``.

Descriptions are the contract's "names the failed check" text, asserted exactly.
"""

from __future__ import annotations

import pytest

from tests.security.support import assert_refused, assert_token, form, jti_rows, post

NOT_NUMERIC_DATE = "{} is not a NumericDate"


def refused(response, description: str) -> None:
    assert_refused(response, 401, "invalid_client", description)
    assert jti_rows() == 0


@pytest.mark.parametrize("name", ["exp", "iat", "nbf"])
@pytest.mark.parametrize(
    "value",
    ["1700000000", "", None, True, False, [1700000000], {"$date": 1}, "NaN", "1e9"],
    ids=repr,
)
def test_numeric_dates_of_the_wrong_type(client, rsa_key, claims, name, value):
    response = post(client, form(rsa_key.sign({**claims(), name: value})))
    refused(response, NOT_NUMERIC_DATE.format(name))


@pytest.mark.parametrize("name", ["exp", "iat", "nbf"])
@pytest.mark.parametrize("value", [10**400, -(10**400), 10**309], ids=["1e400", "-1e400", "1e309"])
def test_numeric_date_beyond_float_range(client, rsa_key, claims, name, value):
    response = post(client, form(rsa_key.sign({**claims(), name: value})))
    refused(response, NOT_NUMERIC_DATE.format(name))


def test_exp_of_two_to_the_64_is_too_long_a_lifetime(client, rsa_key, claims):
    response = post(client, form(rsa_key.sign({**claims(), "exp": 2**64})))
    refused(response, "exp is more than 3600 s after iat")


def test_float_dates_within_bounds_are_numeric_dates(client, rsa_key, claims):
    """RFC 7519 NumericDate may be non-integer: a float is a date, not a type error."""
    base = claims()
    response = post(
        client, form(rsa_key.sign({**base, "exp": base["exp"] + 0.5, "iat": base["iat"] + 0.25}))
    )
    assert_token(response)


@pytest.mark.parametrize("name", ["iss", "sub"])
@pytest.mark.parametrize("shape", ["list", "number", "object", "bool", "null"])
def test_identifiers_of_the_wrong_type(client, rsa_key, rsa_client, claims, name, shape):
    cid = rsa_client.client_id
    value = {"list": [cid], "number": 12345, "object": {"id": cid}, "bool": True, "null": None}[
        shape
    ]
    response = post(client, form(rsa_key.sign({**claims(), name: value})))
    if name == "sub":
        # sub selects the client before the signature: no client, generic refusal.
        assert_refused(response, 401, "invalid_client", "Client authentication failed.")
        assert jti_rows() == 0
    else:
        refused(response, "iss is not the client ID")


@pytest.mark.parametrize(
    "value", [12345, {"aud": "x"}, True, [], [1, 2], [["nested"]], None], ids=repr
)
def test_audience_of_the_wrong_type(client, rsa_key, claims, issuer, value):
    response = post(client, form(rsa_key.sign({**claims(), "aud": value})))
    refused(response, f"aud must be {issuer} or {issuer}/oauth2/token")


def test_audience_array_with_a_non_string_member(client, rsa_key, claims, token_url, issuer):
    response = post(client, form(rsa_key.sign({**claims(), "aud": [token_url, 7]})))
    refused(response, f"aud must be {issuer} or {issuer}/oauth2/token")


@pytest.mark.parametrize(
    "value, description",
    [
        (12345, "jti must be a non-empty string"),
        (1.5, "jti must be a non-empty string"),
        (["a"], "jti must be a non-empty string"),
        ({"a": 1}, "jti must be a non-empty string"),
        (True, "jti must be a non-empty string"),
        (None, "jti must be a non-empty string"),
    ],
    ids=repr,
)
def test_jti_of_the_wrong_type(client, rsa_key, claims, value, description):
    response = post(client, form(rsa_key.sign({**claims(), "jti": value})))
    refused(response, description)


@pytest.mark.parametrize("missing", ["iss", "aud", "exp", "jti"])
def test_missing_required_claim_is_named(client, rsa_key, claims, missing):
    payload = {k: v for k, v in claims().items() if k != missing}
    response = post(client, form(rsa_key.sign(payload)))
    refused(response, f"missing required claim(s): {missing}")


@pytest.mark.parametrize("typ", ["at+jwt", "JOSE", "jwt ", 1, ["JWT"], None, ""], ids=repr)
def test_typ_of_the_wrong_kind(client, rsa_key, claims, typ):
    response = post(client, form(rsa_key.sign(claims(), headers={"typ": typ})))
    refused(response, f"typ {typ!r} is not accepted")


@pytest.mark.parametrize(
    "typ",
    [
        "JWT",
        "jwt",
        "application/jwt",
        "client-authentication+jwt",
        "Application/Client-Authentication+JWT",
    ],
)
def test_accepted_typ_spellings(client, rsa_key, claims, typ):
    assert_token(post(client, form(rsa_key.sign(claims(), headers={"typ": typ}))))
