"""The console's own doors: login brute-force protection (django-axes), browser-facing
headers, HTTPS-only cookies and HSTS when served over HTTPS, and a clean
``manage.py check --deploy`` with production settings (OWASP ASVS V2.2 and V14.4;
RFC 6797 for HSTS).

Production settings are evaluated in subprocesses, since the settings module reads
the environment once at import.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import tempfile
from datetime import timedelta
from pathlib import Path

import pytest
from axes.models import AccessAttempt
from django.utils import timezone

ROOT = Path(__file__).resolve().parents[2]
LOGIN = "/accounts/login/"
PASSWORD = "correct-horse-battery-staple-1"


@pytest.fixture
def staff(django_user_model):
    return django_user_model.objects.create_user("operator", password=PASSWORD, is_staff=True)


def attempt(client, username: str, password: str, ip: str = "192.0.2.10", **headers):
    return client.post(
        LOGIN, {"username": username, "password": password}, REMOTE_ADDR=ip, **headers
    )


def logged_in(response) -> bool:
    return response.status_code == 302 and "_auth_user_id" in response.client.session


def test_five_failures_lock_out_that_username_from_that_address(client, staff):
    for _ in range(4):
        assert attempt(client, "operator", "wrong").status_code == 200
    assert attempt(client, "operator", "wrong").status_code == 429
    locked = attempt(client, "operator", PASSWORD)
    assert locked.status_code == 429
    assert "_auth_user_id" not in client.session


def test_lockout_is_per_username_and_address(client, staff, django_user_model):
    django_user_model.objects.create_user("other", password=PASSWORD)
    for _ in range(5):
        attempt(client, "operator", "wrong")
    assert logged_in(attempt(client, "operator", PASSWORD, ip="192.0.2.99"))
    client.logout()
    assert logged_in(attempt(client, "other", PASSWORD))


def test_forwarded_for_does_not_escape_the_lockout(client, staff):
    """Without DJANGO_BEHIND_PROXY the peer address counts, not a header the client sets."""
    for index in range(5):
        attempt(client, "operator", "wrong", HTTP_X_FORWARDED_FOR=f"203.0.113.{index}")
    response = attempt(client, "operator", PASSWORD, HTTP_X_FORWARDED_FOR="203.0.113.77")
    assert response.status_code == 429


def test_lockout_ends_after_the_cool_off(client, staff):
    for _ in range(5):
        attempt(client, "operator", "wrong")
    assert attempt(client, "operator", PASSWORD).status_code == 429
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=16))
    assert logged_in(attempt(client, "operator", PASSWORD))


def test_success_resets_the_count(client, staff):
    for _ in range(4):
        attempt(client, "operator", "wrong")
    assert logged_in(attempt(client, "operator", PASSWORD))
    client.logout()
    for _ in range(4):
        assert attempt(client, "operator", "wrong").status_code == 200
    assert logged_in(attempt(client, "operator", PASSWORD))


def test_force_login_still_works(client, staff):
    client.force_login(staff)
    assert client.get("/console/", follow=True).status_code == 200


def test_browser_protections_on_console_pages(client, staff):
    client.force_login(staff)
    for response in (client.get(LOGIN), client.get("/console/", follow=True)):
        assert response["X-Frame-Options"] == "DENY"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Referrer-Policy"] == "same-origin"
    assert "Strict-Transport-Security" not in client.get(LOGIN)  # plain-HTTP development


def production_env(**extra: str) -> dict[str, str]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/tmp"),
        "PYTHONPATH": str(ROOT),
        "DJANGO_SETTINGS_MODULE": "authserver.settings",
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(64),
        "AUTHSERVER_ISSUER": "https://auth.example.com",
        "DJANGO_ALLOWED_HOSTS": "auth.example.com,testserver",
        "DATABASE_URL": "sqlite:///" + str(Path(tempfile.mkdtemp()) / "deploy-check.sqlite3"),
    }
    env.update(extra)
    return env


PROBE = """
import json, django
django.setup()
from django.conf import settings
from django.test import Client
c = Client()
plain = c.get("/accounts/login/")
tls = c.get("/accounts/login/", secure=True)
print(json.dumps({
    "redirect": [plain.status_code, plain.get("Location", "")],
    "hsts": tls.get("Strict-Transport-Security", ""),
    "csrf_secure": bool(tls.cookies["csrftoken"]["secure"]) if "csrftoken" in tls.cookies else None,
    "session_secure": settings.SESSION_COOKIE_SECURE,
    "csrf_cookie_secure": settings.CSRF_COOKIE_SECURE,
    "proxy_header": settings.SECURE_PROXY_SSL_HEADER,
}))
"""


def probe(env: dict[str, str]) -> dict:
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_https_issuer_turns_on_tls_protections():
    seen = probe(production_env())
    assert seen["redirect"] == [301, "https://testserver/accounts/login/"]
    assert seen["hsts"] == "max-age=31536000; includeSubDomains; preload"
    assert seen["session_secure"] and seen["csrf_cookie_secure"]
    assert seen["csrf_secure"] is True
    assert seen["proxy_header"] is None


def test_proxy_header_only_when_behind_a_proxy():
    seen = probe(production_env(DJANGO_BEHIND_PROXY="1"))
    assert seen["proxy_header"] == ["HTTP_X_FORWARDED_PROTO", "https"]


def test_http_issuer_without_the_flag_stays_plain():
    seen = probe(
        production_env(AUTHSERVER_ISSUER="http://127.0.0.1:8000", DJANGO_ALLOWED_HOSTS="testserver")
    )
    assert seen["redirect"][0] == 200 and seen["hsts"] == ""
    assert not seen["session_secure"]


def check_deploy() -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "check", "--deploy", "--fail-level", "WARNING"],
        env=production_env(),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_has_no_django_or_axes_warnings():
    result = check_deploy()
    output = result.stdout + result.stderr
    assert "(security." not in output, output
    assert "(axes." not in output, output
    assert "(clientauth." not in output and "(keystore." not in output, output


def test_check_deploy_is_clean():
    result = check_deploy()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_behind_a_proxy_the_proxys_hop_counts(staff, settings):
    """With DJANGO_BEHIND_PROXY the last X-Forwarded-For hop (the proxy's) is the address:
    entries a client prepends do not spread its attempts over many addresses."""
    from authserver import settings as project_settings

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(project_settings, "BEHIND_PROXY", True)
        from django.test import Client

        client = Client()
        for index in range(5):
            attempt(
                client,
                "operator",
                "wrong",
                ip="10.0.0.1",
                HTTP_X_FORWARDED_FOR=f"203.0.113.{index}, 198.51.100.7",
            )
        spoofed = attempt(
            client,
            "operator",
            PASSWORD,
            ip="10.0.0.1",
            HTTP_X_FORWARDED_FOR="203.0.113.99, 198.51.100.7",
        )
        assert spoofed.status_code == 429
        other = attempt(
            client, "operator", PASSWORD, ip="10.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.8"
        )
        assert logged_in(other)
