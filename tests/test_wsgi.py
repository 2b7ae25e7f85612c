"""The WSGI and ASGI entry points: Django's handler with the direct token path in front,
Django's checks on every client endpoint, one request cycle per request, JSON errors."""

from __future__ import annotations

import json
import logging
import time
from urllib.parse import urlencode

import pytest
from asgiref.sync import async_to_sync
from asgiref.testing import ApplicationCommunicator
from django.core import signals
from django.core.cache import cache
from django.db import close_old_connections
from django.test import RequestFactory

from authserver import wsgi
from clientauth import fastpath, lookup
from clientauth.constants import JWT_BEARER_CLIENT_ASSERTION_TYPE
from keystore.services import clear_key_cache
from tests import keys
from tests.clientauth.support import register

pytestmark = pytest.mark.django_db
FORM = "application/x-www-form-urlencoded"
CLIENT_PATHS = ("/oauth2/token", "/oauth2/introspect", "/oauth2/revoke")


def call(method: str, path: str, body: bytes = b"", **extra) -> tuple[str, dict, bytes]:
    """Call ``authserver.wsgi.application`` as a WSGI server would, with the environ
    Django's request factory builds (a form-encoded body, host ``testserver``). As
    Django's test client does, the request cycle does not close the connection that
    holds the test's transaction."""
    environ = RequestFactory().generic(method, path, body, content_type=FORM, **extra).environ
    started = {}

    def start_response(status, headers, exc_info=None):
        started["status"], started["headers"] = status, dict(headers)

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        chunks = wsgi.application(environ, start_response)
        body_out = b"".join(chunks)
        if hasattr(chunks, "close"):
            chunks.close()
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)
    return started["status"], started["headers"], body_out


@pytest.fixture
def pk_client(rsa_key):
    cache.clear()
    clear_key_cache()
    sp, _ = register(cert=rsa_key)
    yield sp
    cache.clear()


def token_body(pair, client_id, **extra) -> bytes:
    assertion = pair.sign(keys.claims_for(client_id, now=time.time()))
    form = {
        "grant_type": "client_credentials",
        "client_assertion_type": JWT_BEARER_CLIENT_ASSERTION_TYPE,
        "client_assertion": assertion,
        **extra,
    }
    return urlencode(form).encode()


@pytest.fixture(params=["direct path on", "direct path off"])
def fast_path(request, settings):
    settings.PRIVATE_KEY_JWT = {
        **settings.PRIVATE_KEY_JWT,
        "FAST_PATH": request.param.endswith("on"),
    }
    return request.param.endswith("on")


def test_a_token_request_is_offered_to_the_direct_path_first(
    monkeypatch, fast_path_on, pk_client, rsa_key
):
    offered = []
    real_serve = fastpath.path.serve

    def serve(environ, **kwargs):
        offered.append(environ["PATH_INFO"])
        return real_serve(environ, **kwargs)

    monkeypatch.setattr(fastpath.path, "serve", serve)
    status, _, _ = call("POST", "/oauth2/token", token_body(rsa_key, pk_client.client_id))
    assert status == "200 OK"
    for path in ("/oauth2/introspect", "/oauth2/revoke"):
        call("POST", path, b"token=x")
    call("GET", "/console/")
    assert offered == ["/oauth2/token"]


@pytest.mark.django_db(transaction=True)  # the request signals, as in production
@pytest.mark.parametrize("outcome", ["served directly", "declined", "direct path off"])
def test_one_request_cycle_per_request_whichever_path_answers(
    settings, pk_client, rsa_key, attacker_key, outcome
):
    on = outcome != "direct path off"
    settings.PRIVATE_KEY_JWT = {**settings.PRIVATE_KEY_JWT, "FAST_PATH": on}
    pair = attacker_key if outcome == "declined" else rsa_key
    seen = []

    def started(sender, **kwargs):
        seen.append("started")

    def finished(sender, **kwargs):
        seen.append("finished")

    signals.request_started.connect(started)
    signals.request_finished.connect(finished)
    try:
        status, _, _ = call("POST", "/oauth2/token", token_body(pair, pk_client.client_id))
    finally:
        signals.request_started.disconnect(started)
        signals.request_finished.disconnect(finished)
    assert status.startswith("401" if outcome == "declined" else "200")
    assert seen == ["started", "finished"]


@pytest.mark.parametrize("persistent", [True, False])
def test_with_only_djangos_listeners_a_connection_needing_housekeeping_takes_the_full_path(
    monkeypatch, settings, fast_path_on, pk_client, rsa_key, persistent
):
    """Without listeners of their own, a direct answer skips the request signals only
    when Django's housekeeping would have nothing to do (a persistent, healthy
    connection); a connection due to close is left to the full path, which runs it."""
    from django.db import connections

    # Whatever cache this run uses: the case where nothing else stands in the way.
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    answered = []
    real_answer = fastpath.path._answer
    monkeypatch.setattr(fastpath.path, "_answer", lambda *a: answered.append(1) or real_answer(*a))
    if not persistent:
        monkeypatch.setattr(connections["default"], "close_at", time.monotonic() + 600)
    status, _, _ = call("POST", "/oauth2/token", token_body(rsa_key, pk_client.client_id))
    assert status == "200 OK"
    assert answered == ([1] if persistent else [])


def test_signals_are_skipped_only_where_no_listener_can_tell(settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    assert fastpath.handler._quiet()  # Django's own housekeeping, local-memory cache
    extra = []

    def listener(sender, **kwargs):
        extra.append(sender)

    signals.request_finished.connect(listener)
    try:
        assert not fastpath.handler._quiet()
    finally:
        signals.request_finished.disconnect(listener)
    settings.CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": "redis://127.0.0.1:6379/15",
        }
    }
    assert not fastpath.handler._quiet()  # django-redis's close may close connections
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    settings.DEBUG = True
    assert not fastpath.handler._quiet()  # DEBUG keeps a query log to reset


@pytest.mark.parametrize("path", CLIENT_PATHS)
def test_a_host_not_allowed_is_400_at_every_client_endpoint(fast_path, pk_client, rsa_key, path):
    body = token_body(rsa_key, pk_client.client_id, token="x")
    status, _, _ = call("POST", path, body, HTTP_HOST="evil.example")
    assert status.startswith("400")
    # The same request with an allowed host is served: the host alone was refused.
    status, _, _ = call("POST", path, token_body(rsa_key, pk_client.client_id, token="x"))
    assert status.startswith("200")


def test_an_exception_in_the_direct_path_is_logged_and_the_full_path_answers(
    monkeypatch, fast_path_on, pk_client, rsa_key, caplog
):
    def broken(*args, **kwargs):
        raise AttributeError("a step of the direct path broke")

    monkeypatch.setattr(fastpath.grants, "grant", broken)
    with caplog.at_level(logging.ERROR, logger="clientauth.fastpath"):
        status, headers, body = call(
            "POST", "/oauth2/token", token_body(rsa_key, pk_client.client_id)
        )
    assert status == "200 OK"
    assert json.loads(body)["token_type"] == "Bearer"
    [record] = [r for r in caplog.records if r.name == "clientauth.fastpath"]
    assert record.exc_info is not None and "a step of the direct path broke" in str(
        record.exc_info[1]
    )


@pytest.mark.parametrize("path", CLIENT_PATHS)
def test_an_exception_in_the_full_path_is_a_json_500_with_a_logged_traceback(
    monkeypatch, fast_path, pk_client, rsa_key, caplog, path
):
    def broken(*args, **kwargs):
        raise RuntimeError("a lookup broke")

    monkeypatch.setattr(lookup.Lookup, "find_client", broken)
    with caplog.at_level(logging.ERROR, logger="django.request"):
        status, headers, body = call(
            "POST", path, token_body(rsa_key, pk_client.client_id, token="x")
        )
    assert status.startswith("500")
    assert headers["Content-Type"] == "application/json"
    assert json.loads(body) == {"error": "server_error"}
    [record] = [r for r in caplog.records if r.name == "django.request"]
    assert record.exc_info is not None and "a lookup broke" in str(record.exc_info[1])


def test_the_direct_path_says_once_whether_it_is_active(settings, caplog, pk_client, rsa_key):
    settings.PRIVATE_KEY_JWT = {**settings.PRIVATE_KEY_JWT, "FAST_PATH": False}
    fastpath.DirectTokenHandler._announced = False
    with caplog.at_level(logging.INFO, logger="clientauth.fastpath"):
        for _ in range(2):
            call("POST", "/oauth2/token", token_body(rsa_key, pk_client.client_id))
    lines = [r.getMessage() for r in caplog.records if r.name == "clientauth.fastpath"]
    assert lines == ["direct token path off: PRIVATE_KEY_JWT['FAST_PATH'] is off"]


def test_client_endpoints_answer_with_security_headers_and_no_cookie():
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


def asgi_call(path: str, body: bytes) -> tuple[int, dict, bytes]:
    from authserver.asgi import application

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"testserver"),
            (b"content-type", FORM.encode()),
            (b"content-length", str(len(body)).encode()),
        ],
        "client": ("127.0.0.1", 40000),
        "server": ("testserver", 80),
    }

    async def run():
        communicator = ApplicationCommunicator(application, scope)
        await communicator.send_input({"type": "http.request", "body": body})
        start = await communicator.receive_output(10)
        chunks = []
        while True:
            message = await communicator.receive_output(10)
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        return start, b"".join(chunks)

    start, content = async_to_sync(run)()
    headers = {k.decode().lower(): v.decode() for k, v in start["headers"]}
    return start["status"], headers, content


@pytest.mark.django_db(transaction=True)  # the ASGI handler runs the view in a thread
def test_asgi_answers_the_token_endpoint_as_wsgi_does(pk_client, rsa_key):
    wsgi_status, wsgi_headers, wsgi_body = call(
        "POST", "/oauth2/token", token_body(rsa_key, pk_client.client_id)
    )
    asgi_status, asgi_headers, asgi_body = asgi_call(
        "/oauth2/token", token_body(rsa_key, pk_client.client_id)
    )
    assert (asgi_status, wsgi_status) == (200, "200 OK")
    assert set(json.loads(asgi_body)) == set(json.loads(wsgi_body))
    wsgi_headers = {k.lower(): v for k, v in wsgi_headers.items() if k != "Content-Length"}
    asgi_headers.pop("content-length", None)
    assert asgi_headers == wsgi_headers
    # A refusal too: the same status and body.
    bad = token_body(rsa_key, pk_client.client_id, scope="bogus scope")
    status, _, body = asgi_call("/oauth2/token", bad)
    assert status == 400 and json.loads(body)["error"] == "invalid_scope"


def test_server_errors_reach_the_log_whatever_debug_says(settings):
    """LOGGING sends django.request errors to a handler with no DEBUG-only filter, so a
    500 leaves its traceback in the log of a production server too."""
    import logging.config

    logging.config.dictConfig(settings.LOGGING)
    logger = logging.getLogger("django.request")
    assert logger.level == logging.ERROR and not logger.propagate
    assert logger.handlers
    for handler in logger.handlers:
        assert isinstance(handler, logging.StreamHandler)
        assert not any(type(f).__name__ == "RequireDebugTrue" for f in handler.filters)
