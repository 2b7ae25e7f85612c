"""Property-based fuzzing of the three parsers an attacker reaches (issue 7, item 2).

- ``clientauth.assertion.verify_client_assertion`` (RFC 7523 section 3): any string, and
  any header and claims signed with the client's real key, ends in a
  ``VerifiedAssertion`` that meets every rule, or a ``ClientAuthError``; nothing else.
- ``keystore.parsing.parse_certificate``: any bytes end in a ``ParsedCertificate`` or a
  ``KeystoreError``.
- The token endpoint's form handling: any form fields, values, raw bodies and
  authorization headers answer without a 500, and every non-200 answer is JSON with an
  ``error``.

Bounded and derandomized so CI runs are repeatable: 200 examples per property.
Integers beyond float range are covered by
``test_claim_types.test_numeric_date_beyond_float_range``.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import time
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clientauth import conf, errors
from clientauth.assertion import ClientInfo, VerifiedAssertion, verify_client_assertion
from clientauth.constants import JWT_BEARER_CLIENT_ASSERTION_TYPE
from keystore.errors import KeystoreError
from keystore.parsing import ParsedCertificate, parse_certificate
from tests.keys import b64url
from tests.security.support import FORM, TOKEN, segment, sign_raw

FUZZ = settings(
    max_examples=200,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
CLIENT_ID = "fuzz-client"
NOW = 1_800_000_000.0

text = st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=40)
ints = st.integers() | st.sampled_from([10**400, -(10**400), 2**64])
scalars = st.none() | st.booleans() | ints | st.floats(allow_nan=False) | text
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(text, inner, max_size=4),
    max_leaves=12,
)


def plausible(name: str, token_url: str):
    """Values for a claim: mostly near-valid, sometimes anything."""
    near = {
        "iss": st.sampled_from([CLIENT_ID, "other", CLIENT_ID.upper(), ""]),
        "sub": st.sampled_from([CLIENT_ID, CLIENT_ID + " ", "nobody"]),
        "aud": st.sampled_from([token_url, token_url + "/", [token_url], [], "x"]),
        "exp": st.integers(min_value=int(NOW) - 200, max_value=int(NOW) + 4000),
        "iat": st.integers(min_value=int(NOW) - 7000, max_value=int(NOW) + 200),
        "nbf": st.integers(min_value=int(NOW) - 200, max_value=int(NOW) + 200),
        "jti": st.text(max_size=300),
    }[name]
    return near | json_values


@st.composite
def signed_parts(draw, token_url: str):
    header = {
        "alg": draw(st.sampled_from(["RS256", "RS256", "PS256", "ES256", "none", "HS256", "RS512"]))
    }
    if draw(st.booleans()):
        header["typ"] = draw(st.sampled_from(["JWT", "jwt", "at+jwt", 1, None]))
    header.update(
        draw(
            st.dictionaries(
                st.sampled_from(["kid", "jku", "x5c", "crit", "cty"]), json_values, max_size=2
            )
        )
    )
    claims = {}
    for name in ("iss", "sub", "aud", "exp", "iat", "nbf", "jti"):
        if draw(st.integers(0, 9)) < 8 or name == "sub":
            claims[name] = draw(plausible(name, token_url))
    claims.update(draw(st.dictionaries(text, json_values, max_size=3)))
    return header, claims


def check_accepted(result: VerifiedAssertion, policy: conf.Policy) -> None:
    claims = result.claims
    assert claims["iss"] == claims["sub"] == CLIENT_ID
    aud = claims["aud"]
    assert aud in policy.audiences or (
        isinstance(aud, list) and any(a in policy.audiences for a in aud)
    )
    assert isinstance(result.jti, str) and 0 < len(result.jti) <= 255
    assert result.exp + policy.leeway_seconds >= NOW
    assert result.alg in policy.allowed_algorithms


@pytest.fixture
def verifier(rsa_key):
    public = rsa_key.private_key.public_key()
    client = ClientInfo(CLIENT_ID, "private_key_jwt")
    policy = conf.policy()

    def run(assertion):
        return verify_client_assertion(
            assertion,
            find_client=lambda sub: client if sub == CLIENT_ID else None,
            find_keys=lambda info, kid: [public],
            policy=policy,
            now=NOW,
        ), policy

    return run


@FUZZ
@given(data=st.data())
def test_verifier_on_signed_hostile_parts(verifier, rsa_key, data):
    policy = conf.policy()
    header, claims = data.draw(signed_parts(policy.token_endpoint))
    signer = sign_raw if header["alg"].startswith(("RS", "PS")) else None
    if signer is None:
        assertion = f"{segment(header)}.{segment(claims)}.{b64url(b'sig')}"
    else:
        assertion = sign_raw(rsa_key, header, claims)
    try:
        result, policy = verifier(assertion)
    except errors.ClientAuthError as exc:
        assert exc.status == 401 and exc.error == "invalid_client"
        if not exc.verified:
            assert exc.public_description == errors.GENERIC_DESCRIPTION
        return
    check_accepted(result, policy)


@FUZZ
@given(assertion=st.text(max_size=300) | st.from_regex(r"[A-Za-z0-9_=+/.-]{0,200}", fullmatch=True))
def test_verifier_on_arbitrary_strings(verifier, assertion):
    with pytest.raises(errors.ClientAuthError):
        verifier(assertion)


@FUZZ
@given(
    header=st.binary(max_size=200),
    claims=st.binary(max_size=200),
    signature=st.binary(max_size=300),
)
def test_verifier_on_arbitrary_segments(verifier, header, claims, signature):
    with pytest.raises(errors.ClientAuthError):
        verifier(f"{b64url(header)}.{b64url(claims)}.{b64url(signature)}")


# --- the certificate parser ------------------------------------------------------------


def parse(data: bytes, password: str | None = None):
    try:
        parsed = parse_certificate(data, password=password, now=dt.datetime.now(dt.UTC))
    except KeystoreError as exc:
        assert str(exc) and "\n" not in str(exc)
        return None
    assert isinstance(parsed, ParsedCertificate)
    assert "PRIVATE KEY" not in parsed.pem
    return parsed


@FUZZ
@given(data=st.binary(max_size=4096), password=st.none() | text)
def test_certificate_parser_on_arbitrary_bytes(data, password):
    parse(data, password)


@st.composite
def mutated(draw, original: bytes):
    data = bytearray(original)
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["flip", "cut", "insert", "delete"]))
        position = draw(st.integers(0, max(len(data) - 1, 0)))
        if kind == "flip" and data:
            data[position] ^= draw(st.integers(1, 255))
        elif kind == "cut":
            data = data[:position]
        elif kind == "insert":
            data[position:position] = draw(st.binary(min_size=1, max_size=8))
        elif data:
            del data[position : position + draw(st.integers(1, 16))]
    return bytes(data)


@FUZZ
@given(data=st.data(), form_=st.sampled_from(["pem", "der", "pem+key"]))
def test_certificate_parser_on_mutated_certificates(rsa_key, data, form_):
    from cryptography.hazmat.primitives import serialization

    original = {
        "pem": rsa_key.cert_pem,
        "der": rsa_key.cert_der,
        "pem+key": rsa_key.cert_pem
        + rsa_key.private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
    }[form_]
    parse(data.draw(mutated(original)))


# --- the token endpoint's form handling -----------------------------------------------

FIELD_NAMES = [
    "grant_type",
    "client_id",
    "client_secret",
    "client_assertion",
    "client_assertion_type",
    "scope",
    "code",
    "redirect_uri",
    "refresh_token",
    "code_verifier",
    "resource",
    "token",
    "audience",
]


@st.composite
def token_requests(draw, assertion_for):
    names = st.sampled_from(FIELD_NAMES) | text
    values = (
        st.sampled_from(
            [
                "client_credentials",
                JWT_BEARER_CLIENT_ASSERTION_TYPE,
                "authorization_code",
                "refresh_token",
                "",
                "read",
            ]
        )
        | text
    )
    pairs = draw(st.lists(st.tuples(names, values), max_size=8))
    if draw(st.booleans()):
        pairs.append(("client_assertion_type", JWT_BEARER_CLIENT_ASSERTION_TYPE))
        pairs.append(("client_assertion", assertion_for(draw(st.booleans()))))
    body = urlencode(pairs).encode()
    if draw(st.integers(0, 9)) == 0:
        body = draw(st.binary(max_size=300))
    headers = {}
    auth = draw(st.sampled_from(["", "basic", "bearer", "garbage"]))
    if auth == "basic":
        raw = draw(st.binary(max_size=40))
        headers["HTTP_AUTHORIZATION"] = "Basic " + base64.b64encode(raw).decode()
    elif auth == "bearer":
        headers["HTTP_AUTHORIZATION"] = "Bearer " + draw(text)
    elif auth == "garbage":
        headers["HTTP_AUTHORIZATION"] = draw(text)
    # Non-UTF-8 charsets: test_request_shape.test_non_utf8_charset_is_a_json_400.
    content_type = draw(
        st.sampled_from(
            [
                FORM,
                FORM,
                FORM + "; charset=utf-8",
                FORM + "; charset=bogus",
                "multipart/form-data",
                "application/json",
            ]
        )
    )
    return (
        body,
        content_type,
        headers,
        draw(st.sampled_from([TOKEN, "/oauth2/introspect", "/oauth2/revoke"])),
    )


@FUZZ
@given(data=st.data())
def test_endpoints_never_answer_500(client, rsa_key, claims, data):
    def assertion_for(valid: bool) -> str:
        made = claims()
        if not valid:
            made[data.draw(st.sampled_from(list(made)))] = data.draw(json_values)
        return rsa_key.sign(made)

    body, content_type, headers, path = data.draw(token_requests(assertion_for))
    response = client.generic("POST", path, body, content_type=content_type, **headers)
    assert response.status_code < 500, response.content[:300]
    if response.status_code != 200:
        assert response["Content-Type"].startswith("application/json"), response.content[:200]
        assert json.loads(response.content)["error"]


def test_fuzz_clock_is_consistent():
    """NOW lies within the session certificates' validity, as the stub lookups assume."""
    assert abs(NOW - time.time()) < 10 * 365 * 86400
