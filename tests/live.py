"""A real server for end-to-end tests: gunicorn in a subprocess, on its own database.

``run_live_server()`` migrates a fresh database (a temporary SQLite file, or, when the
test run's ``DATABASE_URL`` is PostgreSQL, a new database on the same server that is
dropped afterwards), starts gunicorn as production does (its ``gunicorn.conf.py``,
read from the checkout: gthread workers) on a free 127.0.0.1 port with
``AUTHSERVER_ISSUER`` set to that address, waits until discovery answers, and yields a
``LiveServer``. Teardown stops the whole process group. ``REDIS_URL`` is passed
through when set. ``database=`` chooses the database explicitly instead: ``"sqlite"``,
``"postgres"`` (a new database on the run's PostgreSQL server, or on
``POSTGRES_ADMIN_URL``, default ``postgres://postgres@127.0.0.1:5432/postgres``), or
the URL of an existing database, used as it is and kept (a second server on the
database of a first). The ``authserver_live`` fixture wraps it for one test module; tests
that use either are marked ``@pytest.mark.live``.

Deliberately not here: TLS, a reverse proxy, or reuse of pytest-django's test
database (the server must see only what the test put there through ``manage()``).
Used by ``tests/e2e`` and by any test that needs real server processes.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.error import URLError
from urllib.request import urlopen

import dj_database_url
import pytest

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
GUNICORN = str(Path(sys.executable).with_name("gunicorn"))
SETTINGS_MODULE = "tests.settings"
START_TIMEOUT_SECONDS = 60.0


class LiveServerError(RuntimeError):
    """The server did not start, or a ``manage()`` command failed."""


@dataclass
class LiveServer:
    """A running gunicorn server and the environment that reaches its database."""

    base_url: str
    env: dict[str, str]
    process: subprocess.Popen
    log_path: Path
    workers: int
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def issuer(self) -> str:
        return self.base_url

    def url(self, path: str) -> str:
        return self.base_url + path

    def manage(self, *args: str, check: bool = True, input: str | None = None) -> str:
        """Run ``manage.py *args`` against the server's database; return its stdout.

        With ``check=True`` (the default) a non-zero exit raises ``LiveServerError``
        carrying stdout and stderr; use ``manage_result()`` to inspect failures.
        """
        result = self.manage_result(*args, input=input)
        if check and result.returncode != 0:
            raise LiveServerError(
                f"manage.py {' '.join(args)} exited {result.returncode}\n"
                f"stdout: {result.stdout}\nstderr: {result.stderr}"
            )
        return result.stdout

    def register_client(
        self,
        name: str,
        cert_pem: bytes,
        *register_args: str,
        callback: str = "https://rp.example/cb",
    ) -> dict:
        """Register a service provider and import its certificate, through the commands
        (``register_app --json``, then ``import_cert`` under the new client ID); return
        register_app's JSON (``client_id``, ``client_secret``)."""
        client = json.loads(
            self.manage(
                "register_app", "--name", name, "--callback", callback, *register_args, "--json"
            )
        )
        with tempfile.TemporaryDirectory() as tmp:
            cert = Path(tmp) / "client.pem"
            cert.write_bytes(cert_pem)
            self.manage("import_cert", "--alias", client["client_id"], str(cert))
        return client

    def manage_result(self, *args: str, input: str | None = None) -> subprocess.CompletedProcess:
        """Run ``manage.py *args``; return the completed process (stdout, stderr, code)."""
        return subprocess.run(
            [PYTHON, str(ROOT / "manage.py"), *args],
            cwd=ROOT,
            env=self.env,
            input=input,
            capture_output=True,
            text=True,
            timeout=120,
        )

    def log(self) -> str:
        """What gunicorn and the application wrote to stderr/stdout so far."""
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


POSTGRES_PREFIXES = ("postgres://", "postgresql://")
DEFAULT_POSTGRES_URL = "postgres://postgres@127.0.0.1:5432/postgres"


@contextlib.contextmanager
def _database(tmpdir: Path, database: str | None = None) -> Iterator[str]:
    """A fresh database URL: a SQLite file in ``tmpdir``, or a new PostgreSQL database.

    ``database=None`` follows the run's ``DATABASE_URL``; ``"sqlite"`` and ``"postgres"``
    choose explicitly; any other value is the URL of an existing database, yielded as is.
    """
    url = os.environ.get("DATABASE_URL", "").strip()
    if database not in (None, "sqlite", "postgres"):
        yield database
        return
    if database == "postgres" and not url.startswith(POSTGRES_PREFIXES):
        url = os.environ.get("POSTGRES_ADMIN_URL", DEFAULT_POSTGRES_URL)
    if database == "sqlite" or not url.startswith(POSTGRES_PREFIXES):
        yield f"sqlite:///{tmpdir / 'live.sqlite3'}"
        return
    import psycopg

    config = dj_database_url.parse(url)
    name = f"authserver_live_{uuid.uuid4().hex[:12]}"
    admin = {
        "host": config.get("HOST") or None,
        "port": config.get("PORT") or None,
        "user": config.get("USER") or None,
        "password": config.get("PASSWORD") or None,
        "dbname": "postgres",
        "autocommit": True,
    }
    admin = {k: v for k, v in admin.items() if v is not None}
    with psycopg.connect(**admin) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = url.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(**admin) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _wait_until_ready(server: LiveServer, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    url = server.url("/.well-known/openid-configuration")
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise LiveServerError(f"gunicorn exited {server.process.returncode}:\n{server.log()}")
        try:
            with urlopen(url, timeout=2) as response:  # noqa: S310 (fixed http URL)
                if response.status == 200:
                    return
        except (URLError, OSError):
            pass
        time.sleep(0.2)
    raise LiveServerError(f"{url} did not answer within {timeout}s:\n{server.log()}")


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)


def gunicorn_command(app: str, port: int, workers: int, *extra: str) -> list[str]:
    """gunicorn serving ``app`` on loopback ``port``, as the tests' servers run: with the
    checkout's ``gunicorn.conf.py``, which gunicorn reads from its working directory."""
    return [
        GUNICORN,
        app,
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--timeout",
        "60",
        "--graceful-timeout",
        "5",
        *extra,
    ]


def process_env(tmpdir: Path) -> dict[str, str]:
    """The environment a server process of the tests starts from: this checkout on
    ``PYTHONPATH``, and nothing of the test process's own settings."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", str(tmpdir)),
        "LANG": os.environ.get("LANG", "C.UTF-8"),
        "PYTHONPATH": str(ROOT),
    }


@contextlib.contextmanager
def run_live_server(
    workers: int = 2,
    *,
    env: dict[str, str] | None = None,
    settings_module: str = SETTINGS_MODULE,
    timeout: float = START_TIMEOUT_SECONDS,
    database: str | None = None,
) -> Iterator[LiveServer]:
    """Start gunicorn (``workers`` workers) on a fresh database; stop it on exit.

    ``env`` adds or overrides environment variables of the server and of ``manage()``
    (for example ``AUTHSERVER_SIGNING_KEY_FILE`` or ``PRIVATE_KEY_JWT``-related
    settings modules via ``settings_module``). ``database``: see ``_database``.
    """
    tmpdir = Path(tempfile.mkdtemp(prefix="authserver-live-"))
    try:
        with _database(tmpdir, database) as database_url:
            port = free_port()
            base_url = f"http://127.0.0.1:{port}"
            server_env = {
                **process_env(tmpdir),
                "DJANGO_SETTINGS_MODULE": settings_module,
                "DJANGO_SECRET_KEY": "live-test-secret-key-" + uuid.uuid4().hex,
                "DJANGO_DEBUG": "0",
                "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
                "DATABASE_URL": database_url,
                "AUTHSERVER_ISSUER": base_url,
            }
            if os.environ.get("REDIS_URL"):
                server_env["REDIS_URL"] = os.environ["REDIS_URL"]
            server_env.update(env or {})
            log_path = tmpdir / "server.log"
            migrate = subprocess.run(
                [PYTHON, str(ROOT / "manage.py"), "migrate", "--noinput"],
                cwd=ROOT,
                env=server_env,
                capture_output=True,
                text=True,
                timeout=300,
            )
            if migrate.returncode != 0:
                raise LiveServerError(f"migrate failed:\n{migrate.stdout}\n{migrate.stderr}")
            with open(log_path, "wb") as log:
                process = subprocess.Popen(
                    gunicorn_command("authserver.wsgi:application", port, workers),
                    cwd=ROOT,
                    env=server_env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            server = LiveServer(base_url, server_env, process, log_path, workers)
            try:
                _wait_until_ready(server, timeout)
                yield server
            finally:
                _stop(process)
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)


@pytest.fixture(scope="module")
def authserver_live() -> Iterator[LiveServer]:
    """One live server per test module (2 workers, or ``LIVE_SERVER_WORKERS``)."""
    workers = int(os.environ.get("LIVE_SERVER_WORKERS", "2"))
    with run_live_server(workers) as server:
        yield server
