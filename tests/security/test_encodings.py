"""Malformed encodings of the compact JWS (RFC 7515 sections 2, 3.1 and 7.1; RFC 7519
section 7.2; RFC 8259 section 4 on duplicate names; RFC 8725 section 3.2): anything
that is not three base64url segments of UTF-8 JSON objects is refused before any key
is touched, with the generic 401, and writes no ``jti`` row.
"""

from __future__ import annotations

import base64
import json

import pytest

from tests.keys import b64url
from tests.security.support import (
    assert_generic_401,
    form,
    jti_rows,
    post,
    segment,
    sign_raw,
)

HEADER = {"alg": "RS256", "typ": "JWT"}


def raw_b64(data: bytes) -> str:
    return b64url(data)


@pytest.fixture
def good(rsa_key, claims):
    """A genuine assertion, to be taken apart."""
    return rsa_key.sign(claims())


def test_wrong_segment_counts(client, good):
    h, p, s = good.split(".")
    for assertion in (
        h,
        f"{h}.{p}",
        f"{h}.{p}.{s}.",
        f"{h}.{p}.{s}.{s}",
        f"{h}.{p}.{s}.{s}.{s}",
        "..",
        "....",
        ".",
        f".{p}.{s}",
        f"{h}..{s}",
        f"{h}.{p}",
    ):
        assert_generic_401(post(client, form(assertion)))
    assert jti_rows() == 0


def test_bad_base64url(client, good):
    h, p, s = good.split(".")
    standard = base64.b64encode(base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))).decode()
    variants = [
        f"{h}.{p}.{s}==",
        f"{h}=.{p}.{s}",
        f"{h}.{p}.{standard}" if ("+" in standard or "/" in standard) else f"{h}.{p}.{s}+/",
        f"{h}.{p}.{s}A",
        f"{h}.{p} .{s}",
        f"{h}.{p}.{s}\n",
        f"{h}.{p[:-1]}!.{s}",
        f"{h}.{p}.{s[:-3]}é",
        f"\u200b{h}.{p}.{s}",
    ]
    for assertion in variants:
        if assertion == good:
            continue
        assert_generic_401(post(client, form(assertion)))
    assert jti_rows() == 0


@pytest.mark.parametrize(
    "header",
    [
        b"not json",
        b"",
        b"[]",
        b'"RS256"',
        b"123",
        b"null",
        b'{"alg":"RS256"',
        b'\xef\xbb\xbf{"alg":"RS256"}',
        b'{"alg":"RS256","typ":"JWT"}\x00',
        b"\xff\xfe{\x00}\x00",
        b'{"alg":"\xff"}',
        b'{"alg":"RS256","alg":"none"}',
        b'{"alg":"none","alg":"RS256"}',
        b'{"alg":"RS256","crit":["exp"],"exp":1}',
        b'{"alg":NaN}',
        b'{"alg":"RS256","x":Infinity}',
    ],
    ids=repr,
)
def test_hostile_headers(client, rsa_key, claims, header):
    assertion = sign_raw(rsa_key, header, claims())
    assert_generic_401(post(client, form(assertion)))
    assert jti_rows() == 0


def test_hostile_claims(client, rsa_key, rsa_client, claims):
    cid = rsa_client.client_id
    good = claims()
    body = json.dumps(good)[1:-1]
    variants = [
        b"not json",
        b"[]",
        json.dumps([good]).encode(),
        b'{"sub":"' + cid.encode() + b'"',
        b'{"sub":"victim","sub":"' + cid.encode() + b'",' + body.encode() + b"}",
        ("{" + body + ',"exp":NaN}').encode(),
        ("{" + body + ',"exp":Infinity}').encode(),
        ("{" + body + ',"exp":-Infinity}').encode(),
        ("{" + body + ',"jti":"dup"}').encode(),
        b"\xef\xbb\xbf" + json.dumps(good).encode(),
        json.dumps(good).encode("utf-16"),
        json.dumps(good).encode()[:-1] + b"\xc3}",
    ]
    for index, payload in enumerate(variants):
        assertion = sign_raw(rsa_key, HEADER, payload)
        response = post(client, form(assertion))
        assert response.status_code == 401, (index, payload[:80])
        assert_generic_401(response)
    assert jti_rows() == 0


def test_lone_surrogate_in_an_unused_claim_is_harmless(client, rsa_key, claims):
    """Escaped lone surrogates are legal JSON text; in a claim nobody reads, they pass."""
    body = json.dumps(claims())[1:-1]
    payload = ("{" + body + ',"x":"\\ud800"}').encode()
    response = post(client, form(sign_raw(rsa_key, HEADER, payload)))
    assert response.status_code == 200
    assert jti_rows() == 1


@pytest.mark.parametrize("path", ["/oauth2/token", "/oauth2/introspect", "/oauth2/revoke"])
@pytest.mark.parametrize("claim", ["sub", "iss"])
@pytest.mark.parametrize("text", ["\\ud800", "\\udfff", "a\\ud83d", "\\udc00b"])
def test_lone_surrogate_in_a_client_id_is_a_generic_401(
    client, rsa_key, rsa_client, claims, path, claim, text
):
    """A lone surrogate where a client ID goes never reaches the database or the log
    (it is not UTF-8): the generic 401 at every endpoint, nothing written."""
    values = {name: value for name, value in claims().items() if name not in ("sub", "iss")}
    body = json.dumps(values)[1:-1]
    other = "iss" if claim == "sub" else "sub"
    payload = (
        "{" + body + f',"{claim}":"{text}","{other}":{json.dumps(rsa_client.client_id)}}}'
    ).encode()
    response = post(client, form(sign_raw(rsa_key, HEADER, payload), token="x"), path=path)
    assert response.status_code == 401
    if claim == "sub":
        assert_generic_401(response)
    else:
        assert response.json()["error"] == "invalid_client"
    assert jti_rows() == 0


def test_lone_surrogate_in_the_alg_is_refused_and_recorded(client, rsa_key, rsa_client, claims):
    """The refusal's detail names the alg: it is recorded escaped, never as text the
    database cannot hold."""
    from clientauth.models import AuthFailure

    header = '{"alg":"RS\\ud800","typ":"JWT"}'
    assertion = ".".join([b64url(header.encode()), segment(claims()), b64url(b"x" * 256)])
    response = post(client, form(assertion))
    assert_generic_401(response)
    failure = AuthFailure.objects.get()
    assert failure.reason == "algorithm_not_allowed"
    assert "\\ud800" in failure.detail
    assert jti_rows() == 0


@pytest.mark.parametrize("where", ["header", "claims"])
@pytest.mark.parametrize(
    "shape, depth, limit",
    [
        ("arrays", 2500, 8192),
        ("objects", 950, 8192),
        ("arrays", 20000, 60000),
        ("objects", 6000, 60000),
    ],
)
def test_deep_nesting(client, rsa_key, claims, settings, where, shape, depth, limit):
    """Nesting deeper than the JSON parser's recursion limit: refused, never a 500."""
    settings.PRIVATE_KEY_JWT = {"MAX_ASSERTION_BYTES": limit}
    nested = (
        ("[" * depth + "]" * depth) if shape == "arrays" else ('{"a":' * depth + "1" + "}" * depth)
    )
    if where == "header":
        header = ('{"alg":"RS256","x":' + nested + "}").encode()
        payload = claims()
    else:
        header = HEADER
        payload = ('{"x":' + nested + "}").encode()
    assertion = sign_raw(rsa_key, header, payload)
    assert len(assertion) <= limit
    assert_generic_401(post(client, form(assertion)))
    assert jti_rows() == 0


def test_signature_segment_tricks(client, rsa_key, claims):
    genuine = rsa_key.sign(claims())
    h, p, s = genuine.split(".")
    raw = base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))
    for signature in (b"", raw[:-1], raw + b"\x00", b"\x00" + raw, raw[::-1], bytes(len(raw))):
        assert_generic_401(post(client, form(f"{h}.{p}.{raw_b64(signature)}")))
    assert jti_rows() == 0


def test_non_ascii_assertion(client, good):
    for assertion in (good.replace(".", "\u3002"), good + "\u00e9", "é.é.é"):
        assert_generic_401(post(client, form(assertion)))
    assert jti_rows() == 0


def test_json_body_segment_of_another_jws(client, rsa_key, claims):
    """A JWS nested as the payload (an encrypted or nested JWT) is not a claims object."""
    inner = rsa_key.sign(claims())
    assertion = sign_raw(rsa_key, {**HEADER, "cty": "JWT"}, inner.encode())
    assert_generic_401(post(client, form(assertion)))
    assert segment(HEADER)
    assert jti_rows() == 0
