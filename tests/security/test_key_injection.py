"""Key injection through JOSE headers (RFC 7515 sections 4.1.2-4.1.6, RFC 8725 section
3.10, CONTRACT.md: keys come only from the keystore; ``jwk``, ``jku``, ``x5u``, ``x5c``
are never fetched or used).

A local HTTP server that the test starts on 127.0.0.1 serves the attacker's JWKS and
certificate; every case ends by proving it received no request at all, including the
cases where the client's genuine signature carries such headers and is accepted.
"""

from __future__ import annotations

import json
import threading
from base64 import b64encode
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
import pytest

from tests.security.support import assert_generic_401, assert_token, form, jti_rows, post, sign_raw


class _Recorder(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (http.server's naming)
        self.server.seen.append(self.path)
        payload = json.dumps(self.server.jwks).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def _server(attacker_key):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    server.seen = []
    server.jwks = {"keys": [attacker_jwk(attacker_key)]}
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(5)


@pytest.fixture
def attacker_server(_server):
    """An HTTP server on 127.0.0.1 that records every request it receives."""
    _server.seen.clear()
    return _server


def attacker_jwk(pair) -> dict:
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(pair.private_key.public_key()))
    return {**jwk, "kid": "attacker", "use": "sig", "alg": "RS256"}


def base_url(server) -> str:
    host, port = server.server_address[:2]
    return f"http://{host}:{port}"


def injected_headers(kind: str, server, attacker_key) -> dict:
    url = base_url(server)
    x5c = [b64encode(attacker_key.cert_der).decode()]
    return {
        "jwk": {"jwk": attacker_jwk(attacker_key)},
        "jku": {"jku": f"{url}/jwks.json", "kid": "attacker"},
        "x5u": {"x5u": f"{url}/cert.pem"},
        "x5c": {"x5c": x5c},
        "all": {
            "jwk": attacker_jwk(attacker_key),
            "jku": f"{url}/jwks.json",
            "x5u": f"{url}/cert.pem",
            "x5c": x5c,
            "kid": "attacker",
        },
    }[kind]


KINDS = ["jwk", "jku", "x5u", "x5c", "all"]


@pytest.mark.parametrize("kind", KINDS)
def test_attacker_key_in_headers_is_refused_and_never_fetched(
    client, rsa_client, attacker_key, attacker_server, claims, kind
):
    header = {"alg": "RS256", "typ": "JWT", **injected_headers(kind, attacker_server, attacker_key)}
    assertion = sign_raw(attacker_key, header, claims())
    assert_generic_401(post(client, form(assertion)))
    assert jti_rows() == 0
    assert attacker_server.seen == []


@pytest.mark.parametrize("kind", KINDS)
def test_headers_on_a_genuine_assertion_are_ignored_not_fetched(
    client, rsa_key, rsa_client, attacker_key, attacker_server, claims, kind
):
    """The keystore key verifies; the headers neither help nor trigger a fetch."""
    header = {"alg": "RS256", "typ": "JWT", **injected_headers(kind, attacker_server, attacker_key)}
    assert_token(post(client, form(sign_raw(rsa_key, header, claims()))))
    assert attacker_server.seen == []


@pytest.mark.parametrize("endpoint", ["/oauth2/introspect", "/oauth2/revoke"])
def test_other_endpoints_do_not_fetch_either(
    client, rsa_client, attacker_key, attacker_server, claims, endpoint
):
    header = {"alg": "RS256", **injected_headers("all", attacker_server, attacker_key)}
    data = form(sign_raw(attacker_key, header, claims()), token="x")
    del data["grant_type"]
    assert_generic_401(post(client, data, endpoint))
    assert attacker_server.seen == []
    assert jti_rows() == 0


def test_attacker_server_does_answer(attacker_server):
    """The negative above means something: the server is up and records requests."""
    from urllib.request import urlopen

    with urlopen(base_url(attacker_server) + "/jwks.json", timeout=5) as response:
        assert json.loads(response.read())["keys"][0]["kid"] == "attacker"
    assert attacker_server.seen == ["/jwks.json"]
