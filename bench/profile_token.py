"""Profiles POST /oauth2/token in one process, through Django's WSGI handler.

``python -m bench.profile_token [--alg RS256] [--requests 3000] [--profiler pyinstrument|cprofile]``
migrates a fresh SQLite database (or uses DATABASE_URL / REDIS_URL when set), registers
one client of each kind, pre-signs assertions, times requests without a profiler (the
per-request CPU floor of the Django side, with no gunicorn and no socket), then runs
them again under the chosen profiler and prints the report. ``--method plain`` profiles
client_secret_basic with a plain secret instead. Production settings: DEBUG off,
the same middleware. Called by hand; the findings go to bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import base64
import io
import os
import secrets
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PORT = 8765


def _environ(body: bytes, authorization: str = "") -> dict:
    env = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/oauth2/token",
        "QUERY_STRING": "",
        "CONTENT_TYPE": "application/x-www-form-urlencoded",
        "CONTENT_LENGTH": str(len(body)),
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": str(PORT),
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": f"127.0.0.1:{PORT}",
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.input": io.BytesIO(body),
        "wsgi.url_scheme": "http",
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        "wsgi.version": (1, 0),
    }
    if authorization:
        env["HTTP_AUTHORIZATION"] = authorization
    return env


def _call(app, body: bytes, authorization: str) -> str:
    status = []
    result = app(_environ(body, authorization), lambda s, h, exc=None: status.append(s))
    b"".join(result)
    if hasattr(result, "close"):
        result.close()
    return status[0]


def prepare(method: str, alg: str, count: int) -> tuple[object, list[bytes], str]:
    """Django set up on a fresh database, one client, ``count`` request bodies."""
    tmp = Path(tempfile.mkdtemp(prefix="authserver-profile-"))
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{tmp / 'profile.sqlite3'}")
    os.environ.update(
        DJANGO_SETTINGS_MODULE="authserver.settings",
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_ALLOWED_HOSTS="127.0.0.1",
        AUTHSERVER_ISSUER=f"http://127.0.0.1:{PORT}",
    )
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    from bench import assertions
    from bench.setup_clients import register

    call_command("migrate", "--noinput", verbosity=0)
    client_id = f"profile-{method}-{secrets.token_hex(4)}"
    if method == "jwt":
        key = assertions.generate_key(alg)
        cert = tmp / "client.pem"
        cert.write_bytes(assertions.self_signed_pem(key, client_id))
        register([{"client_id": client_id, "name": client_id, "method": "private_key_jwt",
                   "alg": alg, "cert": str(cert)}])  # fmt: skip
        bodies_file = assertions.write_bodies(
            tmp / "bodies", key, alg, client_id, f"http://127.0.0.1:{PORT}/oauth2/token", count
        )
        bodies = [line.encode() for line in bodies_file.read_text().split()]
        authorization = ""
    else:
        secret = secrets.token_urlsafe(32)
        register([{"client_id": client_id, "name": client_id, "method": "client_secret_basic",
                   "secret": secret, "hashed": False}])  # fmt: skip
        bodies = [assertions.secret_body().encode()] * (count)
        authorization = "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()

    from authserver.wsgi import application

    return application, bodies, authorization


def print_statements(app, body: bytes, authorization: str) -> None:
    """The SQL one request runs, as the driver receives it. The token path runs its
    statements on the driver's cursor (``djangokit.rawsql``), which Django's query
    capture does not see, so this asks SQLite itself (PostgreSQL: see its log)."""
    from django.db import connection

    if connection.vendor != "sqlite":
        _call(app, body, authorization)
        print("--queries reads SQLite's trace; for PostgreSQL set log_statement = 'all'")
        return
    statements: list[str] = []
    connection.connection.set_trace_callback(statements.append)
    try:
        _call(app, body, authorization)
    finally:
        connection.connection.set_trace_callback(None)
    print(f"{len(statements)} statements in one request:")
    for sql in statements:
        print(f"  {sql[:160]}")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.profile_token")
    p.add_argument("--alg", default="RS256", choices=["RS256", "ES256", "EdDSA"])
    p.add_argument("--method", default="jwt", choices=["jwt", "plain"])
    p.add_argument("--requests", type=int, default=3000)
    p.add_argument("--profiler", default="pyinstrument", choices=["pyinstrument", "cprofile"])
    p.add_argument("--html", type=Path, help="also write pyinstrument's HTML report here")
    p.add_argument("--queries", action="store_true", help="print the SQL of one request")
    args = p.parse_args(argv)

    app, bodies, authorization = prepare(args.method, args.alg, 2 * args.requests)
    n = args.requests
    for body in bodies[:50]:  # warm-up: imports, connection, caches
        assert _call(app, body, authorization).startswith("200"), "warm-up request refused"
    if args.queries:
        print_statements(app, bodies[50], authorization)
    timed = bodies[51:n]
    cpu0, wall0 = time.process_time(), time.perf_counter()
    statuses = [_call(app, body, authorization) for body in timed]
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    bad = sum(1 for s in statuses if not s.startswith("200"))
    print(
        f"{args.method} {args.alg if args.method == 'jwt' else ''}: {len(timed)} requests, "
        f"{1000 * cpu / len(timed):.3f} ms CPU and {1000 * wall / len(timed):.3f} ms wall "
        f"per request in one process (no gunicorn), non-200: {bad}"
    )

    profiled = bodies[n:]
    if args.profiler == "cprofile":
        import cProfile
        import pstats

        prof = cProfile.Profile()
        prof.enable()
        for body in profiled:
            _call(app, body, authorization)
        prof.disable()
        pstats.Stats(prof).sort_stats("cumulative").print_stats(60)
        return 0

    from pyinstrument import Profiler

    profiler = Profiler(interval=0.0002)
    profiler.start()
    for body in profiled:
        _call(app, body, authorization)
    profiler.stop()
    print(profiler.output_text(unicode=True, color=False, show_all=False))
    if args.html:
        args.html.write_text(profiler.output_html())
    return 0


if __name__ == "__main__":
    sys.exit(main())
