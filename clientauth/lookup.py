"""The database side of client authentication: clients by ID, and their keys.

The verifier (``clientauth.assertion``) takes these as callables so it stays pure.
Keys come from the keystore through its one public function, so an import, replace or
delete in any process is seen by the next request here. Both lookups run on every
token request; the client is read with one hand-written SELECT on the driver's cursor
(``authserver.rawsql``) rather than a compiled queryset, whose construction costs ten
times the query.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Sequence
from typing import Any

from django.db import connection

from authserver import rawsql
from clientauth.assertion import ClientInfo, KeyLookup
from clientauth.conf import Policy
from clientauth.models import ServiceProvider
from keystore.services import set_key_cache_capacity, verification_keys


@functools.cache
def _client_query() -> tuple[str, list[str], list[tuple[int, list[Callable]]]]:
    """The SELECT of a whole ServiceProvider row, and the ORM's value converters of the
    columns that have any."""
    meta = ServiceProvider._meta
    q = connection.ops.quote_name
    fields = meta.concrete_fields
    sql = (
        f"SELECT {', '.join(q(f.column) for f in fields)} FROM {q(meta.db_table)} "
        f"WHERE {q(meta.get_field('client_id').column)} = %s"
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


def load_service_provider(client_id: str) -> ServiceProvider | None:
    sql, attnames, converters = _client_query()
    with rawsql.cursor() as cursor:
        cursor.execute(sql, (client_id,))
        row = cursor.fetchone()
    if row is None:
        return None
    values = list(row)
    for index, field_converters in converters:
        value = values[index]
        for convert in field_converters:
            value = convert(value, None, connection)
        values[index] = value
    return ServiceProvider.from_db(connection.alias, attnames, values)


def find_client(client_id: str) -> ClientInfo | None:
    if not client_id or len(client_id) > 255 or "\x00" in client_id:
        return None
    sp = load_service_provider(client_id)
    if sp is None:
        return None
    return ClientInfo(
        client_id=sp.client_id,
        auth_method=sp.token_endpoint_auth_method,
        signing_alg=sp.token_endpoint_auth_signing_alg,
        instance=sp,
    )


_capacity_in_force: int | None = None


def keys_at(now: float, policy: Policy) -> KeyLookup:
    """The key lookup for this request, with the keystore's parsed-key cache sized as
    CACHE_CAPACITY says (0, no cache, when CACHE_ENABLED is off)."""
    global _capacity_in_force
    capacity = policy.cache_capacity if policy.cache_enabled else 0
    if capacity != _capacity_in_force:
        set_key_cache_capacity(capacity)
        _capacity_in_force = capacity
    moment = dt.datetime.fromtimestamp(now, tz=dt.UTC)

    def find_keys(client: ClientInfo) -> Sequence[Any]:
        return verification_keys(client.client_id, moment)

    return find_keys
