"""Slow clients cannot starve the production server (``gunicorn.conf.py``).

The server runs with the configuration operators run (``gunicorn.conf.py``, which
``tests.live`` starts gunicorn with) and three workers (the default on two cores,
where the defect was measured), on a fresh SQLite database with one private_key_jwt
client. Twenty connections send their headers with ``Content-Length: 2000`` and ten
bytes of body, then one byte a second or nothing at all; meanwhile ``GET
/oauth2/jwks`` and a token request must each be answered within a second, again and
again, and once ``GUNICORN_READ_TIMEOUT`` is up each slow connection is answered 408
and closed. Twenty connections that never finish their headers are cut at the same
deadline. A body that arrives slowly but in time, and one behind ``Expect:
100-continue``, are served; one over ``GUNICORN_MAX_BODY_BYTES`` is refused unread.
``GUNICORN_READ_TIMEOUT`` is set to 4 s so that the deadline is seen within the test;
everything else is the file's own configuration (``tests.live`` adds only the bind
address, the worker count and a longer worker timeout).

With the former configuration (three sync workers) three such connections were enough
to leave every request unanswered until gunicorn's 30 s worker timeout.
"""

from __future__ import annotations

import http.client
import socket
import threading
import time
from collections.abc import Callable, Iterator
from urllib.parse import urlencode

import pytest

from tests import keys
from tests.live import LiveServer, run_live_server

pytestmark = pytest.mark.live

WORKERS = 3
SLOW_CONNECTIONS = 20
READ_TIMEOUT = 4.0
ANSWER_WITHIN = 1.0
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


@pytest.fixture(scope="module")
def server() -> Iterator[LiveServer]:
    """gunicorn with the checkout's ``gunicorn.conf.py`` (as ``tests.live`` starts it) on
    a free port and a fresh SQLite database, with a short read deadline."""
    env = {"WEB_CONCURRENCY": str(WORKERS), "GUNICORN_READ_TIMEOUT": str(READ_TIMEOUT)}
    with run_live_server(WORKERS, env=env, database="sqlite") as live:
        yield live


@pytest.fixture(scope="module")
def key() -> keys.KeyPair:
    return keys.rsa_pair(name="slow-bodies")


@pytest.fixture(scope="module")
def token_body(server, key) -> Callable[[], bytes]:
    """``token_body()``: a client_credentials request body with a fresh assertion of a
    private_key_jwt client registered for ``key``."""
    client_id = server.register_client(
        "slow-bodies",
        key.cert_pem,
        "--grant-types",
        "client_credentials",
        "--auth-method",
        "private_key_jwt",
    )["client_id"]

    def make() -> bytes:
        claims = keys.claims_for(client_id, now=time.time(), aud=server.url("/oauth2/token"))
        assertion = key.sign(claims)
        return urlencode(
            {
                "grant_type": "client_credentials",
                "client_assertion_type": ASSERTION_TYPE,
                "client_assertion": assertion,
            }
        ).encode()

    return make


def request_head(server: LiveServer, method: str, path: str, length: int, *extra: str) -> bytes:
    lines = [
        f"{method} {path} HTTP/1.1",
        f"Host: {server.base_url.removeprefix('http://')}",
        "Content-Type: application/x-www-form-urlencoded",
        f"Content-Length: {length}",
        *extra,
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def connect(server: LiveServer, timeout: float = 5.0) -> socket.socket:
    host, port = server.base_url.removeprefix("http://").split(":")
    return socket.create_connection((host, int(port)), timeout=timeout)


def timed(server: LiveServer, method: str, path: str, body: bytes | None = None):
    """(status, seconds) of one request on a new connection."""
    host, port = server.base_url.removeprefix("http://").split(":")
    started = time.monotonic()
    conn = http.client.HTTPConnection(host, int(port), timeout=ANSWER_WITHIN + 4)
    try:
        headers = {"Content-Type": "application/x-www-form-urlencoded"} if body else {}
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            response.read()
        except TimeoutError:
            return None, time.monotonic() - started
        return response.status, time.monotonic() - started
    finally:
        conn.close()


def first_line(sock: socket.socket, timeout: float) -> bytes:
    """The first line the server sent, b"" if it closed without one, None if nothing
    arrived within ``timeout``."""
    sock.settimeout(timeout)
    try:
        data = sock.recv(4096)
    except TimeoutError:
        return None
    except ConnectionResetError:
        return b""
    return data.split(b"\r\n", 1)[0]


class Tricklers:
    """``count`` connections that send a token request's head and ten bytes of a
    2000-byte body; half of them then send one byte a second, half nothing."""

    def __init__(self, server: LiveServer, count: int) -> None:
        self.socks = []
        for _ in range(count):
            sock = connect(server)
            sock.sendall(request_head(server, "POST", "/oauth2/token", 2000) + b"grant_type")
            self.socks.append(sock)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._trickle, daemon=True)
        self._thread.start()

    def _trickle(self) -> None:
        while not self._stop.wait(1.0):
            for sock in self.socks[::2]:
                try:
                    sock.sendall(b"x")
                except OSError:
                    pass

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        for sock in self.socks:
            sock.close()


def test_slow_bodies_do_not_starve_other_requests(server, token_body):
    tricklers = Tricklers(server, SLOW_CONNECTIONS)
    started = time.monotonic()
    try:
        time.sleep(0.5)  # every slow connection is in a thread's hands by now
        slow = []
        while time.monotonic() - started < READ_TIMEOUT - 0.5:
            for method, path, body in [
                ("GET", "/oauth2/jwks", None),
                ("POST", "/oauth2/token", token_body()),
            ]:
                status, seconds = timed(server, method, path, body)
                if status != 200 or seconds > ANSWER_WITHIN:
                    slow.append((method, path, status, round(seconds, 2)))
            time.sleep(0.2)
        assert slow == [], (
            f"answers late or missing while {SLOW_CONNECTIONS} bodies trickle:\n{server.log()}"
        )

        # Each slow connection is answered 408 and closed once its time is up.
        lines = [first_line(sock, READ_TIMEOUT + 3) for sock in tricklers.socks]
        assert all(line == b"HTTP/1.1 408 Request Timeout" for line in lines), lines
        assert time.monotonic() - started < READ_TIMEOUT + 3
    finally:
        tricklers.close()
    assert "did not arrive within 4s; answered 408" in server.log()


def test_slow_headers_are_cut_at_the_deadline(server):
    socks = [connect(server) for _ in range(SLOW_CONNECTIONS)]
    try:
        for sock in socks:
            sock.sendall(b"GET /oauth2/jwks HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        status, seconds = timed(server, "GET", "/oauth2/jwks")
        assert status == 200 and seconds < ANSWER_WITHIN
        # Cut without an answer: the request never arrived.
        assert [first_line(sock, READ_TIMEOUT + 3) for sock in socks] == [b""] * len(socks)
    finally:
        for sock in socks:
            sock.close()


def test_a_body_sent_slowly_within_the_deadline_is_served(server, token_body):
    body = token_body()
    with connect(server) as sock:
        sock.sendall(request_head(server, "POST", "/oauth2/token", len(body)) + body[:50])
        time.sleep(1.0)
        sock.sendall(body[50:])
        assert first_line(sock, 5) == b"HTTP/1.1 200 OK"


def test_expect_100_continue_is_answered_before_the_body_is_read(server, token_body):
    body = token_body()
    with connect(server) as sock:
        sock.sendall(
            request_head(server, "POST", "/oauth2/token", len(body), "Expect: 100-continue")
        )
        assert first_line(sock, 2) == b"HTTP/1.1 100 Continue"
        sock.sendall(body)
        answer = b""
        while b"HTTP/1.1 200 OK" not in answer and len(answer) < 65536:
            chunk = sock.recv(65536)
            if not chunk:
                break
            answer += chunk
        assert b"HTTP/1.1 200 OK" in answer


def test_a_body_over_the_limit_is_refused_unread(server):
    with connect(server) as sock:
        sock.sendall(request_head(server, "POST", "/oauth2/token", 2_621_441))
        assert first_line(sock, 2) == b"HTTP/1.1 413 Content Too Large"
