"""The deployments the benchmark runs, and the gunicorn server in front of them.

``sqlite``: the embedded default, a fresh SQLite file in the run's temporary
directory and the local-memory cache. ``postgres``: a freshly created PostgreSQL
database (dropped afterwards) and Redis on a database number of its own, flushed
first. Both get a generated ``DJANGO_SECRET_KEY`` and ``DJANGO_DEBUG=0``. The server
is ``gunicorn -c gunicorn.conf.py authserver.wsgi``, the production command. ``floor``:
the same command serving ``bench.floor`` (a fixed answer, no Django) instead, the
run's reference.
Called by ``bench.run``.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench import procstat

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN_URL = "postgres://postgres@127.0.0.1:5432/postgres"
TOKEN_TABLE = "oauth2_provider_accesstoken"


@dataclass
class Stack:
    name: str
    label: str
    env: dict[str, str]
    sqlite_path: Path | None = None
    pg_db: str | None = None
    redis_db: int | None = None
    extra: dict = field(default_factory=dict)
    app: str = "authserver.wsgi"

    @property
    def has_database(self) -> bool:
        return self.sqlite_path is not None or self.pg_db is not None

    def tokens_issued(self) -> int:
        """Access-token rows: the server's own count of tokens it issued."""
        query = f"SELECT COUNT(*) FROM {TOKEN_TABLE}"
        if self.sqlite_path is not None:
            with sqlite3.connect(self.sqlite_path, timeout=30) as conn:
                return conn.execute(query).fetchone()[0]
        return int(_psql(self.pg_db, query))

    def backing_pids(self) -> set[int]:
        """PostgreSQL backends serving this database, plus the shared WAL/checkpoint work."""
        if self.pg_db is None:
            return set()
        out = _psql(
            "postgres",
            f"SELECT pid FROM pg_stat_activity WHERE datname = '{self.pg_db}'",
        )
        backends = {int(p) for p in out.split()}
        return backends | procstat.postgres_aux_pids() | procstat.pids_named("redis-server")


def _psql(db: str | None, sql: str) -> str:
    return subprocess.run(
        ["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", db or "postgres", "-tAc", sql],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


def base_env(port: int, workers: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(
        DJANGO_SETTINGS_MODULE="bench.settings",
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
        AUTHSERVER_ISSUER=f"http://127.0.0.1:{port}",
        GUNICORN_BIND=f"127.0.0.1:{port}",
        WEB_CONCURRENCY=str(workers),
        GUNICORN_LOG_LEVEL="warning",
    )
    return env


def sqlite_stack(tmp: Path, port: int, workers: int) -> Stack:
    path = tmp / "bench.sqlite3"
    env = base_env(port, workers)
    env["DATABASE_URL"] = f"sqlite:///{path}"
    return Stack("sqlite", "SQLite + local memory", env, sqlite_path=path)


def floor_stack(port: int, workers: int) -> Stack:
    return Stack("floor", "gunicorn alone", base_env(port, workers), app="bench.floor")


def postgres_stack(port: int, workers: int, redis_db: int) -> Stack:
    services = ROOT / "scripts" / "ensure-services"
    if services.exists():
        subprocess.run([str(services)], check=True)
    db = f"authserver_bench_{os.getpid()}"
    _psql("postgres", f"DROP DATABASE IF EXISTS {db}")
    _psql("postgres", f"CREATE DATABASE {db}")
    subprocess.run(
        ["redis-cli", "-h", "127.0.0.1", "-p", "6379", "-n", str(redis_db), "FLUSHDB"],
        check=True,
        capture_output=True,
    )
    env = base_env(port, workers)
    env["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{db}"
    env["REDIS_URL"] = f"redis://127.0.0.1:6379/{redis_db}"
    return Stack("postgres", "PostgreSQL + Redis", env, pg_db=db, redis_db=redis_db)


def drop(stack: Stack) -> None:
    if stack.pg_db:
        _psql("postgres", f"DROP DATABASE IF EXISTS {stack.pg_db} WITH (FORCE)")
    if stack.redis_db is not None:
        subprocess.run(
            ["redis-cli", "-h", "127.0.0.1", "-p", "6379", "-n", str(stack.redis_db), "FLUSHDB"],
            capture_output=True,
        )


def manage(stack: Stack, *args: str) -> None:
    subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=stack.env,
        check=True,
        stdout=subprocess.DEVNULL,
    )


class Server:
    """A gunicorn master and its workers, started from gunicorn.conf.py."""

    def __init__(self, stack: Stack, log: Path) -> None:
        self.stack = stack
        self.log = log
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 60.0) -> None:
        gunicorn = Path(sys.executable).with_name("gunicorn")
        self.proc = subprocess.Popen(
            [str(gunicorn), "-c", "gunicorn.conf.py", self.stack.app],
            cwd=ROOT,
            env=self.stack.env,
            stdout=self.log.open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        host, port = self.stack.env["GUNICORN_BIND"].rsplit(":", 1)
        want = int(self.stack.env["WEB_CONCURRENCY"])
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited; see {self.log}")
            if len(self.workers()) >= want and _listening(host, int(port)):
                return
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not start in {timeout}s; see {self.log}")

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def workers(self) -> set[int]:
        return procstat.children(self.pid)

    def pids(self) -> set[int]:
        return {self.pid} | self.workers()

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def _listening(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def manage_script(stack: Stack, script: str, *args: str) -> None:
    subprocess.run([sys.executable, script, *args], cwd=ROOT, env=stack.env, check=True)
