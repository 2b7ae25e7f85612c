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

import functools
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection


@functools.cache
def _qmark(vendor: str) -> bool:
    return vendor == "sqlite"


def statement(sql: str) -> str:
    """``sql`` in the placeholder style of the connection's driver."""
    return sql.replace("%s", "?") if _qmark(connection.vendor) else sql


def _driver_cursor(raw):
    if connection.vendor == "postgresql":
        import psycopg

        return psycopg.Cursor(raw)  # server-side binding: psycopg prepares repeated statements
    return raw.cursor()


@contextmanager
def cursor() -> Iterator:
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    with connection.wrap_database_errors:
        driver_cursor = _driver_cursor(connection.connection)
        try:
            yield driver_cursor
        finally:
            driver_cursor.close()
