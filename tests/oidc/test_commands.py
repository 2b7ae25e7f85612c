"""bootstrap, rotate_signing_key, and start-up with AUTHSERVER_SIGNING_KEY_FILE."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from oidc.models import SigningKey
from tests.live import ROOT


def run(*args: str, **options) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, **options)
    return out.getvalue()


def write_key(path, bits: int) -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    )
    return str(path)


@pytest.mark.django_db
def test_bootstrap_creates_key_and_admin_with_random_password(settings):
    settings.AUTHSERVER_ISSUER = "https://login.example.com"
    out = run("bootstrap")
    assert SigningKey.objects.filter(active=True).count() == 1
    assert "https://login.example.com/console/" in out
    password = re.search(r"password: (\S+)", out).group(1)
    assert len(password) >= 16
    admin = get_user_model().objects.get(username="admin")
    assert admin.is_staff and admin.is_superuser and admin.check_password(password)


@pytest.mark.django_db
def test_bootstrap_twice_keeps_admin_and_says_how_to_reset():
    first = re.search(r"password: (\S+)", run("bootstrap")).group(1)
    out = run("bootstrap")
    assert "exists" in out and "changepassword admin" in out
    assert "password:" not in out
    assert get_user_model().objects.get(username="admin").check_password(first)
    assert SigningKey.objects.count() == 1


@pytest.mark.django_db
def test_two_bootstraps_never_share_a_password():
    first = re.search(r"password: (\S+)", run("bootstrap")).group(1)
    get_user_model().objects.all().delete()
    second = re.search(r"password: (\S+)", run("bootstrap")).group(1)
    assert first != second


@pytest.mark.django_db
def test_rotate_signing_key_prints_the_new_kid():
    run("bootstrap")
    old = SigningKey.objects.get(active=True).kid
    out = run("rotate_signing_key")
    new = SigningKey.objects.get(active=True).kid
    assert new != old and new in out
    assert SigningKey.objects.get(kid=old).retired_at is not None


def test_rotate_signing_key_refuses_with_key_file(tmp_path, settings):
    settings.AUTHSERVER_SIGNING_KEY_FILE = write_key(tmp_path / "k.pem", 2048)
    with pytest.raises(CommandError, match="AUTHSERVER_SIGNING_KEY_FILE is set"):
        run("rotate_signing_key")


def manage(tmp_path, *args: str, key_file: str) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "AUTHSERVER_SIGNING_KEY_FILE": key_file,
    }
    return subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_rotate_signing_key_refusal_is_one_line(tmp_path):
    result = manage(tmp_path, "rotate_signing_key", key_file=write_key(tmp_path / "k.pem", 2048))
    assert result.returncode != 0
    assert result.stderr.strip().count("\n") == 0
    assert "AUTHSERVER_SIGNING_KEY_FILE is set" in result.stderr


def test_weak_key_file_stops_start_up(tmp_path):
    result = manage(tmp_path, "check", key_file=write_key(tmp_path / "weak.pem", 1024))
    assert result.returncode != 0
    assert "1024-bit RSA key; at least 2048 bits are required" in result.stderr
