"""Fixtures of the fault tests: a test-owned Redis, a live server on a fresh PostgreSQL
database, a registered private_key_jwt client, and a load driver that keeps a ledger.

Redis is started by the test on a spare port (``redis-server --port P --save ""
--appendonly no``) and stopped by its PID; PostgreSQL is the one always running on
127.0.0.1:5432 (``POSTGRES_ADMIN_URL`` overrides), where each module gets a database of
its own, dropped afterwards. Both passes of ``.ci/run`` (SQLite and PostgreSQL) run these
tests the same way: they never use the run's own ``DATABASE_URL`` or ``REDIS_URL``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field

import psycopg
import pytest
import redis
import requests

from tests import keys
from tests.live import LiveServer, free_port, run_live_server

ADMIN_URL = os.environ.get("POSTGRES_ADMIN_URL", "postgres://postgres@127.0.0.1:5432/postgres")
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


class RedisServer:
    """A redis-server subprocess on a fixed port, killed and restarted by PID."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.fail("redis-server is not installed (apt-get install redis-server)")
        self.process = subprocess.Popen(
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis(port=self.port, socket_connect_timeout=0.2)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with contextlib.suppress(redis.exceptions.ConnectionError):
                if client.ping():
                    return
            time.sleep(0.05)
        raise RuntimeError(f"redis-server did not answer on port {self.port}")

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def keys(self) -> int:
        return redis.Redis(port=self.port).dbsize()


@pytest.fixture(scope="module")
def redis_server():
    server = RedisServer(free_port())
    server.start()
    yield server
    server.kill()


@pytest.fixture(scope="module")
def live(redis_server):
    """gunicorn (2 workers) on a fresh PostgreSQL database, caching in the test's Redis."""
    with pytest.MonkeyPatch.context() as patch:
        # tests.live makes a fresh database on the server DATABASE_URL names.
        patch.setenv("DATABASE_URL", ADMIN_URL)
        with run_live_server(2, env={"REDIS_URL": redis_server.url}) as server:
            yield server


@pytest.fixture
def fault_client(live):
    """A client_credentials private_key_jwt client registered through the commands, one
    per test, so each ledger counts only its own test's tokens and rows."""
    pair = keys.ec_pair(name="fault-client")
    client_id = live.register_client(
        "fault client", pair.cert_pem, "--grant-types", "client_credentials"
    )["client_id"]
    return client_id, pair


@dataclass
class Answer:
    jti: str
    status: int
    json: bool
    error: str | None
    description: str | None
    phase: str


@dataclass
class Driver:
    """Sends fresh assertions from a few threads and records every answer by jti."""

    server: LiveServer
    client_id: str
    pair: keys.KeyPair
    answers: list[Answer] = field(default_factory=list)
    accepted: dict[str, str] = field(default_factory=dict)  # jti -> the assertion
    phase: str = "start"
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def assertion(self) -> tuple[str, str]:
        jti = uuid.uuid4().hex
        claims = keys.claims_for(
            self.client_id, now=time.time(), aud=self.server.url("/oauth2/token"), jti=jti
        )
        return jti, self.pair.sign(claims)

    def send(self, session: requests.Session, jti: str, assertion: str) -> Answer:
        response = session.post(
            self.server.url("/oauth2/token"),
            data={
                "grant_type": "client_credentials",
                "client_assertion_type": ASSERTION_TYPE,
                "client_assertion": assertion,
            },
            timeout=30,
        )
        is_json = response.headers.get("Content-Type", "").startswith("application/json")
        payload = response.json() if is_json else {}
        answer = Answer(
            jti,
            response.status_code,
            is_json,
            payload.get("error"),
            payload.get("error_description"),
            self.phase,
        )
        with self._lock:
            self.answers.append(answer)
            if answer.status == 200:
                self.accepted.setdefault(jti, assertion)
        return answer

    def run(self, requests_per_thread: int, threads: int = 3, pause: float = 0.0) -> None:
        def worker() -> None:
            with requests.Session() as session:
                for _ in range(requests_per_thread):
                    self.send(session, *self.assertion())
                    if pause:
                        time.sleep(pause)

        pool = [threading.Thread(target=worker) for _ in range(threads)]
        for thread in pool:
            thread.start()
        for thread in pool:
            thread.join(120)

    def replay(self, count: int) -> list[Answer]:
        with requests.Session() as session:
            used = list(self.accepted.items())[:count]
            return [self.send(session, f"replay:{jti}", assertion) for jti, assertion in used]

    def statuses(self, phase: str | None = None) -> Counter:
        return Counter(a.status for a in self.answers if phase is None or a.phase == phase)


@pytest.fixture
def driver(live, fault_client):
    client_id, pair = fault_client
    return Driver(live, client_id, pair)


def ledger_check(server: LiveServer, driver: Driver) -> None:
    """Tokens and jti rows agree, and no refused assertion left a row.

    Every request used a fresh jti, so the client's tokens equal its jti rows. A 200
    must have its row; a 401 must not. A 503 (the database went away mid-request) may
    have committed or not, which the client cannot know: it is allowed either way.
    """
    url = server.env["DATABASE_URL"]
    with psycopg.connect(url, autocommit=True) as conn:
        tokens = conn.execute(
            "SELECT count(*) FROM oauth2_provider_accesstoken t "
            "JOIN clientauth_serviceprovider s ON t.application_id = s.id "
            "WHERE s.client_id = %s",
            (driver.client_id,),
        ).fetchone()[0]
        rows = {
            r[0]
            for r in conn.execute(
                'SELECT "JWT_ID" FROM "IDN_OIDC_JTI" WHERE "CLIENT_ID" = %s', (driver.client_id,)
            ).fetchall()
        }
    fresh = [a for a in driver.answers if not a.jti.startswith("replay:")]
    ok = {a.jti for a in fresh if a.status == 200}
    unknown = {a.jti for a in fresh if a.status == 503}
    refused = {a.jti for a in fresh if a.status not in (200, 503)}
    assert tokens == len(rows), (tokens, len(rows))
    assert ok <= rows, f"{len(ok - rows)} tokens answered 200 without a jti row"
    assert rows <= ok | unknown, f"{len(rows - ok - unknown)} jti rows of refused requests"
    assert not rows & refused
