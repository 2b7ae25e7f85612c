"""The token endpoint's direct path: a client_credentials token without Django's request cycle.

Most token requests an authorization server sees are the same request: a
``client_credentials`` grant with well-formed client authentication that succeeds.
``serve`` answers exactly those straight from the WSGI environ, with the same
functions the full path uses: ``clientauth.request.credentials`` for the request's
shape, ``clientauth.authentication.authenticate`` (the verifier, or the secret check) for the
client, ``clientauth.grants.grant`` for the token, and the ``jti`` and the token
written in one transaction. What it leaves out is the request cycle around them:
building an ``HttpRequest`` and its ``QueryDict``, the signals, the middleware, the URL
resolver, the view's decorators and the ``HttpResponse``, which cost more than the
work itself.

It answers with a 200, or with the full path's 503 when the database fails while the
``jti`` and token are written (they may have committed: no second try with the same
assertion). Every other request, and every request that would not succeed here
(malformed, refused, replayed, a scope error, a database error before the write), is
declined with ``None``, and the full path (``clientauth.views.TokenView``) answers it
from scratch, records the failure and sends the contract's error. A declined request
has changed nothing: the transaction that would have held its ``jti`` and token was
rolled back or never began. So the rules and the wording of every refusal live in one
place, and a refusal costs at most one extra pass of the checks.

Fenced as an optimisation must be (``docs/fast-path.md``): ``PRIVATE_KEY_JWT
["FAST_PATH"]`` turns it off; ``DirectTokenHandler`` logs once, at its first token
request, whether it is active and, if not, why; any exception inside it is logged with
its traceback and the full path answers; it runs inside Django's request cycle
signals (one ``request_started`` and one ``request_finished`` per request, whichever
path answers); and the suite runs with it on and off (``.ci/run``).

``DirectTokenHandler`` is the WSGI handler that puts it in front of Django's
(``authserver.wsgi``).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import io
import logging
import time
import weakref
from collections.abc import Callable
from typing import NamedTuple
from urllib.parse import unquote_plus

from django.conf import settings
from django.core import signals
from django.core.cache import close_caches
from django.core.cache.backends.base import BaseCache
from django.core.exceptions import DisallowedHost
from django.core.handlers.base import BaseHandler, reset_urlconf
from django.core.handlers.wsgi import WSGIHandler, WSGIRequest, get_script_name
from django.core.signals import setting_changed
from django.db import (
    DEFAULT_DB_ALIAS,
    DatabaseError,
    close_old_connections,
    connection,
    connections,
    models,
    reset_queries,
)
from django.dispatch import receiver
from django.http import HttpResponse
from django.urls import set_script_prefix
from django.utils.module_loading import import_string
from oauth2_provider.models import AccessToken, get_access_token_model
from oauth2_provider.settings import oauth2_settings
from oauthlib.oauth2.rfc6749.errors import OAuth2Error

from clientauth import conf, errors, grants, jti, rows
from clientauth.authentication import authenticate
from clientauth.endpoints import is_token_path
from clientauth.request import FORM_CONTENT_TYPE, MAX_BODY_BYTES, credentials
from clientauth.views import unavailable
from djangokit import rawsql

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
    _caches_close_nothing.cache_clear()


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
    is: open, persistent (``CONN_MAX_AGE = None``), without health checks, errors or a
    pending rollback; any other is left to the full path, which runs it first."""
    db = connections[DEFAULT_DB_ALIAS]
    # errors_occurred is cleared by that housekeeping when the connection is healthy;
    # still set, the full path checks it first.
    if db.vendor not in _WRITERS or db.needs_rollback or db.errors_occurred:
        return None
    if not housekept and (
        db.connection is None or db.close_at is not None or db.health_check_enabled
    ):
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
    if vendor not in _WRITERS:
        return f"no direct writer for the {vendor} database backend"
    if _token_fields() is None:
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
    full path answer. A declined request's body is put back in ``wsgi.input``. Never
    raises: an exception declines, with its traceback in the log. ``housekept``: see
    ``_connection``."""
    body = None
    answer = None
    try:
        prepared = _prepare(environ, housekept)
        if prepared is not None:
            request, db, length = prepared
            try:
                body = environ["wsgi.input"].read(length)
            except OSError:  # the client went away mid-body; the full path reads the rest
                environ["wsgi.input"] = io.BytesIO(b"")
                return None
            answer = _answer(request, body, db)
    except Exception:
        log.exception("direct token path failed; the full path answers this request")
        answer = None
    if answer is None and body is not None:
        environ["wsgi.input"] = io.BytesIO(body)
    return answer


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
        client = authenticate(creds, policy=policy, now=now, db=db)
        result = grants.grant(client.client, form.get("scope"))
        if isinstance(result, OAuth2Error):
            return None
        # Everything the answer needs is made before the write: once the jti and the
        # token are written, nothing may fail and send the request the full way.
        content = result.body.encode()
        headers = [*_headers(request), ("Content-Length", str(len(content)))]
        # Nothing is written before this point: a database error so far is declined,
        # and the full path checks the connection and tries again.
        written = _write(db, client, result, now=now, policy=policy)
    except (errors.ClientAuthError, DatabaseError):
        return None
    if written is None:
        return None
    if not written:
        return _as_answer(request, unavailable())
    return Answer("200 OK", headers, content)


def _write(db, client, granted: grants.Grant, *, now: float, policy: conf.Policy) -> bool | None:
    """Write the token (and the assertion's ``jti``): True when written, None when the
    ``jti`` is used already (nothing written), False when the database failed while
    writing, which may or may not have committed."""
    try:
        if client.assertion is None:
            rows.insert(granted.token())
            return True
        return _record(db, client.assertion, granted, now=now, policy=policy) or None
    except DatabaseError:
        return False


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


def _record(db, verified, granted: grants.Grant, *, now: float, policy: conf.Policy) -> bool:
    """Write the assertion's ``jti`` and the token in one transaction; False, with
    nothing written, when the ``jti`` is used already."""
    # No cache look-up first: the cache only ever answers "used", and a used jti is
    # declined here anyway; the upsert below finds it without writing anything.
    client_id, jwt_id = verified.client.client_id, verified.jti
    jti_params = jti.insert_params(client_id, jwt_id, verified.exp, now, policy.leeway_seconds)
    recorded = _WRITERS[db.vendor](db, jti_params, _token_params(granted, now, db.vendor))
    if recorded:
        key = jti.cache_key(client_id, jwt_id)
        jti.remember_on_commit(key, verified.exp, now=now, policy=policy, db=db)
    return recorded


# The access-token row, written from the grant's values without a model instance. The
# columns are DOT's AccessToken's own; ``tests/clientauth/test_fastpath.py`` holds the
# values equal to what the model's fields prepare for the same token.
_TOKEN_ATTNAMES = frozenset(
    {
        "user_id",
        "source_refresh_token_id",
        "token",
        "token_checksum",
        "id_token_id",
        "application_id",
        "expires",
        "scope",
        "created",
        "updated",
        "resource",
    }
)


@functools.cache
def _token_fields() -> tuple[models.Field, ...] | None:
    """The token model's columns in INSERT order, or None when the model is not one
    whose row this module knows how to write."""
    model = get_access_token_model()
    fields = rows.fields(model)
    if model is not AccessToken or {f.attname for f in fields} != _TOKEN_ATTNAMES:
        return None
    return fields


def _token_params(granted: grants.Grant, now: float, vendor: str) -> tuple:
    stamp = rawsql.timestamp(now)
    raw = granted.raw_token
    values = {
        "user_id": None,
        "source_refresh_token_id": None,
        "id_token_id": None,
        "token": "" if oauth2_settings.COMPLIANT_BCP_RFC9700_TOKEN_STORAGE else raw,
        "token_checksum": hashlib.sha256(raw.encode()).hexdigest(),
        "application_id": granted.client.pk,
        "expires": rawsql.datetime_param(granted.expires),
        "scope": granted.scope,
        "created": stamp,
        "updated": stamp,
        "resource": _no_resource(vendor),
    }
    return tuple(values[f.attname] for f in _token_fields())


@functools.cache
def _no_resource(vendor: str):
    """The ``resource`` column's value for no RFC 8707 resource, as its field prepares it."""
    return AccessToken._meta.get_field("resource").get_db_prep_save([], connection)


@functools.cache
def _sql(vendor: str) -> dict[str, str]:
    q = connection.ops.quote_name
    meta = AccessToken._meta
    columns = ", ".join(q(f.column) for f in _token_fields())
    placeholders = ", ".join(["%s"] * len(_token_fields()))
    table = q(meta.db_table)
    return {
        "upsert": rawsql.statement(jti.upsert_sql()),
        "token": rawsql.statement(f"INSERT INTO {table} ({columns}) VALUES ({placeholders})"),
        # One statement: the token row exists only where the upsert returned its row.
        "both": rawsql.statement(
            f"WITH used AS ({jti.upsert_sql()}) "
            f"INSERT INTO {table} ({columns}) SELECT {placeholders} FROM used "
            f"RETURNING {q(meta.pk.column)}"
        ),
    }


def _write_sqlite(db, jti_params: list, token_params: tuple) -> bool:
    """BEGIN IMMEDIATE (a SAVEPOINT inside a transaction), the upsert, the token, COMMIT."""
    sql = _sql("sqlite")
    with rawsql.cursor(db) as cursor:
        nested = db.connection.in_transaction
        cursor.execute("SAVEPOINT fastpath" if nested else "BEGIN IMMEDIATE")
        try:
            cursor.execute(sql["upsert"], jti_params)
            recorded = bool(cursor.fetchall())
            if recorded:
                cursor.execute(sql["token"], token_params)
            cursor.execute("RELEASE fastpath" if nested else "COMMIT")
        except BaseException:
            with contextlib.suppress(Exception):
                cursor.execute("ROLLBACK TO fastpath" if nested else "ROLLBACK")
                if nested:
                    cursor.execute("RELEASE fastpath")
            raise
    return recorded


def _write_postgresql(db, jti_params: list, token_params: tuple) -> bool:
    """The upsert and the token in one statement: atomic without BEGIN and COMMIT."""
    with rawsql.cursor(db) as cursor:
        cursor.execute(_sql("postgresql")["both"], (*jti_params, *token_params))
        return cursor.fetchone() is not None


_WRITERS: dict[str, Callable[[object, list, tuple], bool]] = {
    "sqlite": _write_sqlite,
    "postgresql": _write_postgresql,
}


# Django's own request-cycle listeners: the database connections' and the caches'
# housekeeping, DEBUG's query log, and the per-request URLconf (which a direct answer
# never sets).
_HOUSEKEEPING = {
    "started": frozenset({reset_queries, close_old_connections}),
    "finished": frozenset({close_old_connections, close_caches, reset_urlconf}),
}


def _listeners(signal) -> set:
    found = set()
    for _, ref, _ in signal.receivers:
        found.add(ref() if isinstance(ref, weakref.ReferenceType) else ref)
    return found


def _quiet() -> bool:
    """Whether nobody but Django's own housekeeping listens to the request signals,
    and that housekeeping has nothing to do for a direct answer: the connection is
    checked by ``_connection(housekept=False)``; nothing is logged to ``queries``
    outside DEBUG (the direct path's statements bypass it anyway); and every cache's
    ``close`` is the base class's, which does nothing."""
    return (
        not settings.DEBUG
        and _listeners(signals.request_started) <= _HOUSEKEEPING["started"]
        and _listeners(signals.request_finished) <= _HOUSEKEEPING["finished"]
        and _caches_close_nothing()
    )


@functools.cache
def _caches_close_nothing() -> bool:
    """Whether every configured cache backend's ``close`` is the base class's no-op."""
    backends = (import_string(c["BACKEND"]) for c in settings.CACHES.values())
    return all(backend.close is BaseCache.close for backend in backends)


class _Body:
    """The direct answer's body, closed as Django closes a response: by sending
    ``request_finished`` (which closes or keeps the database connection)."""

    __slots__ = ("_chunks",)

    def __init__(self, body: bytes) -> None:
        self._chunks = (body,)

    def __iter__(self):
        return iter(self._chunks)

    def close(self) -> None:
        signals.request_finished.send(sender=DirectTokenHandler)


class DirectTokenHandler(WSGIHandler):
    """Django's WSGI handler with the direct path in front of ``POST`` to the token
    endpoint (the paths the URLconf sends to DOT's token view: ``clientauth.endpoints``).

    Every request, whichever path answers it, is one request to the request signals'
    listeners: ``request_started`` once before either path runs, ``request_finished``
    when the answer is closed. A request the direct path declines goes on through the
    full middleware stack, URL resolver and view, exactly as ``WSGIHandler`` serves it.

    One exception, where no listener can tell: when only Django's own housekeeping
    listens and has nothing to do for a direct answer (``_quiet``), a direct answer is
    sent without the two signals; a request it declines gets ``request_started`` before
    the full path, as any request does.
    """

    _announced = False

    def __call__(self, environ, start_response):
        if environ.get("REQUEST_METHOD") != "POST" or not is_token_path(
            environ.get("PATH_INFO", "")
        ):
            return super().__call__(environ, start_response)
        if not DirectTokenHandler._announced:
            DirectTokenHandler._announced = True
            announce()
        quiet = _quiet()
        if not quiet:
            self._start(environ)
        answer = serve(environ, housekept=not quiet)
        if answer is not None:
            start_response(answer.status, answer.headers)
            return [answer.body] if quiet else _Body(answer.body)
        if quiet:
            self._start(environ)
        return self._full_path(environ, start_response)

    def _start(self, environ) -> None:
        """``WSGIHandler.__call__`` up to ``request_started``."""
        set_script_prefix(get_script_name(environ))
        signals.request_started.send(sender=self.__class__, environ=environ)

    def _full_path(self, environ, start_response):
        """``WSGIHandler.__call__`` after ``request_started``, which was sent already."""
        request = self.request_class(environ)
        response = self.get_response(request)
        response._handler_class = self.__class__
        status = f"{response.status_code} {response.reason_phrase}"
        headers = [
            *response.items(),
            *(("Set-Cookie", c.OutputString()) for c in response.cookies.values()),
        ]
        start_response(status, headers)
        return response


def announce() -> None:
    """Log whether the direct path is active and, if it is not, why."""
    reason = unavailable_reason()
    if reason is None:
        log.info("direct token path active for client_credentials (PRIVATE_KEY_JWT['FAST_PATH'])")
    else:
        log.info("direct token path off: %s", reason)
