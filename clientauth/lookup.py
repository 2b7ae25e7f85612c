"""The database side of client authentication: clients by ID, and their keys.

The verifier (``clientauth.assertion``) takes these as callables so it stays pure.
Both run on every token request, so an import, replace or delete of a certificate in
any process is seen by the next request here. ``Lookup`` reads the client and its
valid certificates in one hand-written SELECT on the driver's cursor
(``authserver.rawsql``), rather than compiled querysets, whose construction costs ten
times the query; the keystore turns the certificate rows into keys (``public_keys``),
parsing each certificate once per process.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Sequence
from typing import Any

from django.db import connection

from authserver import rawsql
from clientauth import rows
from clientauth.assertion import ClientInfo
from clientauth.conf import Policy
from clientauth.models import ServiceProvider
from keystore.models import Certificate
from keystore.services import (
    public_keys,
    set_key_cache_capacity,
    valid_at_condition,
    verification_keys,
)


@functools.cache
def _client_query() -> tuple[str, list[str], list[tuple[int, list[Callable]]]]:
    """The SELECT of a whole ServiceProvider row and, beside it, the id and thumbprint
    of its certificate valid at a given moment (NULLs without one), with the ORM's value
    converters of the columns that have any."""
    meta = ServiceProvider._meta
    q = connection.ops.quote_name
    fields = meta.concrete_fields
    cert_table = q(Certificate._meta.db_table)
    client_id_column = q(meta.get_field("client_id").column)
    sql = (
        f"SELECT {', '.join(f'sp.{q(f.column)}' for f in fields)}, c.{q('id')}, "
        f"c.{q('thumbprint_sha256')} FROM {q(meta.db_table)} sp "
        f"LEFT JOIN {cert_table} c ON c.{q('alias')} = sp.{client_id_column} "
        f"AND {valid_at_condition('c')} WHERE sp.{client_id_column} = %s"
    )
    converters = [
        (index, field_converters)
        for index, f in enumerate(fields)
        if (
            field_converters := connection.ops.get_db_converters(f.get_col(meta.db_table))
            + f.get_db_converters(connection)
        )
    ]
    return rawsql.statement(sql), [f.attname for f in fields], converters


def _service_provider(row: Sequence[Any], alias: str) -> ServiceProvider:
    _, attnames, converters = _client_query()
    values = list(row[: len(attnames)])
    for index, field_converters in converters:
        value = values[index]
        for convert in field_converters:
            value = convert(value, None, connection)
        values[index] = value
    return rows.from_row(ServiceProvider, attnames, values, alias)


def _select(client_id: str, moment: dt.datetime, db=None) -> tuple[ServiceProvider | None, list]:
    """The client and the (id, thumbprint) rows of its certificates valid at ``moment``."""
    sql, attnames, _ = _client_query()
    at = rawsql.datetime_param(moment)
    with rawsql.cursor(db) as cursor:
        cursor.execute(sql, (at, at, client_id))
        rows = cursor.fetchall()
    if not rows:
        return None, []
    width = len(attnames)
    certificates = [row[width:] for row in rows if row[width] is not None]
    return _service_provider(rows[0], connection.alias if db is None else db.alias), certificates


def load_service_provider(client_id: str) -> ServiceProvider | None:
    return _select(client_id, dt.datetime.now(dt.UTC))[0]


def _client_info(sp: ServiceProvider) -> ClientInfo:
    return ClientInfo(
        client_id=sp.client_id,
        auth_method=sp.token_endpoint_auth_method,
        signing_alg=sp.token_endpoint_auth_signing_alg,
        instance=sp,
    )


def _plausible(client_id: str) -> bool:
    return bool(client_id) and len(client_id) <= 255 and "\x00" not in client_id


def find_client(client_id: str) -> ClientInfo | None:
    if not _plausible(client_id):
        return None
    sp = load_service_provider(client_id)
    return None if sp is None else _client_info(sp)


_capacity_in_force: int | None = None


class Lookup:
    """The client and key lookups of one request at ``now``: one statement reads the
    client and its valid certificates together, and ``find_keys`` uses what it read.
    The keystore's parsed-key cache is sized as CACHE_CAPACITY says (0, no cache, when
    CACHE_ENABLED is off). ``db``: the connection's wrapper, when the caller holds it."""

    __slots__ = ("_certificates", "_db", "_moment")

    def __init__(self, now: float, policy: Policy, db=None) -> None:
        global _capacity_in_force
        capacity = policy.cache_capacity if policy.cache_enabled else 0
        if capacity != _capacity_in_force:
            set_key_cache_capacity(capacity)
            _capacity_in_force = capacity
        self._moment = dt.datetime.fromtimestamp(now, tz=dt.UTC)
        self._certificates: dict[str, list] = {}
        self._db = db

    def find_client(self, client_id: str) -> ClientInfo | None:
        if not _plausible(client_id):
            return None
        sp, certificates = _select(client_id, self._moment, self._db)
        if sp is None:
            return None
        self._certificates[sp.client_id] = certificates
        return _client_info(sp)

    def find_keys(self, client: ClientInfo) -> Sequence[Any]:
        certificates = self._certificates.pop(client.client_id, None)
        if certificates is None:
            return verification_keys(client.client_id, self._moment)
        return public_keys(certificates)
