"""Gunicorn settings for running the authorization server in production.

``gunicorn -c gunicorn.conf.py authserver.wsgi`` serves the Django project with
threaded workers (``gthread``), one process per core plus one. In each, one thread runs
Django, one request at a time, as a sync worker would: the token path is CPU-bound
(signature checks) with short database writes, so more concurrent requests than cores
only add context switches, turns on Python's GIL and database connections. The other
threads deal with the clients: they read each request whole, body included, hand it
to Django's thread, and write the answer, so a client that is slow to send (or to
read) holds one of them, never Django's. ``bench/run.py`` starts the server with this
same file, so the published figures describe what operators run. Each value can be
overridden from the environment (names below) or on the gunicorn command line.

Slow clients. A gthread worker waits for a new connection's first byte in a thread (up
to gunicorn's fixed 5 s, then parks it in its poller), and from the first byte on, the
thread reads the request line, the headers and the body with no time limit of
gunicorn's own; its ``timeout`` only restarts a worker whose main loop hangs. The hooks
at the end of this file bound that (gthread only):

- the whole request, headers and body, must arrive within ``GUNICORN_READ_TIMEOUT``
  seconds of a thread taking the connection, or the connection is cut (a request whose
  body is late is answered 408 first);
- the body (``Content-Length``) is read into memory before Django sees the request, so
  Django never waits on the client nor sees half a body; one over
  ``GUNICORN_MAX_BODY_BYTES`` is answered 413 unread;
- Django runs on its own thread (``GUNICORN_APP_THREADS``), and a request that keeps it
  longer than ``timeout`` restarts the worker, as it would a sync worker.

So a slow client costs a thread for at most ``GUNICORN_READ_TIMEOUT`` seconds, and a
host keeps answering while fewer than ``WEB_CONCURRENCY x GUNICORN_THREADS`` clients
are slow at once; more than that, and requests queue behind them (docs/operations.md,
"Slow clients", gives the limits and the reverse proxy that lifts them).
``GUNICORN_WORKER_CLASS=sync`` restores one request per process, without these bounds.

Not set here: TLS (terminate it in the reverse proxy in front) and Django's own
configuration (``DJANGO_*``, ``DATABASE_URL``, ``REDIS_URL``; see the README).
"""

from __future__ import annotations

import contextlib
import io
import multiprocessing
import os
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from gunicorn import util
from gunicorn.workers.gthread import ThreadWorker

# GUNICORN_BIND: where to listen; behind a reverse proxy keep it on loopback.
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")

# WEB_CONCURRENCY (gunicorn's own name): worker processes; default one per core plus one,
# so a worker waiting on the database or the client never leaves a core idle.
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() + 1))

# GUNICORN_WORKER_CLASS: gthread (above); sync is one request per process.
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "gthread")

# GUNICORN_THREADS: threads per worker for the clients: how many slow ones a worker
# absorbs while it keeps answering others. gunicorn turns sync into gthread when
# threads > 1, so sync defaults to one.
threads = int(os.environ.get("GUNICORN_THREADS", "32" if worker_class == "gthread" else "1"))

# GUNICORN_APP_THREADS: threads per worker that run Django, each with its own database
# connection (gthread).
APP_THREADS = int(os.environ.get("GUNICORN_APP_THREADS", "1"))

# GUNICORN_READ_TIMEOUT: seconds for a whole request (headers and body) to arrive.
READ_TIMEOUT = float(os.environ.get("GUNICORN_READ_TIMEOUT", "10"))

# GUNICORN_MAX_BODY_BYTES: the largest body read; Django's own default form limit.
MAX_BODY_BYTES = int(os.environ.get("GUNICORN_MAX_BODY_BYTES", str(2_621_440)))

# Load Django once in the master: workers fork with the code already imported, start
# at once and share those pages. Database connections are opened lazily per worker.
preload_app = True

# A worker whose request runs in Django for longer is restarted (the gthread hooks
# below do it; gunicorn's own check only sees a hung main loop there).
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


# --- slow clients (gthread) -----------------------------------------------------------


@dataclass
class _Read:
    """A request being read by one thread: its socket, when it is due, whether it was cut."""

    sock: socket.socket
    deadline: float
    expired: bool = False


class _ReadDeadlines:
    """The requests a worker's threads are reading, by thread. ``cut_overdue`` shuts the
    reading side of an overdue one (``SHUT_RD``): the blocked read returns end of file,
    so the thread gives the connection up, and the socket can still carry a 408.
    Entries leave under the lock, so no socket is cut once its request has been read,
    or after gunicorn closed it."""

    def __init__(self, timeout: float) -> None:
        self._timeout = timeout
        self._lock = threading.Lock()
        self._reading: dict[int, _Read] = {}

    def start(self, sock: socket.socket) -> None:
        read = _Read(sock, time.monotonic() + self._timeout)
        with self._lock:
            self._reading[threading.get_ident()] = read

    def current(self) -> _Read | None:
        with self._lock:
            return self._reading.get(threading.get_ident())

    def done(self) -> _Read | None:
        with self._lock:
            return self._reading.pop(threading.get_ident(), None)

    def cut_overdue(self, now: float) -> None:
        with self._lock:
            for read in self._reading.values():
                if not read.expired and read.deadline <= now:
                    read.expired = True
                    with contextlib.suppress(OSError):
                        read.sock.shutdown(socket.SHUT_RD)


class _DjangoThreads:
    """The WSGI application, called on the worker's own ``APP_THREADS`` threads: each
    call runs there whole (the application, its answer's body, its ``close()``, which
    ends Django's request), so Django's per-thread state, its database connection
    first, lives on those threads alone. The client's thread waits, then writes."""

    def __init__(self, application, threads: int) -> None:
        self._application = application
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="django")
        self._lock = threading.Lock()
        self._started: dict[int, float] = {}

    def __call__(self, environ, start_response):
        return self._pool.submit(self._run, environ, start_response).result()

    def _run(self, environ, start_response) -> list[bytes]:
        with self._lock:
            self._started[threading.get_ident()] = time.monotonic()
        try:
            answer = self._application(environ, start_response)
            try:
                return [b"".join(answer)]
            finally:
                if hasattr(answer, "close"):
                    answer.close()
        finally:
            with self._lock:
                del self._started[threading.get_ident()]

    def longest_run(self, now: float) -> float:
        with self._lock:
            return max((now - started for started in self._started.values()), default=0.0)


def _watch(worker, deadlines: _ReadDeadlines, django: _DjangoThreads) -> None:
    """Cut overdue requests; exit the worker when Django has run one request for longer
    than ``timeout``, so that the arbiter starts a fresh one, as with a sync worker."""
    while True:
        time.sleep(max(0.05, min(0.25, READ_TIMEOUT / 4)))
        now = time.monotonic()
        deadlines.cut_overdue(now)
        if worker.cfg.timeout and django.longest_run(now) > worker.cfg.timeout:
            worker.log.critical(
                "a request has run in Django for over %ss; restarting the worker",
                worker.cfg.timeout,
            )
            os._exit(1)


def post_worker_init(worker):
    """Put every gthread request's reading under ``READ_TIMEOUT``, and Django on its
    own threads."""
    if not isinstance(worker, ThreadWorker):
        return
    deadlines = _ReadDeadlines(READ_TIMEOUT)
    django = _DjangoThreads(worker.wsgi, APP_THREADS)
    handle = worker.handle

    def handle_within_deadline(conn):
        deadlines.start(conn.sock)
        try:
            return handle(conn)
        finally:
            read = deadlines.done()
            if read is not None and read.expired:
                worker.log.info(
                    "%s: request not received within %gs; connection closed",
                    conn.client,
                    READ_TIMEOUT,
                )

    worker.handle = handle_within_deadline
    worker.wsgi = django
    worker.read_deadlines = deadlines
    threading.Thread(target=_watch, args=(worker, deadlines, django), daemon=True).start()


def pre_request(worker, req):
    """Read the body into memory before the application runs (gthread), within the
    request's deadline; answer 413 to one over ``MAX_BODY_BYTES`` and 408 to one that
    is late, and close. A chunked body is left to gunicorn: Django reads no body without
    ``Content-Length``, and gunicorn drains what is left within its own bound."""
    worker.log.debug("%s %s", req.method, req.path)
    deadlines = getattr(worker, "read_deadlines", None)
    read = deadlines.current() if deadlines is not None else None
    if read is None:
        return
    length = next((int(value) for name, value in req.headers if name == "CONTENT-LENGTH"), 0)
    if length > MAX_BODY_BYTES:
        deadlines.done()
        _refuse(worker, req, read.sock, 413, "Content Too Large", "the request body is too large")
    if length:
        if getattr(req, "_expected_100_continue", False):
            # gunicorn sends it only once the application runs: the client waits for it.
            read.sock.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
            req._expected_100_continue = False
        body = req.body.read(length)
        if len(body) < length:
            if deadlines.done().expired:
                message = f"the request body did not arrive within {READ_TIMEOUT:g}s"
                _refuse(worker, req, read.sock, 408, "Request Timeout", message)
            raise StopIteration("the client closed the connection before sending its body")
        req.body = io.BytesIO(body)
    deadlines.done()


def _refuse(worker, req, sock: socket.socket, status: int, reason: str, message: str):
    """Answer ``status`` without calling the application, then make gunicorn close."""
    worker.log.info(
        "%s: %s %s: %s; answered %d", req.peer_addr, req.method, req.path, message, status
    )
    with contextlib.suppress(OSError):
        util.write_error(sock, status, reason, message)
    raise StopIteration(message)
