"""The WSGI handler that puts the direct path in front of Django's, and keeps Django's
request cycle (``clientauth.fastpath`` says how)."""

from __future__ import annotations

import functools
import logging
import weakref

from django.conf import settings
from django.core import signals
from django.core.cache import close_caches
from django.core.cache.backends.base import BaseCache
from django.core.handlers.base import reset_urlconf
from django.core.handlers.wsgi import WSGIHandler, get_script_name
from django.core.signals import setting_changed
from django.db import close_old_connections, reset_queries
from django.dispatch import receiver
from django.urls import set_script_prefix
from django.utils.module_loading import import_string

from clientauth.endpoints import is_token_path
from clientauth.fastpath import path

log = logging.getLogger("clientauth.fastpath")

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


@receiver(setting_changed)
def _reset(**kwargs) -> None:
    _caches_close_nothing.cache_clear()


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
        answer = path.serve(environ, housekept=not quiet)
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
    reason = path.unavailable_reason()
    if reason is None:
        log.info("direct token path active for client_credentials (PRIVATE_KEY_JWT['FAST_PATH'])")
    else:
        log.info("direct token path off: %s", reason)
