"""The statements of the token path, run on the driver's own cursor of Django's connection.

A one-row SELECT costs SQLite a few microseconds; Django's cursor wrapper around it
(placeholder rewriting, the execute wrappers, one wrapper object per cursor) costs
several times that, on every statement of every token request. ``cursor()`` hands out
the DB-API cursor of the same connection, with what the wrapper does that matters
kept: Django's connection health check first, and driver errors turned into
``django.db.DatabaseError`` (which also marks the connection to be checked before the
next request uses it). On PostgreSQL the cursor binds parameters on the server, so
psycopg prepares a statement that a connection runs repeatedly.

SQL is written with ``%s`` placeholders and no literal ``%``; ``statement()`` rewrites
it once for drivers with another style. Used by ``clientauth.lookup``,
``keystore.services.verification_keys`` and ``clientauth.fastpath``; never with SQL
built from request values (every value is a parameter).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection, connections


@functools.cache
def _qmark(vendor: str) -> bool:
    return vendor == "sqlite"


def statement(sql: str) -> str:
    """``sql`` in the placeholder style of the connection's driver."""
    return sql.replace("%s", "?") if _qmark(connection.vendor) else sql


def timestamp(seconds: float):
    """The parameter for a DateTimeField column holding the instant ``seconds`` (a Unix
    time), as ``connection.ops.adapt_datetimefield_value`` would give it for the aware
    UTC datetime (USE_TZ): the datetime itself for PostgreSQL; for SQLite, the naive UTC
    text Django stores."""
    moment = dt.datetime.fromtimestamp(seconds, tz=dt.UTC)
    if connection.vendor == "sqlite" and settings.USE_TZ:
        return str(moment.replace(tzinfo=None))
    return connection.ops.adapt_datetimefield_value(moment)


def _driver_cursor(db):
    if db.vendor != "postgresql":
        return db.connection.cursor()
    import psycopg

    raw = db.connection
    if raw.prepare_threshold is None and "prepare_threshold" not in db.settings_dict["OPTIONS"]:
        # Django leaves psycopg's prepared statements off unless OPTIONS asks; its own
        # cursors bind on the client and never prepare either way. These statements
        # run on every request, and planning them costs PostgreSQL more than running
        # them, so this cursor's are prepared on first use. An explicit
        # OPTIONS["prepare_threshold"] (None for PgBouncer in transaction mode) wins.
        raw.prepare_threshold = 0
    return psycopg.Cursor(raw)


@contextmanager
def cursor() -> Iterator:
    db = connections[DEFAULT_DB_ALIAS]
    db.close_if_health_check_failed()
    db.ensure_connection()
    with db.wrap_database_errors:
        driver_cursor = _driver_cursor(db)
        try:
            yield driver_cursor
        finally:
            driver_cursor.close()
