"""WSGI entry point (``gunicorn -c gunicorn.conf.py authserver.wsgi``).

The OAuth endpoints that clients call on every API request (token, introspection,
revocation) are served by a Django handler with only the security middleware: they
use no session, no login, no CSRF token and no messages, and the full stack would be
a sixth of their cost. A successful client_credentials request at the token endpoint
is answered before that, by ``clientauth.fastpath``, which declines everything else to
this handler. Every other path, the console and the login page included, goes
through the full ``settings.MIDDLEWARE``.
"""

from __future__ import annotations

import os

from django.core.handlers.exception import convert_exception_to_response
from django.core.handlers.wsgi import WSGIHandler
from django.core.wsgi import get_wsgi_application
from django.utils.module_loading import import_string

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "authserver.settings")

CLIENT_API_PATHS = frozenset(
    {"/oauth2/token", "/oauth2/token/", "/oauth2/introspect", "/oauth2/revoke"}
)
CLIENT_API_MIDDLEWARE = ("django.middleware.security.SecurityMiddleware",)


class ClientApiHandler(WSGIHandler):
    """Django's WSGI handler with ``CLIENT_API_MIDDLEWARE`` instead of the full stack."""

    def load_middleware(self, is_async: bool = False) -> None:
        self._view_middleware = []
        self._template_response_middleware = []
        self._exception_middleware = []
        handler = convert_exception_to_response(self._get_response)
        for path in reversed(CLIENT_API_MIDDLEWARE):
            instance = import_string(path)(handler)
            if hasattr(instance, "process_view"):
                self._view_middleware.insert(0, instance.process_view)
            if hasattr(instance, "process_exception"):
                self._exception_middleware.append(instance.process_exception)
            handler = convert_exception_to_response(instance)
        self._middleware_chain = handler


site = get_wsgi_application()
from clientauth import fastpath  # noqa: E402  (needs the apps that get_wsgi_application set up)

client_api = ClientApiHandler()


def application(environ, start_response):
    if environ.get("REQUEST_METHOD") == "POST" and environ.get("PATH_INFO") in CLIENT_API_PATHS:
        if environ["PATH_INFO"] in fastpath.PATHS:
            answer = fastpath.serve(environ)
            if answer is not None:
                start_response(answer.status, answer.headers)
                return [answer.body]
        return client_api(environ, start_response)
    return site(environ, start_response)
