"""The direct path's writes: the assertion's ``jti`` and the access-token row in one
transaction (on PostgreSQL, one statement), from DOT's ``AccessToken`` columns.

``tests/clientauth/test_fastpath.py`` holds the row equal to what the model's fields
prepare for the same token, and to the full path's row."""

from __future__ import annotations

import contextlib
import functools
import hashlib
from collections.abc import Callable

from django.db import DatabaseError, connection, models
from oauth2_provider.models import AccessToken, get_access_token_model
from oauth2_provider.settings import oauth2_settings

from clientauth import conf, jti
from clientauth.fastpath import grants
from djangokit import rawsql, rows


def write(db, client, granted: grants.Grant, *, now: float, policy: conf.Policy) -> bool | None:
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


def _record(db, verified, granted: grants.Grant, *, now: float, policy: conf.Policy) -> bool:
    """Write the assertion's ``jti`` and the token in one transaction; False, with
    nothing written, when the ``jti`` is used already."""
    # No cache look-up first: the cache only ever answers "used", and a used jti is
    # declined here anyway; the upsert below finds it without writing anything.
    client_id, jwt_id = verified.client.client_id, verified.jti
    jti_params = jti.insert_params(client_id, jwt_id, verified.exp, now, policy.leeway_seconds)
    recorded = WRITERS[db.vendor](db, jti_params, _token_params(granted, now, db.vendor))
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
def token_fields() -> tuple[models.Field, ...] | None:
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
    return tuple(values[f.attname] for f in token_fields())


@functools.cache
def _no_resource(vendor: str):
    """The ``resource`` column's value for no RFC 8707 resource, as its field prepares it."""
    return AccessToken._meta.get_field("resource").get_db_prep_save([], connection)


@functools.cache
def _sql(vendor: str) -> dict[str, str]:
    q = connection.ops.quote_name
    meta = AccessToken._meta
    columns = ", ".join(q(f.column) for f in token_fields())
    placeholders = ", ".join(["%s"] * len(token_fields()))
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


WRITERS: dict[str, Callable[[object, list, tuple], bool]] = {
    "sqlite": _write_sqlite,
    "postgresql": _write_postgresql,
}


# Django's own request-cycle listeners: the database connections' and the caches'
# housekeeping, DEBUG's query log, and the per-request URLconf (which a direct answer
