"""Gunicorn settings for running the authorization server in production.

``gunicorn -c gunicorn.conf.py authserver.wsgi`` serves the Django project with sync
workers, one request per worker at a time: the token path is CPU-bound (signature
checks) with short database writes, so more workers than cores only adds context
switches and memory. ``bench/run.py`` starts the server with this same file, so the
published figures describe what operators run. Each value can be overridden from the
environment (names below) or on the gunicorn command line.

Not set here: TLS (terminate it in the reverse proxy in front) and Django's own
configuration (``DJANGO_*``, ``DATABASE_URL``, ``REDIS_URL``; see the README).
"""

from __future__ import annotations

import multiprocessing
import os

# GUNICORN_BIND: where to listen; behind a reverse proxy keep it on loopback.
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")

# WEB_CONCURRENCY (gunicorn's own name): worker processes; default one per core plus one,
# so a worker waiting on the database or the client never leaves a core idle.
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() + 1))

worker_class = "sync"

# Load Django once in the master: workers fork with the code already imported, start
# at once and share those pages. Database connections are opened lazily per worker.
preload_app = True

# A slow client may hold a sync worker; a reverse proxy buffering requests avoids it.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 30

# A deep accept queue lets bursts wait in the kernel instead of being refused.
backlog = 2048

# Access logs cost CPU on every request and the reverse proxy logs requests anyway.
# Set GUNICORN_ACCESS_LOG=- to log them to stdout.
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")

# Recycling workers bounds the damage of a leak; off by default because the leak
# check (bench/run.py --leak) shows none. GUNICORN_MAX_REQUESTS=0 keeps them forever.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "0"))
max_requests_jitter = max_requests // 10

# gunicorn's control socket defaults to one path per user, which every server on the
# host would share; it is off unless GUNICORN_CONTROL_SOCKET names this instance's own.
if os.environ.get("GUNICORN_CONTROL_SOCKET"):
    control_socket = os.environ["GUNICORN_CONTROL_SOCKET"]
else:
    control_socket_disable = True
