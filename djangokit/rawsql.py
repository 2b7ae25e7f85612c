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
from django.core.signals import setting_changed
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.dispatch import receiver


@functools.cache
def _qmark(vendor: str) -> bool:
    return vendor == "sqlite"


def statement(sql: str) -> str:
    """``sql`` in the placeholder style of the connection's driver."""
    return sql.replace("%s", "?") if _qmark(connection.vendor) else sql


# How a DateTimeField's parameter is made, fixed per settings: "utc_text", the naive UTC
# text Django's SQLite backend stores under USE_TZ with the connection in UTC; "as_is",
# the aware datetime, which psycopg adapts (PostgreSQL's backend returns it unchanged);
# "ops", the backend's own adapt_datetimefield_value for anything else.
@functools.cache
def _datetime_style() -> str:
    if connection.vendor == "postgresql":
        return "as_is"
    if (
        connection.vendor == "sqlite"
        and settings.USE_TZ
        and connection.settings_dict.get("TIME_ZONE") in (None, "UTC")
    ):
        return "utc_text"
    return "ops"


@receiver(setting_changed)
def _reset(*, setting: str, **kwargs) -> None:
    if setting in ("USE_TZ", "DATABASES"):
        _datetime_style.cache_clear()


def datetime_param(moment: dt.datetime):
    """The parameter for a DateTimeField column holding ``moment``, equal to what
    ``connection.ops.adapt_datetimefield_value`` gives for it, at a fraction of the
    cost: it runs for several values of every token request."""
    style = _datetime_style()
    if style == "utc_text":
        if moment.utcoffset() is not None:
            moment = moment.astimezone(dt.UTC).replace(tzinfo=None)
        return str(moment)
    if style == "as_is":
        return moment
    return connection.ops.adapt_datetimefield_value(moment)


def timestamp(seconds: float):
    """``datetime_param`` of the instant ``seconds`` (a Unix time), as an aware UTC datetime."""
    return datetime_param(dt.datetime.fromtimestamp(seconds, tz=dt.UTC))


def _driver_cursor(db):
    """A new cursor (SQLite), or this connection's one PostgreSQL cursor, made once."""
    if db.vendor != "postgresql":
        return db.connection.cursor()
    raw = db.connection
    kept = db.__dict__.get("_rawsql_cursor")
    if kept is not None and kept.connection is raw:
        return kept
    db._rawsql_cursor = _postgresql_cursor(db)
    return db._rawsql_cursor


def _postgresql_cursor(db):
    import psycopg
    from psycopg.types.datetime import TimestamptzLoader

    raw = db.connection
    if raw.prepare_threshold is None and "prepare_threshold" not in db.settings_dict["OPTIONS"]:
        # Django leaves psycopg's prepared statements off unless OPTIONS asks; its own
        # cursors bind on the client and never prepare either way. These statements
        # run on every request, and planning them costs PostgreSQL more than running
        # them, so this cursor's are prepared on first use. An explicit
        # OPTIONS["prepare_threshold"] (None for PgBouncer in transaction mode) wins.
        raw.prepare_threshold = 0
    cursor = psycopg.Cursor(raw)
    if settings.USE_TZ:
        # Django loads timestamptz with a Python subclass of psycopg's loader that
        # sets the connection's time zone, which the session already has under
        # USE_TZ (Django sets it on connect). psycopg's own loader, in C, gives the
        # same values at a third of the cost.
        cursor.adapters.register_loader("timestamptz", TimestamptzLoader)
    return cursor


@contextmanager
def cursor(db=None) -> Iterator:
    """The driver's cursor of Django's connection, with Django's health check first and
    its error translation around. A PostgreSQL cursor is kept for the connection's
    life (statements run one at a time, each fetched before the next); a SQLite one
    is closed after use. ``db``: the default connection's wrapper, when the caller holds
    it already (looking it up costs more than a SQLite statement)."""
    if db is None:
        db = connections[DEFAULT_DB_ALIAS]
    db.close_if_health_check_failed()
    db.ensure_connection()
    with db.wrap_database_errors:
        driver_cursor = _driver_cursor(db)
        try:
            yield driver_cursor
        finally:
            if db.vendor != "postgresql":
                driver_cursor.close()
