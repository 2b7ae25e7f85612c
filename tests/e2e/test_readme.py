"""The README as a new user follows it: its shell blocks, parsed from README.md so the
two cannot drift, run in a fresh copy of the repository against a server started with
``make run``, in a second shell without ``DJANGO_DEBUG`` or ``DJANGO_SECRET_KEY``.

The walkthrough registers a client, makes its Java keystore with keytool, imports it,
mints an assertion, gets a token (200) and is refused the replay (401); the
authorization-code block then runs as typed, the test playing the browser where the
README says to open a URL and paste the address. ``docs/code_flow.py`` does the same
flow by itself.

Two liberties, both forced by sharing the machine: the server listens on a free port
(``make run PORT=...`` with ``AUTHSERVER_ISSUER`` to match, given to both shells, and
the README's ``http://127.0.0.1:8000`` replaced by that address), and ``make`` is told
not to remake the virtualenv's stamp (``-o``), since the copy shares this checkout's
``.venv`` and must not reinstall the project from the copy into it.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import queue
import re
import shutil
import signal
import stat
import subprocess
import threading
import time
from pathlib import Path
from urllib.error import URLError
from urllib.request import urlopen

import pytest

from tests.live import free_port

pytestmark = pytest.mark.live

ROOT = Path(__file__).resolve().parents[2]
README_URL = "http://127.0.0.1:8000"
REDIRECT_URI = "http://localhost:8080/playground2/oauth2client"
# What a fresh clone holds, less what the tests and tools leave behind.
NOT_COPIED = shutil.ignore_patterns(
    ".git", ".venv", "var", "test-artifacts", "__pycache__", ".pytest_cache",
    ".ruff_cache", ".hypothesis", "*.egg-info", "tests", "bench",
)  # fmt: skip


def shell_block(heading: str) -> str:
    """The first ```sh block of the README section under ``heading``."""
    text = (ROOT / "README.md").read_text()
    section = text[text.index(f"\n{heading}\n") :]
    match = re.search(r"```sh\n(.*?)```", section, re.S)
    assert match, f"no sh block under {heading!r}"
    return match.group(1)


def load_code_flow():
    spec = importlib.util.spec_from_file_location("code_flow", ROOT / "docs" / "code_flow.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def user_env(home: Path, base_url: str) -> dict[str, str]:
    """A new shell's environment: no DJANGO_*, no database or cache URL, no settings."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "LANG": os.environ.get("LANG", "C.UTF-8"),
        "AUTHSERVER_ISSUER": base_url,
    }


class Reader:
    """Lines a process writes, collected by a thread (a full pipe would block it)."""

    def __init__(self, stream) -> None:
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._read, args=(stream,), daemon=True).start()

    def _read(self, stream) -> None:
        for line in stream:
            self.seen.append(line)
            self.lines.put(line)

    def wait_for(self, prefix: str, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self.lines.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"no line starting {prefix!r}:\n{self.text()}") from None
            if line.startswith(prefix):
                return line.strip()

    def text(self) -> str:
        return "".join(self.seen)


def _stop(process: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A fresh copy of the repository, served by ``make run`` on a free port."""
    missing = [tool for tool in ("keytool", "openssl", "curl", "make") if not shutil.which(tool)]
    if missing:
        pytest.skip(
            f"the README walkthrough needs {', '.join(missing)}, not installed here "
            "(keytool comes with a Java runtime: apt-get install default-jre-headless)"
        )
    top = tmp_path_factory.mktemp("readme")
    repo, home = top / "repo", top / "home"
    shutil.copytree(ROOT, repo, ignore=NOT_COPIED)
    (repo / ".venv").symlink_to(ROOT / ".venv")
    home.mkdir()
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    log = open(top / "make-run.log", "w+")  # noqa: SIM115  (closed at teardown)
    process = subprocess.Popen(
        ["make", "-o", ".venv/.run-stamp", "run", f"PORT={port}"],
        cwd=repo,
        env=user_env(home, base_url),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 180
        while True:
            assert process.poll() is None, (top / "make-run.log").read_text()
            try:
                with urlopen(f"{base_url}/.well-known/openid-configuration", timeout=5) as r:
                    if r.status == 200:
                        break
            except (URLError, OSError):
                pass
            assert time.monotonic() < deadline, (top / "make-run.log").read_text()
            time.sleep(0.5)
        password = re.search(r"password: (\S+)", (top / "make-run.log").read_text()).group(1)
        yield {"repo": repo, "home": home, "base_url": base_url, "password": password}
    finally:
        _stop(process)
        log.close()


@pytest.fixture(scope="module")
def walkthrough(server):
    """Both README blocks, run as one shell session; the browser step played here."""
    base_url = server["base_url"]
    walk, flow = (
        shell_block("## Walkthrough: the WSO2 procedure, in this product"),
        shell_block("### The authorization-code flow"),
    )
    assert README_URL in walk and README_URL in flow
    script = "\n".join(
        [
            "set -euo pipefail",
            # Each curl of the walkthrough also prints its status, on a line of its own.
            "curl() { command curl -w '\\nHTTP %{http_code}\\n' \"$@\"; }",
            walk.replace(README_URL, base_url),
            "unset -f curl",
            "echo '== code flow'",
            flow.replace(README_URL, base_url),
        ]
    )
    shell = subprocess.Popen(
        ["bash", "-c", script],
        cwd=server["repo"],
        env=user_env(server["home"], base_url),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    out, err = Reader(shell.stdout), Reader(shell.stderr)
    try:
        url = out.wait_for(f"{base_url}/oauth2/authorize?", timeout=240)
        address = load_code_flow().log_in_and_consent(
            url, REDIRECT_URI, "admin", server["password"]
        )
        shell.stdin.write(address + "\n")
        shell.stdin.close()
        code = shell.wait(timeout=120)
    finally:
        if shell.poll() is None:
            _stop(shell)
    time.sleep(0.2)  # the readers' last lines
    return {"code": code, "stdout": out.text(), "stderr": err.text()}


def json_objects(text: str) -> list:
    decoder, found, index = json.JSONDecoder(), [], 0
    while (index := text.find("{", index)) != -1:
        try:
            value, end = decoder.raw_decode(text, index)
        except json.JSONDecodeError:
            index += 1
            continue
        found.append(value)
        index = end
    return found


def test_the_walkthrough_runs_verbatim_in_a_second_shell(server, walkthrough):
    assert walkthrough["code"] == 0, walkthrough["stdout"] + walkthrough["stderr"]
    stdout = walkthrough["stdout"]
    assert "Traceback" not in walkthrough["stderr"], walkthrough["stderr"]
    # 1. registered, with the key and secret shown (on stderr through tee).
    client_id = re.search(r"^OAuth Client Key: (\S+)$", walkthrough["stderr"], re.M).group(1)
    # 3. imported from the .jks under the client ID, as show_cert says.
    assert re.search(rf"^Alias:\s+{re.escape(client_id)}$", stdout, re.M), stdout
    # 5. the token (200), then the replay refused (401).
    walk_part = stdout.split("== code flow")[0]
    statuses = re.findall(r"^HTTP (\d{3})$", walk_part, re.M)
    assert statuses == ["200", "401"], walk_part
    token, replay = json_objects(walk_part)[-2:]
    assert token["token_type"] == "Bearer" and token["access_token"]
    assert replay == {"error": "invalid_client", "error_description": "jti has been used already"}
    # The embedded default's development key, made once by whichever process came first.
    # The copy's own var/, not this checkout's: the copy is what ran.
    key_file = server["repo"] / "var" / "secret_key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert (server["repo"] / "var" / "authserver.sqlite3").exists()


def test_the_code_flow_block_runs_as_typed(walkthrough):
    assert walkthrough["code"] == 0, walkthrough["stdout"] + walkthrough["stderr"]
    flow_part = walkthrough["stdout"].split("== code flow")[1]
    tokens, claims = json_objects(flow_part)[-2:]
    assert tokens["token_type"] == "Bearer" and tokens["id_token"] and "openid" in tokens["scope"]
    client_id = re.search(r"^OAuth Client Key: (\S+)$", walkthrough["stderr"], re.M).group(1)
    assert claims["aud"] == client_id and claims["iss"].startswith("http://127.0.0.1:")


def test_docs_code_flow_does_the_flow_by_itself(server, walkthrough):
    client_id = re.search(r"^OAuth Client Key: (\S+)$", walkthrough["stderr"], re.M).group(1)
    result = subprocess.run(
        [
            ".venv/bin/python", "docs/code_flow.py", "--client-id", client_id,
            "--key", "client-key.pem", "--server", server["base_url"], "--username", "admin",
        ],
        cwd=server["repo"],
        env=user_env(server["home"], server["base_url"]),
        input=server["password"] + "\n",
        capture_output=True,
        text=True,
        timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stderr == "ID token verified against the server's jwks_uri.\n"
    answer = json.loads(result.stdout)
    assert answer["id_token_claims"]["aud"] == client_id
    assert answer["token_response"]["token_type"] == "Bearer"
