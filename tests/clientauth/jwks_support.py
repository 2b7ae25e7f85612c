"""A JWKS test server and JWK helpers for the key-source tests.

``JwksServer`` serves HTTP on a free loopback port from a background thread: each path
answers what the test set (a JWK Set, any status, headers, a delay before the headers,
a body dripped slowly), and every GET is counted per path. ``jwk_of`` makes the public
JWK of a test key pair. The test settings allow plain HTTP and 127.0.0.1 only through
``JWKS_TEST_SETTINGS`` (the ``jwks_settings`` fixture), never globally. Test modules
import the fixtures they use from here.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.cache import cache

from clientauth import jwks_cache
from clientauth.jwk import public_members
from keystore.services import clear_key_cache
from tests import keys

JWKS_TEST_SETTINGS = {
    "JWKS_URI_ALLOW_HTTP": True,
    "JWKS_URI_ALLOWED_HOSTS": ["127.0.0.1"],
    "JWKS_URI_TIMEOUT_SECONDS": 0.5,
    "JWKS_URI_MIN_CACHE_SECONDS": 1,
}


def jwk_of(pair: keys.KeyPair, kid: str | None, **members) -> dict:
    """The public JWK of ``pair`` with ``kid`` and any other members (``use``, ``alg``)."""
    jwk = public_members(pair.private_key.public_key())
    if kid is not None:
        jwk["kid"] = kid
    jwk.update(members)
    return jwk


def jwks_of(*entries: dict) -> dict:
    return {"keys": list(entries)}


@dataclass
class Route:
    body: bytes = b'{"keys": []}'
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before the status line
    drip: float = 0.0  # seconds between body bytes (then no Content-Length)
    length: bool = True  # send Content-Length


class JwksServer:
    """``tls``: an ``ssl.SSLContext`` to serve HTTPS with instead of HTTP."""

    def __init__(self, tls=None) -> None:
        self.routes: dict[str, Route] = {}
        self.fetches: Counter[str] = Counter()
        self.hosts: list[str] = []
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's name)
                with server._lock:
                    server.fetches[self.path] += 1
                    server.hosts.append(self.headers.get("Host", ""))
                route = server.routes.get(self.path, Route(status=404, body=b"not found"))
                if route.delay:
                    time.sleep(route.delay)
                try:
                    self.send_response(route.status)
                    for name, value in route.headers.items():
                        self.send_header(name, value)
                    if route.length and not route.drip:
                        self.send_header("Content-Length", str(len(route.body)))
                    self.send_header("Connection", "close")
                    self.end_headers()
                    if route.drip:
                        for byte in route.body:
                            self.wfile.write(bytes([byte]))
                            self.wfile.flush()
                            time.sleep(route.drip)
                    else:
                        self.wfile.write(route.body)
                except OSError:
                    pass  # the client gave up: that is what some tests want

            def log_message(self, *args):
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        if tls is not None:
            self._httpd.socket = tls.wrap_socket(self._httpd.socket, server_side=True)
        self.scheme = "https" if tls is not None else "http"
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def url(self, path: str = "/jwks", host: str = "127.0.0.1") -> str:
        return f"{self.scheme}://{host}:{self.port}{path}"

    def publish(self, *entries: dict, path: str = "/jwks", max_age: int | None = None) -> None:
        headers = {"Content-Type": "application/jwk-set+json"}
        if max_age is not None:
            headers["Cache-Control"] = f"public, max-age={max_age}"
        self.routes[path] = Route(json.dumps(jwks_of(*entries)).encode(), headers=headers)

    def count(self, path: str = "/jwks") -> int:
        with self._lock:
            return self.fetches[path]

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


@pytest.fixture
def jwks_server():
    """A JWKS test server on loopback, stopped after the test."""
    server = JwksServer()
    yield server
    server.stop()


@pytest.fixture
def jwks_settings(settings):
    """``PRIVATE_KEY_JWT`` with ``JWKS_TEST_SETTINGS`` over it (plain HTTP to 127.0.0.1)."""
    settings.PRIVATE_KEY_JWT = {**settings.PRIVATE_KEY_JWT, **JWKS_TEST_SETTINGS}
    return settings


@pytest.fixture
def fresh_jwks():
    """No fetched set, parsed set, used jti or parsed certificate from another test."""
    cache.clear()
    jwks_cache.clear()
    clear_key_cache()
    yield
    cache.clear()
    jwks_cache.clear()
