"""The WSGI entry point: client API posts take the lean handler, everything else the full one."""

from __future__ import annotations

import pytest
from django.test import RequestFactory

from authserver import wsgi

pytestmark = pytest.mark.django_db
FORM = "application/x-www-form-urlencoded"


def call(method: str, path: str, body: bytes = b"") -> tuple[str, dict, bytes]:
    """Call ``authserver.wsgi.application`` as a WSGI server would, with the environ
    Django's request factory builds (a form-encoded body, host ``testserver``)."""
    environ = RequestFactory().generic(method, path, body, content_type=FORM).environ
    started = {}

    def start_response(status, headers, exc_info=None):
        started["status"], started["headers"] = status, dict(headers)

    chunks = wsgi.application(environ, start_response)
    body_out = b"".join(chunks)
    if hasattr(chunks, "close"):
        chunks.close()
    return started["status"], started["headers"], body_out


def test_token_post_takes_the_client_api_handler(monkeypatch):
    seen = []

    def lean(environ, start_response):
        seen.append(environ["PATH_INFO"])
        start_response("204 No Content", [])
        return []

    monkeypatch.setattr(wsgi, "client_api", lean)
    for path in sorted(wsgi.CLIENT_API_PATHS):
        call("POST", path)
    call("GET", "/oauth2/token")
    call("GET", "/console/")
    assert seen == sorted(wsgi.CLIENT_API_PATHS)


def test_client_api_handler_answers_with_security_headers():
    status, headers, body = call("POST", "/oauth2/token", b"grant_type=client_credentials")
    assert status.startswith("401")
    assert headers["Content-Type"] == "application/json"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert b'"invalid_client"' in body
    assert "Set-Cookie" not in headers


def test_console_still_takes_the_full_stack():
    status, headers, _ = call("GET", "/console/")
    assert status.startswith("302")
    assert headers["Location"].startswith("/accounts/login/")
    assert headers["X-Frame-Options"] == "DENY"
