"""Audience tricks (RFC 7523 section 3 item 3, OIDC Core section 9, CONTRACT.md
"Accepted audiences"): ``aud`` is compared exactly against values derived from
``AUTHSERVER_ISSUER`` alone; near misses and request headers change nothing.
"""

from __future__ import annotations

import pytest

from tests.security.support import assert_refused, assert_token, form, jti_rows, post


def mismatch(issuer: str) -> str:
    return f"aud must be {issuer} or {issuer}/oauth2/token"


def near_misses(issuer: str) -> list[str]:
    scheme, rest = issuer.split("://", 1)
    token = f"{issuer}/oauth2/token"
    return [
        token + "/",
        issuer + "/",
        token + "?",
        token + "#",
        token + "/extra",
        token + "s",
        token[:-1],
        issuer[:-1],
        token.upper(),
        token.replace("/oauth2/token", "/OAUTH2/TOKEN"),
        f"{scheme.upper()}://{rest}/oauth2/token",
        ("https" if scheme == "http" else "http") + f"://{rest}/oauth2/token",
        f"{scheme}://evil.example/oauth2/token",
        f"{scheme}://{rest}.evil.example/oauth2/token",
        f"{scheme}://evil.example@{rest}/oauth2/token",
        f"{scheme}://{rest}:443/oauth2/token" if ":" not in rest else token.replace(":", ":0", 2),
        f" {token}",
        f"{token} ",
        f"{token}\x00",
        f"{issuer}/oauth2/introspect",
        f"{issuer}/oauth2/./token",
        f"{issuer}/oauth2/token/../token",
        f"{issuer}/oauth2%2Ftoken",
        "",
        "*",
    ]


def test_near_misses_are_refused(client, rsa_key, claims, issuer):
    for aud in near_misses(issuer):
        response = post(client, form(rsa_key.sign(claims(aud=aud))))
        assert_refused(response, 401, "invalid_client", mismatch(issuer))
    assert jti_rows() == 0


def test_array_of_near_misses_is_refused(client, rsa_key, claims, issuer):
    response = post(client, form(rsa_key.sign(claims(aud=near_misses(issuer)))))
    assert_refused(response, 401, "invalid_client", mismatch(issuer))
    assert jti_rows() == 0


@pytest.mark.parametrize("which", ["issuer", "token_endpoint", "array"])
def test_accepted_audiences(client, rsa_key, claims, issuer, which):
    aud = {
        "issuer": issuer,
        "token_endpoint": f"{issuer}/oauth2/token",
        "array": ["https://other.example", f"{issuer}/oauth2/token"],
    }[which]
    assert_token(post(client, form(rsa_key.sign(claims(aud=aud)))))


HEADER_SETS = [
    {"HTTP_HOST": "evil.example"},
    {"HTTP_X_FORWARDED_HOST": "evil.example"},
    {"HTTP_X_FORWARDED_HOST": "evil.example", "HTTP_X_FORWARDED_PROTO": "https"},
    {"HTTP_FORWARDED": "host=evil.example;proto=https"},
    {"HTTP_X_ORIGINAL_URL": "https://evil.example/oauth2/token"},
]


@pytest.mark.parametrize("headers", HEADER_SETS, ids=lambda h: ",".join(h))
def test_request_headers_do_not_make_another_host_an_audience(
    client, rsa_key, claims, issuer, headers, settings
):
    settings.ALLOWED_HOSTS = ["*"]
    settings.USE_X_FORWARDED_HOST = True
    response = post(
        client, form(rsa_key.sign(claims(aud="http://evil.example/oauth2/token"))), **headers
    )
    assert_refused(response, 401, "invalid_client", mismatch(issuer))
    response = post(
        client, form(rsa_key.sign(claims(aud="https://evil.example/oauth2/token"))), **headers
    )
    assert_refused(response, 401, "invalid_client", mismatch(issuer))
    assert jti_rows() == 0


@pytest.mark.parametrize("headers", HEADER_SETS, ids=lambda h: ",".join(h))
def test_request_headers_do_not_remove_the_issuer_audience(
    client, rsa_key, claims, issuer, headers, settings
):
    settings.ALLOWED_HOSTS = ["*"]
    settings.USE_X_FORWARDED_HOST = True
    assert_token(post(client, form(rsa_key.sign(claims(aud=f"{issuer}/oauth2/token"))), **headers))


def test_strict_audience_takes_only_the_issuer_string(client, rsa_key, claims, issuer, settings):
    settings.PRIVATE_KEY_JWT = {"STRICT_AUDIENCE": True}
    strict = f"aud must be {issuer}"
    for aud in (f"{issuer}/oauth2/token", issuer + "/"):
        assert_refused(
            post(client, form(rsa_key.sign(claims(aud=aud)))), 401, "invalid_client", strict
        )
    assert_refused(
        post(client, form(rsa_key.sign(claims(aud=[issuer])))),
        401,
        "invalid_client",
        "aud must be a single string (STRICT_AUDIENCE)",
    )
    assert jti_rows() == 0
    assert_token(post(client, form(rsa_key.sign(claims(aud=issuer)))))


def test_alias_is_exact_too(client, rsa_key, claims, issuer, settings):
    alias = "https://alias.example/token"
    settings.PRIVATE_KEY_JWT = {"TOKEN_ENDPOINT_ALIAS": alias}
    assert_refused(
        post(client, form(rsa_key.sign(claims(aud=alias + "/")))),
        401,
        "invalid_client",
        f"{mismatch(issuer)} or {alias}",
    )
    assert_token(post(client, form(rsa_key.sign(claims(aud=alias)))))
