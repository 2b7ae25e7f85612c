"""Oversized inputs at every endpoint that accepts an assertion (CONTRACT.md
``MAX_ASSERTION_BYTES``; RFC 7523 section 3 item 12 lets the server refuse what it cannot
afford): an assertion over the limit is a generic 401 before any parsing, and a body
over 64 KiB a 400 ``invalid_request`` before the form is read, at /oauth2/token,
/oauth2/introspect and /oauth2/revoke alike.

"Before parsing" is proved, not timed: the JWS parser is replaced by one that fails the
test if it is ever called.
"""

from __future__ import annotations

import time

import pytest

from clientauth import jws as jws_module
from tests.security.support import (
    ASSERTION_ENDPOINTS,
    FORM,
    TOKEN,
    assert_generic_401,
    assert_refused,
    assert_token,
    form,
    jti_rows,
    post,
)


@pytest.fixture
def parser_never_called(monkeypatch):
    calls = []

    def forbidden(value):
        calls.append(len(value))
        raise AssertionError("an oversized assertion reached the JWS parser")

    monkeypatch.setattr(jws_module, "parse", forbidden)
    yield calls
    assert calls == []


def request_for(endpoint: str, value: str) -> dict:
    data = form(value)
    if endpoint != TOKEN:
        del data["grant_type"]
        data["token"] = "some-token"
    return data


@pytest.mark.parametrize("endpoint", ASSERTION_ENDPOINTS)
@pytest.mark.parametrize("size", [8193, 9000, 60_000])
def test_oversized_assertion_is_refused_before_parsing(
    client, rsa_client, endpoint, size, parser_never_called
):
    value = ("x" * (size // 3 - 1) + ".") * 2 + "x" * (size - 2 * (size // 3))
    assert len(value) == size
    assert_generic_401(post(client, request_for(endpoint, value), endpoint))
    assert jti_rows() == 0


@pytest.mark.parametrize("endpoint", ASSERTION_ENDPOINTS)
def test_multibyte_assertion_over_the_byte_limit(client, rsa_client, endpoint, parser_never_called):
    """5000 characters, 10000 UTF-8 bytes: counted in bytes."""
    assert_generic_401(post(client, request_for(endpoint, "é" * 5000), endpoint))


def test_signed_assertion_just_over_the_limit(client, rsa_key, claims):
    """A genuine signature does not buy an exemption from the size limit."""
    base = rsa_key.sign(claims(pad=""))
    padded = rsa_key.sign(claims(pad="p" * ((8192 - len(base)) * 3 // 4 + 8)))
    assert len(padded) > 8192
    assert_generic_401(post(client, form(padded)))
    fits = rsa_key.sign(claims(pad="p" * ((8192 - len(base)) * 3 // 4 - 8)))
    assert len(fits) <= 8192
    assert_token(post(client, form(fits)))
    assert jti_rows() == 1


@pytest.mark.parametrize("endpoint", ASSERTION_ENDPOINTS)
def test_body_over_64_kib_is_a_400(client, rsa_client, endpoint, parser_never_called):
    data = request_for(endpoint, "a.b.c")
    data["padding"] = "p" * (64 * 1024)
    assert_refused(
        post(client, data, endpoint), 400, "invalid_request", "the request body is too large"
    )
    assert jti_rows() == 0


@pytest.mark.parametrize("endpoint", ASSERTION_ENDPOINTS)
def test_lying_content_length_is_a_400(client, rsa_client, endpoint):
    response = client.post(
        endpoint,
        "grant_type=client_credentials",
        content_type=FORM,
        CONTENT_LENGTH=str(10 * 1024 * 1024),
    )
    assert_refused(response, 400, "invalid_request", "the request body is too large")


@pytest.mark.parametrize("endpoint", ASSERTION_ENDPOINTS)
def test_many_fields_are_refused(client, rsa_client, endpoint):
    data = [(f"f{i}", "") for i in range(5000)]
    response = post(client, data, endpoint)
    assert_refused(response, 400, "invalid_request")


@pytest.mark.parametrize("endpoint", ASSERTION_ENDPOINTS)
def test_oversized_refusal_is_fast(client, rsa_client, endpoint):
    """Refusing a 60 KB assertion takes milliseconds (a generous bound for a loaded CI)."""
    data = request_for(endpoint, "x" * 60_000)
    started = time.perf_counter()
    for _ in range(20):
        assert post(client, data, endpoint).status_code == 401
    assert (time.perf_counter() - started) / 20 < 0.25
