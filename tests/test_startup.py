"""Starting the server and its commands: the secret key of the embedded default, the
one-line refusal of a bad configuration (manage.py and gunicorn alike), the hosts
allowed in development, and the log line of a request refused for its Host."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from authserver import env

ROOT = Path(__file__).resolve().parents[1]
GUNICORN = str(Path(sys.executable).with_name("gunicorn"))
REFUSAL = "DJANGO_SECRET_KEY must be set when DATABASE_URL is set and DJANGO_DEBUG is off"


def clean_env(**extra: str) -> dict[str, str]:
    """The caller's environment without the server's configuration, plus ``extra``."""
    drop = ("DJANGO_", "DATABASE_URL", "REDIS_URL", "AUTHSERVER_", "PRIVATE_KEY_JWT")
    kept = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    return {**kept, "PYTHONPATH": str(ROOT), **extra}


# --- the secret key ----------------------------------------------------------------------


@pytest.fixture
def no_configuration(monkeypatch):
    for name in ("DJANGO_SECRET_KEY", "DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_the_embedded_default_makes_a_private_key_once(no_configuration, tmp_path):
    key = env.secret_key(tmp_path, debug=False)
    path = tmp_path / "var" / "secret_key"
    assert len(key) >= 50 and path.read_text().strip() == key
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert env.secret_key(tmp_path, debug=True) == key  # make run (DEBUG) and a second shell


def test_processes_starting_at_once_agree_on_one_key(no_configuration, tmp_path):
    found, start = [], threading.Barrier(8)

    def make():
        start.wait()
        found.append(env.secret_key(tmp_path, debug=False))

    threads = [threading.Thread(target=make) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(found) == 8 and len(set(found)) == 1
    assert [p.name for p in (tmp_path / "var").iterdir()] == ["secret_key"]


def test_a_key_file_others_can_read_is_refused(no_configuration, tmp_path):
    env.secret_key(tmp_path, debug=False)
    (tmp_path / "var" / "secret_key").chmod(0o644)
    with pytest.raises(ImproperlyConfigured, match="must be private: chmod 600 it"):
        env.secret_key(tmp_path, debug=False)


def test_an_explicit_key_wins_and_writes_nothing(no_configuration, tmp_path):
    no_configuration.setenv("DJANGO_SECRET_KEY", "explicit")
    assert env.secret_key(tmp_path, debug=False) == "explicit"
    assert not (tmp_path / "var").exists()


def test_a_real_database_needs_an_explicit_key(no_configuration, tmp_path):
    no_configuration.setenv("DATABASE_URL", "postgres://u@db.example/authserver")
    with pytest.raises(ImproperlyConfigured, match=REFUSAL):
        env.secret_key(tmp_path, debug=False)
    # DEBUG is the explicit opt-in to a development key, as before.
    assert env.secret_key(tmp_path, debug=True).startswith("django-insecure-")
    assert not (tmp_path / "var").exists()


def test_manage_py_refuses_a_real_database_without_a_key_in_one_line():
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=clean_env(DATABASE_URL="postgres://u@127.0.0.1:9/authserver"),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == f"error: {REFUSAL}\n"


def test_the_embedded_default_allows_the_loopback_hosts_without_debug():
    probe = "from django.conf import settings; print(settings.DEBUG, settings.ALLOWED_HOSTS)"
    result = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {probe}"],
        cwd=ROOT,
        env=clean_env(DJANGO_SETTINGS_MODULE="authserver.settings", DJANGO_SECRET_KEY="k"),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.stdout == "False ['127.0.0.1', 'localhost', '[::1]']\n", result.stderr


# --- gunicorn with a bad configuration ----------------------------------------------------


@pytest.mark.parametrize(
    "case, extra, expected",
    [
        (
            "no secret key with a real database",
            {"DATABASE_URL": "postgres://u@127.0.0.1:9/authserver"},
            f"error: {REFUSAL}",
        ),
        (
            "a signing key file that is no key",
            {"DJANGO_SECRET_KEY": "k", "AUTHSERVER_SIGNING_KEY_FILE": "NOT_A_KEY"},
            "error: AUTHSERVER_SIGNING_KEY_FILE (",
        ),
    ],
)
def test_gunicorn_with_a_bad_configuration_prints_one_line(tmp_path, case, extra, expected):
    """The README's production command, as written: one line and a non-zero exit."""
    if extra.get("AUTHSERVER_SIGNING_KEY_FILE") == "NOT_A_KEY":
        bad = tmp_path / "signing.pem"
        bad.write_text("not a key\n")
        extra = {**extra, "AUTHSERVER_SIGNING_KEY_FILE": str(bad)}
    result = subprocess.run(
        [GUNICORN, "-c", "gunicorn.conf.py", "--bind", "127.0.0.1:0", "authserver.wsgi"],
        cwd=ROOT,
        env=clean_env(**extra),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0, case
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(expected), result.stderr


# --- a Host not allowed ---------------------------------------------------------------


PROBE = """
import django
django.setup()
from django.test import Client, RequestFactory
from authserver.wsgi import application

print(Client().get("/.well-known/openid-configuration", HTTP_HOST="forgotten.example").status_code)
# The token endpoint, through the WSGI entry point: the direct path declines, the full
# path refuses and logs.
environ = RequestFactory().post(
    "/oauth2/token", "grant_type=client_credentials",
    content_type="application/x-www-form-urlencoded", HTTP_HOST="forgotten.example",
).environ
seen = []
b"".join(application(environ, lambda status, headers, exc_info=None: seen.append(status)))
print(seen[0])
"""


def test_a_host_not_allowed_is_logged_in_one_line_naming_it(tmp_path):
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env=clean_env(
            DJANGO_SETTINGS_MODULE="authserver.settings",
            DJANGO_SECRET_KEY="k",
            DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
            DJANGO_ALLOWED_HOSTS="auth.example.com",
        ),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.stdout == "400\n400 Bad Request\n", result.stderr
    lines = [line for line in result.stderr.splitlines() if "django.security" in line]
    assert len(lines) == 2 and "Traceback" not in result.stderr, result.stderr
    for line in lines:
        assert line.endswith(
            "ERROR django.security.DisallowedHost Invalid HTTP_HOST header: "
            "'forgotten.example'. You may need to add 'forgotten.example' to ALLOWED_HOSTS."
        ), line
