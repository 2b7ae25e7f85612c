"""The direct path's request handling: which requests it may try, reading them, and
the answer (``clientauth.fastpath`` says what it is and how it is fenced)."""

from __future__ import annotations

import functools
import io
import logging
import time
from typing import NamedTuple
from urllib.parse import unquote_plus

from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.core.handlers.base import BaseHandler
from django.core.handlers.wsgi import WSGIRequest
from django.core.signals import setting_changed
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.dispatch import receiver
from django.http import HttpResponse
from oauthlib.oauth2.rfc6749.errors import OAuth2Error

from clientauth import conf, errors
from clientauth.authentication import authenticate
from clientauth.fastpath import grants, writer
from clientauth.request import FORM_CONTENT_TYPE, MAX_BODY_BYTES, credentials
from clientauth.views import unavailable

log = logging.getLogger("clientauth.fastpath")

# More fields than any request this path serves has; a longer form goes the full way.
_MAX_FIELDS = 2 * len(grants.PARAMETERS)


class Answer(NamedTuple):
    status: str
    headers: list[tuple[str, str]]
    body: bytes


_header_templates: dict[bool, list[tuple[str, str]]] = {}


# Hosts (as ``HttpRequest._get_raw_host`` reads them) that ``get_host`` accepted under
# the current settings. Its check is a function of that string and ALLOWED_HOSTS and
# DEBUG alone; a refused host is never kept, and the set stays small.
_accepted_hosts: set[str] = set()
_MAX_ACCEPTED_HOSTS = 64


@receiver(setting_changed)
def _reset(**kwargs) -> None:
    _header_templates.clear()
    _accepted_hosts.clear()
    unavailable_reason.cache_clear()


def _host_allowed(request: WSGIRequest) -> bool:
    """Whether ``request.get_host()`` accepts the request's host (ALLOWED_HOSTS)."""
    raw = request._get_raw_host()
    if raw in _accepted_hosts:
        return True
    try:
        request.get_host()
    except DisallowedHost:
        return False
    if len(_accepted_hosts) < _MAX_ACCEPTED_HOSTS:
        _accepted_hosts.add(raw)
    return True


def _headers(request: WSGIRequest) -> list[tuple[str, str]]:
    """The headers of the full path's 200: the grant's own and those the middleware
    adds (``settings.MIDDLEWARE``), made once per scheme and settings."""
    secure = request.is_secure()
    template = _header_templates.get(secure)
    if template is None:
        headers = _as_answer(request, grants.response("", 200, {})).headers
        template = _header_templates[secure] = [
            (name, value) for name, value in headers if name != "Content-Length"
        ]
    return template


def _connection(housekept: bool):
    """Django's default connection, when this path can write through it: a backend
    it has a writer for, in autocommit mode (or inside an atomic block: a test's
    transaction). Otherwise None.

    ``housekept``: ``request_started`` has run ``close_old_connections``. When it has
    not (``_quiet``), the connection must be one that housekeeping would leave as it
    is: open, persistent (``CONN_MAX_AGE = None``), without errors or a pending
    rollback; any other is left to the full path, which runs it first. (Its health
    check is deferred either way: ``_defer_health_check``.)"""
    db = connections[DEFAULT_DB_ALIAS]
    # errors_occurred is cleared by that housekeeping when the connection is healthy;
    # still set, the full path checks it first.
    if db.vendor not in writer.WRITERS or db.needs_rollback or db.errors_occurred:
        return None
    if not housekept and (db.connection is None or db.close_at is not None):
        return None
    if not (db.in_atomic_block or db.get_autocommit()):
        return None
    return db


@functools.cache
def unavailable_reason() -> str | None:
    """Why the direct path cannot serve any request under the current settings, or
    None when it can (it still declines every request it does not know to succeed).
    A function of settings alone: kept until a setting changes."""
    if not conf.policy().fast_path:
        return "PRIVATE_KEY_JWT['FAST_PATH'] is off"
    if not conf.policy().prevent_token_reuse:
        return "PREVENT_TOKEN_REUSE is off (reuse is logged on the full path)"
    vendor = connections[DEFAULT_DB_ALIAS].vendor
    if vendor not in writer.WRITERS:
        return f"no direct writer for the {vendor} database backend"
    if writer.token_fields() is None:
        return "the access-token model is not DOT's AccessToken"
    return None


def _form(body: bytes) -> dict[str, str] | None:
    """The fields of a form body that gives each name once, or None. The same fields as
    ``parse_qsl(text, keep_blank_values=True)``, which Django's ``QueryDict`` uses: only
    a field with ``%`` or ``+`` goes through ``unquote_plus``, the one step of
    ``parse_qsl`` that can change it."""
    try:
        text = body.decode("ascii")
    except UnicodeDecodeError:
        return None
    fields = text.split("&")
    if len(fields) > _MAX_FIELDS:
        return None
    form: dict[str, str] = {}
    for field in fields:
        if not field:
            continue
        name, _, value = field.partition("=")
        if "%" in field or "+" in field:
            name, value = unquote_plus(name), unquote_plus(value)
        if name in form:
            return None
        form[name] = value
    return form


def _headers_only(environ: dict) -> WSGIRequest:
    """The request as far as ``get_host``, ``is_secure`` and ``META`` go, which read
    nothing but the environ and settings: ``WSGIRequest.__init__`` also prepares the
    path, the content type, the body stream and the query and form dictionaries,
    which this path never uses (it reads ``CONTENT_LENGTH`` bytes of the body itself,
    as Django's stream would)."""
    request = WSGIRequest.__new__(WSGIRequest)
    request.environ = request.META = environ
    return request


def serve(environ: dict, *, housekept: bool = True) -> Answer | None:
    """The answer to a successful client_credentials token request, or None to let the
    full path answer. A declined request's body is put back in ``wsgi.input``, and the
    connection's health check re-armed. Never raises: an exception declines, with its
    traceback in the log. ``housekept``: see ``_connection``."""
    body = None
    answer = None
    db = None
    deferred_check = False
    try:
        prepared = _prepare(environ, housekept)
        if prepared is not None:
            request, db, length = prepared
            try:
                body = environ["wsgi.input"].read(length)
            except OSError:  # the client went away mid-body; the full path reads the rest
                environ["wsgi.input"] = io.BytesIO(b"")
                return None
            deferred_check = _defer_health_check(db)
            answer = _answer(request, body, db)
    except Exception:
        log.exception("direct token path failed; the full path answers this request")
        answer = None
    if answer is None:
        if deferred_check:
            db.health_check_done = False  # the full path checks the connection first
        if body is not None:
            environ["wsgi.input"] = io.BytesIO(body)
    return answer


def _defer_health_check(db) -> bool:
    """Leave Django's per-request health check (``CONN_HEALTH_CHECKS``, a ``SELECT 1``)
    to the full path. It exists so that a connection that died between requests
    fails no request; here, a dead connection fails the first statement, which reads
    and writes nothing, and the request is declined with the check re-armed, so the
    full path checks, reconnects and answers. True when a check was deferred."""
    if db.health_check_enabled and not db.health_check_done:
        db.health_check_done = True
        return True
    return False


def _prepare(environ: dict, housekept: bool) -> tuple[WSGIRequest, object, int] | None:
    """The request, the connection and the body's length, when this path may try it."""
    if unavailable_reason() is not None:
        return None
    if environ.get("CONTENT_TYPE") != FORM_CONTENT_TYPE or environ.get("QUERY_STRING"):
        return None
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return None
    if not 0 < length <= MAX_BODY_BYTES:
        return None
    db = _connection(housekept)
    if db is None:
        return None
    request = _headers_only(environ)
    if not _host_allowed(request):  # ALLOWED_HOSTS, as the full path checks it
        return None
    if settings.SECURE_SSL_REDIRECT and not request.is_secure():
        return None  # the security middleware redirects this one
    return request, db, length


def _answer(request: WSGIRequest, body: bytes, db) -> Answer | None:
    form = _form(body)
    if form is None or not grants.handles(form):
        return None
    policy = conf.policy()
    now = time.time()
    try:
        creds = credentials(
            {name: [value] for name, value in form.items()},
            (),
            request.META.get("HTTP_AUTHORIZATION", ""),
        )
        if creds.method is None:
            return None
        # A client's jwks_uri is never fetched here: a request that would fetch is
        # declined, and the full path fetches.
        client = authenticate(creds, policy=policy, now=now, db=db, fetch=False)
        result = grants.grant(client.client, form.get("scope"))
        if isinstance(result, OAuth2Error):
            return None
        # Everything the answer needs is made before the write: once the jti and the
        # token are written, nothing may fail and send the request the full way.
        content = result.body.encode()
        headers = [*_headers(request), ("Content-Length", str(len(content)))]
        # Nothing is written before this point: a database error so far is declined,
        # and the full path checks the connection and tries again.
        written = writer.write(db, client, result, now=now, policy=policy)
    except (errors.ClientAuthError, DatabaseError):
        return None
    if written is None:
        return None
    if not written:
        return _as_answer(request, unavailable())
    return Answer("200 OK", headers, content)


class _MiddlewareOnly(BaseHandler):
    """``settings.MIDDLEWARE`` around a fixed answer, in place of URL resolving and view."""

    def __init__(self, response: HttpResponse) -> None:
        self._fixed = response
        self.load_middleware()

    def _get_response(self, request):
        return self._fixed


def _as_answer(request: WSGIRequest, response: HttpResponse) -> Answer:
    """``response`` as the full path sends it: through the whole middleware stack."""
    response = _MiddlewareOnly(response).get_response(WSGIRequest(request.environ))
    status = f"{response.status_code} {response.reason_phrase}"
    return Answer(status, list(response.items()), response.content)
