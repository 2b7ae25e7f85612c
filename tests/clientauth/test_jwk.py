"""JWK Sets are checked when set or fetched (``clientauth.jwk``): pure, no database.

Every refusal is of the whole set, with one line naming the key and the problem.
"""

from __future__ import annotations

import json

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from clientauth.jwk import MAX_KEYS, JwksError, parse_jwks, public_members, thumbprint
from tests import keys
from tests.clientauth.jwks_support import jwk_of, jwks_of


def text(*entries) -> str:
    return json.dumps(jwks_of(*entries))


def test_accepts_each_supported_key_type(rsa_key, ec_key, ec384_key, ed_key):
    p521 = keys.ec_pair(ec.SECP521R1, "ES512", "p521")
    keyset = parse_jwks(
        text(
            jwk_of(rsa_key, "r", use="sig", alg="RS256"),
            jwk_of(ec_key, "e"),
            jwk_of(ec384_key, "e3"),
            jwk_of(p521, "e5"),
            jwk_of(ed_key, "o", alg="EdDSA"),
        )
    )
    assert [k.kid for k in keyset.keys] == ["r", "e", "e3", "e5", "o"]
    assert [k.kty for k in keyset.keys] == ["RSA", "EC", "EC", "EC", "OKP"]
    rsa_public, ec_public = rsa_key.private_key.public_key(), ec_key.private_key.public_key()
    assert keyset.keys[0].key.public_numbers() == rsa_public.public_numbers()
    assert keyset.by_kid("e").key.public_numbers() == ec_public.public_numbers()
    assert len(keyset.digest) == 64


def test_rfc7638_thumbprint_example():
    # RFC 7638 section 3.1.
    n = (
        "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJEC"
        "PebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2Q"
        "vzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQF"
        "h6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"
    )
    assert thumbprint({"e": "AQAB", "kty": "RSA", "n": n}) == (
        "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
    )


def test_certificate_key_thumbprint_equals_its_jwk_thumbprint(rsa_key, ec_key, ed_key):
    for pair in (rsa_key, ec_key, ed_key):
        keyset = parse_jwks(text(jwk_of(pair, "k")))
        assert keyset.keys[0].thumbprint == thumbprint(
            public_members(pair.private_key.public_key())
        )


@pytest.mark.parametrize("member", ["d", "p", "q", "dp", "dq", "qi", "oth"])
def test_private_member_refuses_the_whole_set(rsa_key, ec_key, member):
    private = {**jwk_of(rsa_key, "leaked"), member: "AQAB"}
    with pytest.raises(JwksError, match=r"key 'leaked' has private member\(s\) " + member):
        parse_jwks(text(jwk_of(ec_key, "fine"), private))


def test_symmetric_key_is_refused_as_private():
    with pytest.raises(JwksError, match="private member"):
        parse_jwks(text({"kty": "oct", "kid": "hmac", "k": "c2VjcmV0"}))


def test_weak_rsa_key_is_refused():
    weak = keys.rsa_pair(bits=1024, name="weak")
    with pytest.raises(JwksError, match="RSA key of 1024 bits"):
        parse_jwks(text(jwk_of(weak, "weak")))


def test_duplicate_kids_are_refused(rsa_key, ec_key):
    with pytest.raises(JwksError, match="kid 'same' names more than one key"):
        parse_jwks(text(jwk_of(rsa_key, "same"), jwk_of(ec_key, "same")))


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"kty": "EC", "crv": "secp256k1", "x": "AA", "y": "AA"}, "EC curve"),
        ({"kty": "OKP", "crv": "X25519", "x": "AA"}, "OKP curve"),
        ({"kty": "oops"}, "kty 'oops'"),
        ({"kty": "RSA", "n": "!!", "e": "AQAB"}, "n is not base64url"),
        ({"kty": "RSA", "n": "AA", "e": "AQAB"}, "RSA key of 0 bits"),
        ({"kty": "EC", "crv": "P-256", "x": "AAAA", "y": "AAAA"}, "must be 32 bytes"),
        ("not an object", "is not a JSON object"),
    ],
)
def test_malformed_keys_are_refused(entry, message):
    with pytest.raises(JwksError, match=message):
        parse_jwks(text(entry))


def test_point_off_the_curve_is_refused(ec_key):
    entry = jwk_of(ec_key, "bad")
    entry["y"] = entry["x"]
    with pytest.raises(JwksError, match="not on P-256"):
        parse_jwks(text(entry))


def test_alg_must_fit_the_key(rsa_key):
    with pytest.raises(JwksError, match="alg 'ES256' does not fit a RSA key"):
        parse_jwks(text(jwk_of(rsa_key, "r", alg="ES256")))


@pytest.mark.parametrize(
    "document",
    ["", "nope", "[]", '{"keys": {}}', '{"keys": []}', '{"keys": [], "keys": []}', "NaN"],
)
def test_not_a_jwk_set(document):
    with pytest.raises(JwksError):
        parse_jwks(document)


def test_too_many_keys(ec_key):
    with pytest.raises(JwksError, match=f"at most {MAX_KEYS}"):
        parse_jwks(text(*[jwk_of(ec_key, f"k{i}") for i in range(MAX_KEYS + 1)]))


@pytest.mark.parametrize("kid", [7, "", "k" * 256, None])
def test_kid_must_be_a_short_string(ec_key, kid):
    entry = {**jwk_of(ec_key, None), "kid": kid}
    with pytest.raises(JwksError, match="kid must be a string"):
        parse_jwks(text(entry))


def test_stored_text_keeps_public_members_compactly(ec_key):
    keyset = parse_jwks(json.dumps(jwks_of(jwk_of(ec_key, "e", use="sig")), indent=4))
    assert "\n" not in keyset.text
    assert json.loads(keyset.text) == jwks_of(jwk_of(ec_key, "e", use="sig"))
