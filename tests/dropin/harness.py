"""Bring the stock project up the way a DOT user would adopt ``clientauth``.

``run_dropin(settings_module)`` makes a fresh SQLite database and, in subprocesses:
migrates it with the plain settings, seeds a user and two DOT applications
(``tests.dropin.seed``), migrates again with ``settings_module`` (``clientauth`` and
``keystore`` now installed), imports each client's certificate under its client ID
with ``import_cert``, and serves the project with gunicorn on a free port until the
context exits. A failing step raises ``LiveServerError`` with its output.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.error import URLError
from urllib.request import urlopen

from tests import keys
from tests.live import (
    PYTHON,
    ROOT,
    LiveServerError,
    _stop,
    free_port,
    gunicorn_command,
    process_env,
)

PLAIN = "tests.dropin.project.settings_plain"
WITH_VALIDATOR = "tests.dropin.project.settings"
WITHOUT_VALIDATOR = "tests.dropin.project.settings_novalidator"
START_TIMEOUT_SECONDS = 30.0


@dataclass(frozen=True)
class Client:
    """A seeded DOT application, its plaintext secret and the key its certificate holds."""

    client_id: str
    client_secret: str
    key: keys.KeyPair


@dataclass
class DropIn:
    """The running stock project: where it answers, who may log in, its two clients."""

    base_url: str
    env: dict[str, str]
    settings_module: str
    process: subprocess.Popen
    log_path: Path
    username: str
    password: str
    clients: dict[str, Client]

    @property
    def token_url(self) -> str:
        return self.url("/o/token/")

    def url(self, path: str) -> str:
        return self.base_url + path

    def manage(self, *args: str) -> subprocess.CompletedProcess:
        """``python -m django *args`` under the served settings (not checked)."""
        return _run(["-m", "django", *args, f"--settings={self.settings_module}"], self.env)

    def log(self) -> str:
        """What gunicorn and the project wrote so far."""
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [PYTHON, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def _step(args: list[str], env: dict[str, str]) -> str:
    """Run one set-up step; its stdout, or ``LiveServerError`` with all of its output."""
    result = _run(args, env)
    if result.returncode != 0:
        raise LiveServerError(
            f"python {' '.join(args)} exited {result.returncode}\n"
            f"stdout: {result.stdout}\nstderr: {result.stderr}"
        )
    return result.stdout


def _wait_until_ready(dropin: DropIn) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if dropin.process.poll() is not None:
            raise LiveServerError(f"gunicorn exited {dropin.process.returncode}:\n{dropin.log()}")
        with contextlib.suppress(URLError, OSError):
            with urlopen(dropin.url("/accounts/login/"), timeout=2) as response:
                if response.status == 200:
                    return
        time.sleep(0.2)
    raise LiveServerError(f"the project did not answer:\n{dropin.log()}")


def _prepare(settings_module: str, env: dict[str, str], tmpdir: Path) -> dict:
    """Migrate, seed before clientauth, migrate with it, import the certificates."""
    _step(["-m", "django", "migrate", "--noinput", f"--settings={PLAIN}"], env)
    seeded = json.loads(
        _step(["-m", "tests.dropin.seed"], {**env, "DJANGO_SETTINGS_MODULE": PLAIN})
    )
    _step(["-m", "django", "migrate", "--noinput", f"--settings={settings_module}"], env)
    clients = {}
    for name, client in seeded["clients"].items():
        key = keys.rsa_pair(name=f"dropin-{name}")
        cert = tmpdir / f"{name}.pem"
        cert.write_bytes(key.cert_pem)
        alias = client["client_id"]
        _step(
            [
                "-m",
                "django",
                "import_cert",
                "--alias",
                alias,
                str(cert),
                f"--settings={settings_module}",
            ],
            env,
        )
        clients[name] = Client(alias, client["client_secret"], key)
    return {**seeded, "clients": clients}


@contextlib.contextmanager
def run_dropin(settings_module: str) -> Iterator[DropIn]:
    """The stock project with ``settings_module``, prepared and served; stopped on exit."""
    tmpdir = Path(tempfile.mkdtemp(prefix="dropin-"))
    try:
        port = free_port()
        base_url = f"http://127.0.0.1:{port}"
        env = {
            **process_env(tmpdir),
            "DROPIN_DB": str(tmpdir / "dropin.sqlite3"),
            "DROPIN_ISSUER": base_url,
        }
        seeded = _prepare(settings_module, env, tmpdir)
        log_path = tmpdir / "server.log"
        with open(log_path, "wb") as log:
            process = subprocess.Popen(
                gunicorn_command("tests.dropin.project.wsgi", port, 1, "--no-control-socket"),
                # Not ROOT: gunicorn would read this repository's gunicorn.conf.py there.
                cwd=tmpdir,
                env={**env, "DJANGO_SETTINGS_MODULE": settings_module},
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        dropin = DropIn(
            base_url,
            env,
            settings_module,
            process,
            log_path,
            seeded["username"],
            seeded["password"],
            seeded["clients"],
        )
        try:
            _wait_until_ready(dropin)
            yield dropin
        finally:
            _stop(process)
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)
