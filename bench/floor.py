"""The benchmark's reference: gunicorn answering a token request with a fixed answer.

``application`` reads the request body as the token endpoint does and answers 200 with
a fixed JSON body the size of a token response and the token endpoint's headers, and
does nothing else: no Django, no database, no cache. ``bench.run`` serves it with the
same ``gunicorn.conf.py``, workers and wrk load as the scenarios, so its CPU per
request is the floor of this deployment on this machine in this run: what accepting
the connection, parsing the request, answering and closing cost before any token
work. Scenarios are read against it; it moves with the machine as they do.
"""

from __future__ import annotations

import json

_BODY = json.dumps(
    {
        "access_token": "x" * 30,
        "expires_in": 36000,
        "token_type": "Bearer",
        "scope": "read write",
    }
).encode()
_HEADERS = [
    ("Content-Type", "application/json"),
    ("Cache-Control", "no-store"),
    ("Pragma", "no-cache"),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "same-origin"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
    ("Content-Length", str(len(_BODY))),
]


def application(environ, start_response):
    length = int(environ.get("CONTENT_LENGTH") or 0)
    environ["wsgi.input"].read(length)
    start_response("200 OK", _HEADERS)
    return [_BODY]
