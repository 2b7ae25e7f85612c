"""The pure verifier, check by check, with a fixed ``now`` and stub lookups (no database).

Every check of ``clientauth.assertion`` has a case here that fails when the check is
removed, and every time boundary is tested on both sides.
"""

from __future__ import annotations

import base64
import json

import pytest
from cryptography.hazmat.primitives import serialization

from clientauth import errors
from clientauth.assertion import CHECKS, ClientInfo, verify_client_assertion
from clientauth.conf import DEFAULTS, build_policy

NOW = 1_800_000_000
ISSUER = "http://127.0.0.1:8000"
TOKEN_URL = f"{ISSUER}/oauth2/token"
CLIENT_ID = "client-1"
CLIENT = ClientInfo(CLIENT_ID, "private_key_jwt")


def policy(**overrides):
    return build_policy({**DEFAULTS, **overrides}, ISSUER)


def claims(**overrides):
    base = {
        "iss": CLIENT_ID,
        "sub": CLIENT_ID,
        "aud": TOKEN_URL,
        "jti": "jti-1",
        "iat": NOW,
        "exp": NOW + 300,
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def verify(token, key_pair, *, client=CLIENT, pol=None, client_id=None, now=NOW, key_list=None):
    key_list = [key_pair.private_key.public_key()] if key_list is None else key_list
    return verify_client_assertion(
        token,
        find_client=lambda cid: client if client is not None and cid == client.client_id else None,
        find_keys=lambda c, kid: key_list,
        policy=pol or policy(),
        now=now,
        client_id=client_id,
    )


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def raw_token(header: object, payload: object, signature: bytes = b"sig") -> str:
    h = header if isinstance(header, str) else b64(json.dumps(header).encode())
    p = payload if isinstance(payload, str) else b64(json.dumps(payload).encode())
    return f"{h}.{p}.{b64(signature)}"


# --- accepted -------------------------------------------------------------------------


@pytest.mark.parametrize("fixture", ["rsa_key", "ps_key", "ec_key", "ec384_key", "ed_key"])
def test_accepts_each_key_type(request, fixture):
    pair = request.getfixturevalue(fixture)
    result = verify(pair.sign(claims()), pair)
    assert result.client == CLIENT
    assert result.jti == "jti-1"
    assert result.exp == NOW + 300
    assert result.alg == pair.alg


def test_accepts_rfc9864_ed25519_name(ed_key):
    result = verify(ed_key.sign(claims(), alg="Ed25519"), ed_key)
    assert result.alg == "Ed25519"


def test_checks_run_in_documented_order(rsa_key):
    seen = []
    verify_client_assertion(
        rsa_key.sign(claims()),
        find_client=lambda cid: CLIENT,
        find_keys=lambda c, kid: [rsa_key.private_key.public_key()],
        policy=policy(),
        now=NOW,
        on_pass=seen.append,
    )
    assert seen == [name for name, _ in CHECKS]


# --- size and form -----------------------------------------------------------------------


def test_size_limit_both_sides(rsa_key):
    token = rsa_key.sign(claims())
    assert verify(token, rsa_key, pol=policy(MAX_ASSERTION_BYTES=len(token)))
    with pytest.raises(errors.AssertionTooLarge):
        verify(token, rsa_key, pol=policy(MAX_ASSERTION_BYTES=len(token) - 1))


def test_size_counts_bytes_not_characters(rsa_key):
    token = "é" * 300  # 600 bytes
    with pytest.raises(errors.AssertionTooLarge):
        verify(token, rsa_key, pol=policy(MAX_ASSERTION_BYTES=400))


@pytest.mark.parametrize(
    "token",
    [
        "",
        "abc",
        "a.b",
        "a.b.c.d",
        "a.b.c.d.e",
        "!!!.e30.c2ln",
        "e30.e30.c2ln=",
        "eyJ.e30.c2ln",
        "é.e30.c2ln",
    ],
)
def test_malformed_compact_serialisation(token, rsa_key):
    with pytest.raises(errors.MalformedAssertion):
        verify(token, rsa_key)


@pytest.mark.parametrize(
    "header, payload",
    [
        (b64(b"not json"), {"sub": CLIENT_ID}),
        ({"alg": "RS256"}, b64(b"[1, 2]")),
        ({"alg": "RS256"}, b64(b'"a string"')),
        ({"alg": "RS256"}, b64(b"\xff\xfe\x00")),
        ({"alg": "RS256"}, b64(b'{"sub": "a", "sub": "client-1"}')),
        ({"alg": "RS256"}, b64(b'{"sub": "client-1", "exp": NaN}')),
        ({"alg": "RS256"}, b64(b"[" * 2000 + b"]" * 2000)),
        ({"alg": "RS256", "crit": ["exp"]}, {"sub": CLIENT_ID}),
    ],
)
def test_malformed_contents(header, payload, rsa_key):
    with pytest.raises(errors.MalformedAssertion):
        verify(raw_token(header, payload), rsa_key)


# --- client and method -----------------------------------------------------------------


@pytest.mark.parametrize("sub", [None, "", 42, ["client-1"], "other-client", "x" * 256, "a\x00b"])
def test_client_is_found_from_sub(sub, rsa_key):
    with pytest.raises(errors.UnknownClient):
        verify(rsa_key.sign(claims(sub=sub)), rsa_key)


def test_client_lookup_uses_sub_not_iss(rsa_key):
    with pytest.raises(errors.UnknownClient):
        verify(rsa_key.sign(claims(sub="nobody", iss=CLIENT_ID)), rsa_key)


@pytest.mark.parametrize("method", ["client_secret_basic", "client_secret_post"])
def test_client_must_be_registered_for_private_key_jwt(method, rsa_key):
    with pytest.raises(errors.MethodNotRegistered):
        verify(rsa_key.sign(claims()), rsa_key, client=ClientInfo(CLIENT_ID, method))


# --- algorithm and signature -------------------------------------------------------------


@pytest.mark.parametrize("alg", ["none", "None", "NONE", "HS256", "HS384", "HS512", "RS1", 7, None])
def test_forbidden_or_unknown_algorithms(alg, rsa_key):
    header = {"alg": alg, "typ": "JWT"} if alg is not None else {"typ": "JWT"}
    with pytest.raises(errors.AlgorithmNotAllowed):
        verify(raw_token(header, claims(), b""), rsa_key)


def test_hmac_keyed_with_the_public_key_is_refused(rsa_key):
    import hashlib
    import hmac

    public_pem = rsa_key.private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    payload = b64(json.dumps(claims()).encode())
    mac = hmac.new(public_pem, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    with pytest.raises(errors.AlgorithmNotAllowed):
        verify(f"{header}.{payload}.{b64(mac)}", rsa_key)


def test_algorithm_must_be_in_allowed_algorithms(ec_key):
    token = ec_key.sign(claims())
    assert verify(token, ec_key, pol=policy(ALLOWED_ALGORITHMS=["ES256"]))
    with pytest.raises(errors.AlgorithmNotAllowed):
        verify(token, ec_key, pol=policy(ALLOWED_ALGORITHMS=["RS256", "ES384"]))


def test_ed25519_name_is_separately_allowed(ed_key):
    token = ed_key.sign(claims(), alg="Ed25519")
    with pytest.raises(errors.AlgorithmNotAllowed):
        verify(token, ed_key, pol=policy(ALLOWED_ALGORITHMS=["EdDSA"]))


def test_client_pinned_algorithm(rsa_key):
    pinned = ClientInfo(CLIENT_ID, "private_key_jwt", signing_alg="PS256")
    with pytest.raises(errors.AlgorithmNotAllowed):
        verify(rsa_key.sign(claims(), alg="RS256"), rsa_key, client=pinned)
    assert verify(rsa_key.sign(claims(), alg="PS256"), rsa_key, client=pinned)


@pytest.mark.parametrize(
    "fixture, alg",
    [
        ("rsa_key", "ES256"),
        ("ec_key", "RS256"),
        ("ec_key", "ES384"),
        ("ed_key", "ES256"),
        ("ec_key", "EdDSA"),
        ("rsa_key", "EdDSA"),
    ],
)
def test_header_algorithm_must_fit_the_key_type(request, fixture, alg):
    pair = request.getfixturevalue(fixture)
    header = {"alg": alg, "typ": "JWT"}
    with pytest.raises(errors.AlgorithmNotAllowed):
        verify(raw_token(header, claims(), b"x" * 64), pair)


def test_signature_by_another_key_is_refused(rsa_key, attacker_key):
    with pytest.raises(errors.BadSignature):
        verify(attacker_key.sign(claims()), rsa_key)


def test_tampered_claims_are_refused(rsa_key):
    header, _, signature = rsa_key.sign(claims()).split(".")
    forged = b64(json.dumps(claims(jti="other")).encode())
    with pytest.raises(errors.BadSignature):
        verify(f"{header}.{forged}.{signature}", rsa_key)


def test_client_without_valid_certificate(rsa_key):
    with pytest.raises(errors.NoClientKey):
        verify(rsa_key.sign(claims()), rsa_key, key_list=[])


def test_any_of_the_clients_keys_may_verify(rsa_key, attacker_key):
    keys_ = [attacker_key.private_key.public_key(), rsa_key.private_key.public_key()]
    assert verify(rsa_key.sign(claims()), rsa_key, key_list=keys_)


@pytest.mark.parametrize("header", ["jwk", "jku", "x5u", "x5c"])
def test_key_reference_headers_never_supply_the_key(header, rsa_key, attacker_key):
    public = attacker_key.private_key.public_key()
    numbers = public.public_numbers()
    jwk = {"kty": "RSA", "n": b64(numbers.n.to_bytes(256, "big")), "e": "AQAB"}
    values = {
        "jwk": jwk,
        "jku": "http://127.0.0.1:9/jwks",
        "x5u": "http://127.0.0.1:9/cert",
        "x5c": [base64.b64encode(attacker_key.cert_der).decode()],
    }
    token = attacker_key.sign(claims(), headers={header: values[header]})
    with pytest.raises(errors.BadSignature):
        verify(token, rsa_key)


def test_signature_is_checked_before_claims(attacker_key, rsa_key):
    expired = attacker_key.sign(claims(exp=NOW - 10_000, iat=NOW - 10_100))
    with pytest.raises(errors.BadSignature):
        verify(expired, rsa_key)


# --- claims (after the signature) -------------------------------------------------------


@pytest.mark.parametrize("missing", ["iss", "aud", "exp", "jti"])
def test_required_claims(missing, rsa_key):
    with pytest.raises(errors.MissingClaim) as info:
        verify(rsa_key.sign(claims(**{missing: None})), rsa_key)
    assert missing in info.value.detail


@pytest.mark.parametrize("iss", ["other", "", None.__class__.__name__, 1, [CLIENT_ID]])
def test_iss_must_equal_the_client_id(iss, rsa_key):
    with pytest.raises(errors.IssuerMismatch):
        verify(rsa_key.sign(claims(iss=iss)), rsa_key)


def test_client_id_parameter_must_match(rsa_key):
    token = rsa_key.sign(claims())
    assert verify(token, rsa_key, client_id=CLIENT_ID)
    with pytest.raises(errors.ClientIdMismatch):
        verify(token, rsa_key, client_id="another-client")


@pytest.mark.parametrize(
    "aud",
    [ISSUER, TOKEN_URL, [TOKEN_URL], ["https://elsewhere", ISSUER]],
)
def test_accepted_audiences(aud, rsa_key):
    assert verify(rsa_key.sign(claims(aud=aud)), rsa_key)


@pytest.mark.parametrize(
    "aud",
    [
        "https://elsewhere/oauth2/token",
        ISSUER + "/",
        TOKEN_URL + "/",
        TOKEN_URL.upper(),
        ISSUER[:-1],
        "http://127.0.0.1:8000/oauth2",
        [],
        ["https://elsewhere"],
        [ISSUER, 5],
        {"aud": ISSUER},
        5,
    ],
)
def test_refused_audiences(aud, rsa_key):
    with pytest.raises(errors.AudienceMismatch):
        verify(rsa_key.sign(claims(aud=aud)), rsa_key)


def test_token_endpoint_alias_both_sides(rsa_key):
    token = rsa_key.sign(claims(aud="https://gateway.example/token"))
    with pytest.raises(errors.AudienceMismatch):
        verify(token, rsa_key)
    assert verify(token, rsa_key, pol=policy(TOKEN_ENDPOINT_ALIAS="https://gateway.example/token"))
    assert verify(
        token,
        rsa_key,
        pol=policy(TOKEN_ENDPOINT_ALIAS=["https://a", "https://gateway.example/token"]),
    )


def test_strict_audience_both_sides(rsa_key):
    strict = policy(STRICT_AUDIENCE=True, TOKEN_ENDPOINT_ALIAS="https://gateway.example/token")
    assert verify(rsa_key.sign(claims(aud=ISSUER)), rsa_key, pol=strict)
    for aud in (TOKEN_URL, [ISSUER], "https://gateway.example/token"):
        with pytest.raises(errors.AudienceMismatch):
            verify(rsa_key.sign(claims(aud=aud)), rsa_key, pol=strict)


def test_exp_boundary_with_leeway(rsa_key):
    ok = claims(iat=NOW - 200, exp=NOW - 60)
    assert verify(rsa_key.sign(ok), rsa_key)
    with pytest.raises(errors.Expired):
        verify(rsa_key.sign(claims(iat=NOW - 200, exp=NOW - 61)), rsa_key)


def test_leeway_setting_both_sides(rsa_key):
    token = rsa_key.sign(claims(iat=NOW - 200, exp=NOW - 10))
    assert verify(token, rsa_key, pol=policy(LEEWAY_SECONDS=10))
    with pytest.raises(errors.Expired):
        verify(token, rsa_key, pol=policy(LEEWAY_SECONDS=9))


@pytest.mark.parametrize("value", ["1800000300", None.__class__.__name__, [NOW], {"t": 1}, True])
def test_exp_must_be_a_number(value, rsa_key):
    with pytest.raises(errors.InvalidClaim):
        verify(rsa_key.sign(claims(exp=value)), rsa_key)


def test_huge_exp_is_a_lifetime_error(rsa_key):
    with pytest.raises(errors.LifetimeTooLong):
        verify(rsa_key.sign(claims(exp=2**64)), rsa_key)


def test_lifetime_limit_from_iat_both_sides(rsa_key):
    assert verify(rsa_key.sign(claims(iat=NOW, exp=NOW + 3600)), rsa_key)
    with pytest.raises(errors.LifetimeTooLong):
        verify(rsa_key.sign(claims(iat=NOW, exp=NOW + 3601)), rsa_key)
    token = rsa_key.sign(claims(iat=NOW, exp=NOW + 120))
    assert verify(token, rsa_key, pol=policy(MAX_ASSERTION_LIFETIME_SECONDS=120))
    with pytest.raises(errors.LifetimeTooLong):
        verify(token, rsa_key, pol=policy(MAX_ASSERTION_LIFETIME_SECONDS=119))


def test_lifetime_limit_from_now_without_iat(rsa_key):
    assert verify(rsa_key.sign(claims(iat=None, exp=NOW + 3600)), rsa_key)
    with pytest.raises(errors.LifetimeTooLong):
        verify(rsa_key.sign(claims(iat=None, exp=NOW + 3601)), rsa_key)


def test_nbf_boundary(rsa_key):
    assert verify(rsa_key.sign(claims(nbf=NOW + 60)), rsa_key)
    with pytest.raises(errors.NotYetValid):
        verify(rsa_key.sign(claims(nbf=NOW + 61)), rsa_key)
    with pytest.raises(errors.InvalidClaim):
        verify(rsa_key.sign(claims(nbf="soon")), rsa_key)


def test_iat_in_the_future_boundary(rsa_key):
    assert verify(rsa_key.sign(claims(iat=NOW + 60, exp=NOW + 300)), rsa_key)
    with pytest.raises(errors.IssuedInFuture):
        verify(rsa_key.sign(claims(iat=NOW + 61, exp=NOW + 300)), rsa_key)


def test_reject_before_in_minutes_both_sides(rsa_key):
    pol = policy(REJECT_BEFORE_IN_MINUTES=10)
    assert verify(rsa_key.sign(claims(iat=NOW - 660, exp=NOW + 300)), rsa_key, pol=pol)
    with pytest.raises(errors.IssuedTooLongAgo):
        verify(rsa_key.sign(claims(iat=NOW - 661, exp=NOW + 300)), rsa_key, pol=pol)
    longer = policy(REJECT_BEFORE_IN_MINUTES=11)
    assert verify(rsa_key.sign(claims(iat=NOW - 661, exp=NOW + 300)), rsa_key, pol=longer)


@pytest.mark.parametrize(
    "typ",
    [
        "JWT",
        "jwt",
        "application/jwt",
        "client-authentication+jwt",
        "application/client-authentication+JWT",
    ],
)
def test_accepted_types(typ, rsa_key):
    assert verify(rsa_key.sign(claims(), headers={"typ": typ}), rsa_key)


def test_absent_type_is_accepted(rsa_key):
    header = b64(json.dumps({"alg": "RS256"}).encode())
    payload = b64(json.dumps(claims()).encode())
    import jwt as pyjwt

    sig = pyjwt.get_algorithm_by_name("RS256").sign(
        f"{header}.{payload}".encode(), rsa_key.private_key
    )
    assert verify(f"{header}.{payload}.{b64(sig)}", rsa_key)


@pytest.mark.parametrize("typ", ["at+jwt", "JOSE", "application/jose", "dpop+jwt", "", 1, None])
def test_refused_types(typ, rsa_key):
    with pytest.raises(errors.TypeNotAllowed):
        verify(rsa_key.sign(claims(), headers={"typ": typ}), rsa_key)


@pytest.mark.parametrize("jti", ["", 17, ["a"], {"a": 1}, "x" * 256, "a\x00b", "tab\tbed"])
def test_refused_jti(jti, rsa_key):
    with pytest.raises(errors.InvalidJti):
        verify(rsa_key.sign(claims(jti=jti)), rsa_key)


@pytest.mark.parametrize("jti", ["x" * 255, "ünïcødé-✓", "a b"])
def test_accepted_jti(jti, rsa_key):
    assert verify(rsa_key.sign(claims(jti=jti)), rsa_key).jti == jti


# --- what the client is told --------------------------------------------------------------


def test_errors_before_the_signature_are_generic(rsa_key, attacker_key):
    with pytest.raises(errors.ClientAuthError) as info:
        verify(attacker_key.sign(claims()), rsa_key)
    assert info.value.public_description == errors.GENERIC_DESCRIPTION
    with pytest.raises(errors.ClientAuthError) as info:
        verify(rsa_key.sign(claims(sub="nobody")), rsa_key)
    assert info.value.public_description == errors.GENERIC_DESCRIPTION


def test_errors_after_the_signature_name_the_check(rsa_key):
    with pytest.raises(errors.ClientAuthError) as info:
        verify(rsa_key.sign(claims(aud="https://elsewhere")), rsa_key)
    assert "aud" in info.value.public_description
    assert info.value.client_id == CLIENT_ID


@pytest.mark.parametrize("name", ["exp", "iat", "nbf"])
@pytest.mark.parametrize("value", [10**400, -(10**400)])
def test_integers_beyond_float_range_are_not_dates(name, value, rsa_key):
    with pytest.raises(errors.InvalidClaim):
        verify(rsa_key.sign(claims(**{name: value})), rsa_key)
