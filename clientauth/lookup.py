"""The database side of client authentication: clients by ID, and their keys.

A client is a row of DOT's application model (whichever the project uses) with its
``ClientMetadata`` row, when it has one.

The verifier (``clientauth.assertion``) takes these as callables so it stays pure.
Both run on every token request, so an import, replace or delete of a certificate in
any process is seen by the next request here. ``Lookup`` reads the client and its
valid certificates in one hand-written SELECT on the driver's cursor
(``djangokit.rawsql``), rather than compiled querysets, whose construction costs ten
times the query; the keystore turns the certificate rows into keys (``public_keys``),
parsing each certificate once per process. A client whose key source is a JWK Set
(``ClientMetadata.key_source``) gets its keys from ``clientauth.jwks_cache`` instead,
never its certificate's; ``fetch=False`` (the direct token path) never fetches a
``jwks_uri``.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Sequence
from typing import Any

from django.db import connection
from oauth2_provider.models import get_application_model

from clientauth import clients, jwks_cache
from clientauth.assertion import ClientInfo, plausible_client_id
from clientauth.conf import Policy
from clientauth.models import ClientMetadata
from djangokit import rawsql, rows
from keystore.models import Certificate
from keystore.services import (
    public_keys,
    set_key_cache_capacity,
    valid_at_condition,
    verification_keys,
)

# The metadata columns read beside the application's, in this order: all of them, so
# nothing asked of a client later costs another query.
_METADATA_FIELDS = tuple(
    f.attname for f in ClientMetadata._meta.concrete_fields if not f.primary_key
)


@functools.cache
def _application_model():
    return get_application_model()


@functools.cache
def _client_query() -> tuple[str, list[str], list[tuple[int, list[Callable]]]]:
    """The SELECT of a whole application row (DOT's application model, whichever it
    is), its ``ClientMetadata`` columns (NULLs without a row) and the id and thumbprint
    of its certificate valid at a given moment (NULLs without one), with the ORM's value
    converters of the application's columns that have any."""
    meta = _application_model()._meta
    q = connection.ops.quote_name
    fields = meta.concrete_fields
    cert_table = q(Certificate._meta.db_table)
    client_id_column = q(meta.get_field("client_id").column)
    md_meta = ClientMetadata._meta
    md_columns = [q(md_meta.get_field(name).column) for name in _METADATA_FIELDS]
    md_key = q(md_meta.pk.column)
    sql = (
        f"SELECT {', '.join(f'sp.{q(f.column)}' for f in fields)}, "
        f"{', '.join(f'md.{c}' for c in md_columns)}, md.{md_key}, c.{q('id')}, "
        f"c.{q('thumbprint_sha256')} FROM {q(meta.db_table)} sp "
        f"LEFT JOIN {q(md_meta.db_table)} md ON md.{md_key} = sp.{q(meta.pk.column)} "
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


def _application(row: Sequence[Any], alias: str):
    """The application instance of a row, with its metadata row attached."""
    _, attnames, converters = _client_query()
    width = len(attnames)
    values = list(row[:width])
    for index, field_converters in converters:
        value = values[index]
        for convert in field_converters:
            value = convert(value, None, connection)
        values[index] = value
    application = rows.from_row(_application_model(), attnames, values, alias)
    *md_values, md_key = row[width : width + len(_METADATA_FIELDS) + 1]
    metadata = None
    if md_key is not None:
        metadata = rows.from_row(
            ClientMetadata, ["application_id", *_METADATA_FIELDS], [md_key, *md_values], alias
        )
    clients.attach(application, metadata)
    return application


def _select(client_id: str, moment: dt.datetime, db=None) -> tuple[Any, list]:
    """The application and the (id, thumbprint) rows of its certificates valid at ``moment``."""
    sql, attnames, _ = _client_query()
    at = rawsql.datetime_param(moment)
    with rawsql.cursor(db) as cursor:
        cursor.execute(sql, (at, at, client_id))
        rows = cursor.fetchall()
    if not rows:
        return None, []
    width = len(attnames) + len(_METADATA_FIELDS) + 1
    certificates = [row[width:] for row in rows if row[width] is not None]
    return _application(rows[0], connection.alias if db is None else db.alias), certificates


def load_service_provider(client_id: str):
    return _select(client_id, dt.datetime.now(dt.UTC))[0]


def _client_info(application) -> ClientInfo:
    return ClientInfo(
        client_id=application.client_id,
        auth_method=clients.auth_method_of(application),
        signing_alg=clients.signing_alg_of(application),
        instance=application,
    )


def find_client(client_id: str) -> ClientInfo | None:
    if not plausible_client_id(client_id):
        return None
    sp = load_service_provider(client_id)
    return None if sp is None else _client_info(sp)


_capacity_in_force: int | None = None


class Lookup:
    """The client and key lookups of one request at ``now``: one statement reads the
    client and its valid certificates together, and ``find_keys`` uses what it read.
    The keystore's parsed-key cache is sized as CACHE_CAPACITY says (0, no cache, when
    CACHE_ENABLED is off). ``db``: the connection's wrapper, when the caller holds it."""

    __slots__ = ("_certificates", "_db", "_fetch", "_moment", "_now", "_policy")

    def __init__(self, now: float, policy: Policy, db=None, *, fetch: bool = True) -> None:
        global _capacity_in_force
        capacity = policy.cache_capacity if policy.cache_enabled else 0
        if capacity != _capacity_in_force:
            set_key_cache_capacity(capacity)
            _capacity_in_force = capacity
        self._moment = dt.datetime.fromtimestamp(now, tz=dt.UTC)
        self._certificates: dict[str, list] = {}
        self._db = db
        self._now = now
        self._policy = policy
        self._fetch = fetch

    def find_client(self, client_id: str) -> ClientInfo | None:
        if not plausible_client_id(client_id):
            return None
        sp, certificates = _select(client_id, self._moment, self._db)
        if sp is None:
            return None
        self._certificates[sp.client_id] = certificates
        return _client_info(sp)

    def find_keys(self, client: ClientInfo, kid: object = None) -> Sequence[Any]:
        """The client's keys: its certificates' public keys, or the ``JwkKey`` entries of
        its JWK Set (``kid``, the header's, decides whether a ``jwks_uri`` is fetched
        again)."""
        metadata = clients.metadata_of(client.instance) if client.instance is not None else None
        if metadata is not None and metadata.key_source != ClientMetadata.KEY_SOURCE_CERTIFICATE:
            self._certificates.pop(client.client_id, None)
            if metadata.key_source == ClientMetadata.KEY_SOURCE_JWKS:
                return jwks_cache.inline_keys(metadata.application_id, metadata.jwks_sha256)
            return jwks_cache.uri_keys(
                client.client_id,
                metadata.jwks_uri,
                kid,
                now=self._now,
                policy=self._policy,
                fetch=self._fetch,
            )
        certificates = self._certificates.pop(client.client_id, None)
        if certificates is None:
            return verification_keys(client.client_id, self._moment)
        return public_keys(certificates)
