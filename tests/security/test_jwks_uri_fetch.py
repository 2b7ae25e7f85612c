"""Fetching a client's ``jwks_uri`` safely (``clientauth.jwks_fetch``, issue 16 item 3).

The URL comes from a client and the server sits inside the operator's network. Each
refusal has its own test through the token endpoint: the answer is the generic 401
(never a 500), the failure is recorded as ``jwks_fetch_failed`` with the reason kept
for ``current_keys``, and nothing takes longer than the fetch timeout (0.5 s here).
Address checks are also tested directly, IPv4 and IPv6, with the resolver replaced so
that the address connected to is shown to be the address checked (no DNS rebinding).
"""

from __future__ import annotations

import json
import socket
import time

import pytest

from clientauth import conf, jwks_fetch, keysources
from clientauth.models import AuthFailure
from clientauth.registration import RegistrationError, register_service_provider
from tests import keys
from tests.clientauth.jwks_support import JWKS_TEST_SETTINGS, Route, jwk_of, jwks_of
from tests.security.support import assert_generic_401, assert_token, form, jti_rows, post

pytestmark = pytest.mark.django_db
TIMEOUT = JWKS_TEST_SETTINGS["JWKS_URI_TIMEOUT_SECONDS"]


def register(url: str):
    sp, _ = register_service_provider(
        name="jwks_uri client",
        callbacks=[],
        grant_types=["client_credentials"],
        auth_method="private_key_jwt",
        jwks_uri=url,
    )
    return sp


def policy_with(settings, **overrides):
    settings.PRIVATE_KEY_JWT = {**settings.PRIVATE_KEY_JWT, **overrides}
    return conf.policy()


@pytest.fixture
def served(jwks_settings, jwks_server, fresh_jwks, rsa_key):
    """``served(route)``: a client whose jwks_uri answers ``route`` (default: k1)."""

    def make(route: Route | None = None, path: str = "/jwks"):
        if route is None:
            jwks_server.publish(jwk_of(rsa_key, "k1"), path=path)
        else:
            jwks_server.routes[path] = route
        return register(jwks_server.url(path))

    return make


def attempt(client, pair, sp, kid="k1"):
    """A token request; returns (response, seconds taken)."""
    claims = keys.claims_for(sp.client_id, now=time.time())
    started = time.monotonic()
    response = post(client, form(pair.sign(claims, headers={"kid": kid})))
    return response, time.monotonic() - started


def assert_fetch_refused(client, pair, sp, reason_part: str):
    response, took = attempt(client, pair, sp)
    assert_generic_401(response)
    assert took < TIMEOUT + 1.0
    assert jti_rows() == 0
    failure = AuthFailure.objects.get(client_id=sp.client_id)
    assert failure.reason == "jwks_fetch_failed"
    report = keysources.current_keys(sp)
    assert reason_part in report.last_error, report.last_error
    assert reason_part in failure.detail
    return report


# --- where it may connect ----------------------------------------------------------


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",  # cloud metadata
        "100.64.0.1",  # shared address space
        "0.0.0.0",
        "224.0.0.1",
        "240.0.0.1",
        "255.255.255.255",
        "::1",
        "::",
        "fe80::1",
        "fd00:ec2::254",  # AWS metadata over IPv6
        "::ffff:127.0.0.1",
        "::ffff:169.254.169.254",
        "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254
        "2002:7f00:1::",  # 6to4 of 127.0.0.1
        "ff02::1",
    ],
)
def test_non_public_addresses_are_refused(address):
    assert jwks_fetch.address_refused(address)


@pytest.mark.parametrize("address", ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111"])
def test_public_addresses_are_allowed(address):
    assert jwks_fetch.address_refused(address) is None


def test_loopback_without_the_allowing_setting_is_refused(client, served, rsa_key, settings):
    sp = served()
    policy_with(settings, JWKS_URI_ALLOWED_HOSTS=[])
    assert_fetch_refused(client, rsa_key, sp, "127.0.0.1 is not a public address")


def test_a_name_resolving_to_loopback_is_refused(
    client, jwks_settings, jwks_server, fresh_jwks, rsa_key, settings
):
    jwks_server.publish(jwk_of(rsa_key, "k1"))
    policy_with(settings, JWKS_URI_ALLOWED_HOSTS=["localhost"])
    sp = register(jwks_server.url(host="localhost"))  # allowed when registered, no longer
    policy_with(settings, JWKS_URI_ALLOWED_HOSTS=["127.0.0.1"])
    assert_fetch_refused(client, rsa_key, sp, "localhost resolves to")
    assert jwks_server.count() == 0


def test_registration_refuses_a_private_address_literal(jwks_settings, settings):
    policy_with(settings, JWKS_URI_ALLOWED_HOSTS=[])
    for url in ("http://127.0.0.1/jwks", "http://[::1]/jwks", "http://169.254.169.254/jwks"):
        with pytest.raises(RegistrationError, match="not a public address"):
            register(url)
    with pytest.raises(RegistrationError, match="localhost"):
        register("http://localhost/jwks")


def test_the_address_connected_to_is_the_address_checked(
    jwks_settings, jwks_server, rsa_key, monkeypatch, settings
):
    """One resolution, checked, then connected to: a resolver that would answer a
    private address on a second look-up (DNS rebinding) is never asked twice."""
    policy = policy_with(settings, JWKS_URI_ALLOWED_HOSTS=["jwks.example"])
    jwks_server.publish(jwk_of(rsa_key, "k1"))
    calls = []

    def resolve(host, port, *args, **kwargs):
        calls.append(host)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]

    monkeypatch.setattr(jwks_fetch.socket, "getaddrinfo", resolve)
    fetched = jwks_fetch.fetch(f"http://jwks.example:{jwks_server.port}/jwks", policy)
    assert json.loads(fetched.body)["keys"][0]["kid"] == "k1"
    assert calls == ["jwks.example"]
    assert jwks_server.hosts[-1] == f"jwks.example:{jwks_server.port}"


def test_a_name_with_any_private_address_is_refused(jwks_settings, monkeypatch, settings):
    policy = policy_with(settings, JWKS_URI_ALLOWED_HOSTS=[])

    def resolve(host, port, *args, **kwargs):
        return [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", port)),
            (socket.AF_INET6, socket.SOCK_STREAM, 6, "", ("::ffff:10.0.0.1", port, 0, 0)),
        ]

    monkeypatch.setattr(jwks_fetch.socket, "getaddrinfo", resolve)
    with pytest.raises(jwks_fetch.FetchError, match="10.0.0.1 is not a public address"):
        jwks_fetch.fetch("https://rebind.example/jwks", policy)


# --- what it accepts from the URL and the answer --------------------------------------


def test_http_url_is_refused_without_the_setting(client, served, rsa_key, settings):
    sp = served()
    policy_with(settings, JWKS_URI_ALLOW_HTTP=False)
    assert_fetch_refused(client, rsa_key, sp, "must be an https URL")


def test_registration_refuses_http_and_odd_urls(jwks_settings, settings):
    policy_with(settings, JWKS_URI_ALLOW_HTTP=False)
    for url in (
        "http://jwks.example/keys",
        "ftp://jwks.example/keys",
        "https://user:pw@jwks.example/keys",
        "https://jwks.example/keys#frag",
        "https:///keys",
        "https://jwks.example/ke ys",
        "file:///etc/passwd",
    ):
        with pytest.raises(RegistrationError):
            register(url)


def test_redirect_is_refused(client, served, rsa_key, jwks_server):
    jwks_server.publish(jwk_of(rsa_key, "k1"), path="/elsewhere")
    target = jwks_server.url("/elsewhere", host="localhost")
    sp = served(Route(status=302, body=b"", headers={"Location": target}))
    assert_fetch_refused(client, rsa_key, sp, "redirects are not followed")
    assert jwks_server.count("/elsewhere") == 0


def test_response_over_the_size_cap_is_refused(client, served, rsa_key, settings):
    policy_with(settings, JWKS_URI_MAX_BYTES=1024)
    big = json.dumps(jwks_of(jwk_of(rsa_key, "k1"), {"kty": "RSA", "padding": "x" * 2000}))
    sp = served(Route(body=big.encode()))
    assert_fetch_refused(client, rsa_key, sp, "larger than 1024 bytes")


def test_response_over_the_size_cap_without_content_length_is_refused(
    client, served, rsa_key, settings
):
    policy_with(settings, JWKS_URI_MAX_BYTES=1024)
    sp = served(Route(body=b"[" + b" " * 5000 + b"]", length=False))
    assert_fetch_refused(client, rsa_key, sp, "larger than 1024 bytes")


def test_slow_headers_time_out(client, served, rsa_key):
    sp = served(Route(delay=TIMEOUT * 4))
    assert_fetch_refused(client, rsa_key, sp, "no answer within 0.5 s")


def test_slowly_dripped_body_times_out(client, served, rsa_key):
    # Each byte comes well within the timeout; the whole body does not.
    sp = served(Route(body=b'{"keys": []}' + b" " * 40, drip=0.05))
    assert_fetch_refused(client, rsa_key, sp, "no answer within 0.5 s")


@pytest.mark.parametrize("status", [404, 500, 204])
def test_error_status_is_refused(client, served, rsa_key, status):
    sp = served(Route(status=status, body=b""))
    assert_fetch_refused(client, rsa_key, sp, f"HTTP {status}")


def test_compressed_body_is_refused(client, served, rsa_key):
    sp = served(Route(body=b"\x1f\x8b", headers={"Content-Encoding": "gzip"}))
    assert_fetch_refused(client, rsa_key, sp, "Content-Encoding 'gzip'")


def test_invalid_json_is_refused(client, served, rsa_key):
    sp = served(Route(body=b"<html>not json</html>"))
    assert_fetch_refused(client, rsa_key, sp, "not JSON")


# --- what it accepts in the set -----------------------------------------------------------


def set_route(*entries) -> Route:
    return Route(body=json.dumps(jwks_of(*entries)).encode())


def test_set_with_a_private_key_is_refused_whole(client, served, rsa_key, ec_key):
    private = {**jwk_of(rsa_key, "k1"), "d": "AQAB"}
    sp = served(set_route(jwk_of(ec_key, "ec"), private))
    assert_fetch_refused(client, rsa_key, sp, "private member(s) d")


def test_set_with_a_weak_rsa_key_is_refused(client, served, rsa_key):
    sp = served(set_route(jwk_of(rsa_key, "k1"), jwk_of(keys.rsa_pair(1024), "weak")))
    assert_fetch_refused(client, rsa_key, sp, "RSA key of 1024 bits")


def test_set_with_duplicate_kids_is_refused(client, served, rsa_key, attacker_key):
    sp = served(set_route(jwk_of(rsa_key, "k1"), jwk_of(attacker_key, "k1")))
    assert_fetch_refused(client, rsa_key, sp, "kid 'k1' names more than one key")


def test_key_for_encryption_does_not_verify(client, served, rsa_key, caplog):
    sp = served(set_route(jwk_of(rsa_key, "k1", use="enc")))
    response, took = attempt(client, rsa_key, sp)
    assert_generic_401(response)
    assert AuthFailure.objects.get(client_id=sp.client_id).reason == "key_not_usable"
    assert "reason=key_not_usable" in caplog.text


def test_refused_set_keeps_the_keys_fetched_before(
    client, served, rsa_key, jwks_server, settings, monkeypatch
):
    sp = served()
    assert_token(attempt(client, rsa_key, sp)[0])
    jwks_server.routes["/jwks"] = set_route({**jwk_of(rsa_key, "k1"), "d": "AQAB"})
    report = keysources.fetch_now(sp)
    assert "private member" in report.last_error
    assert [k.kid for k in report.keys] == ["k1"]
    assert_token(attempt(client, rsa_key, sp)[0])


def test_headers_never_make_the_server_fetch(client, served, rsa_key, jwks_server):
    """``jku``/``x5u`` beside a jwks_uri client's genuine ``kid``: only the registered
    URL is fetched."""
    sp = served()
    claims = keys.claims_for(sp.client_id, now=time.time())
    headers = {"kid": "k1", "jku": jwks_server.url("/evil"), "x5u": jwks_server.url("/evil")}
    assert_token(post(client, form(rsa_key.sign(claims, headers=headers))))
    assert jwks_server.count("/evil") == 0
    assert jwks_server.count("/jwks") == 1


def test_tls_certificate_is_verified(jwks_settings, rsa_key, tmp_path, settings):
    """An https jwks_uri whose certificate no trusted CA signed is a failed fetch."""
    import ssl

    from cryptography.hazmat.primitives import serialization

    from tests.clientauth.jwks_support import JwksServer

    pair = keys.rsa_pair(name="127.0.0.1")
    (tmp_path / "cert.pem").write_bytes(pair.cert_pem)
    (tmp_path / "key.pem").write_bytes(
        pair.private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    server = JwksServer(tls=context)
    try:
        server.publish(jwk_of(rsa_key, "k1"))
        policy = policy_with(settings, JWKS_URI_ALLOW_HTTP=False)
        with pytest.raises(jwks_fetch.FetchError, match="TLS failed"):
            jwks_fetch.fetch(server.url(), policy)
    finally:
        server.stop()
