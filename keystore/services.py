"""The keystore's model layer: import, look up, export and delete certificates by alias,
and hand out the public keys that verify a client's signatures.

The management commands and the console call the first group; client authentication
calls ``verification_keys`` on every token request. That function asks the database
each time which certificates an alias has (one indexed query for ids and thumbprints),
so an import, replace or delete made by any server process takes effect at once; it
parses a PEM only the first time this process meets a thumbprint, keeping the parsed
keys in a bounded, process-local LRU. Nothing here knows about OAuth: an alias is a name.
"""

from __future__ import annotations

import datetime as dt
import functools
import threading
from collections import OrderedDict

from cryptography import x509
from django.db import IntegrityError, connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from djangokit import rawsql
from keystore import errors, owners
from keystore.models import Certificate
from keystore.parsing import parse_certificate

DEFAULT_KEY_CACHE_CAPACITY = 5000
MAX_ALIAS_CHARS = 255  # Certificate.alias column width


def import_certificate(
    alias: str,
    data: bytes,
    *,
    password: str | None = None,
    keystore_alias: str | None = None,
    replace: bool = False,
    owner_required: bool = False,
    now: dt.datetime | None = None,
) -> Certificate:
    """Parse ``data`` and store its certificate under ``alias``: all of the row, or nothing.

    Raises ``AliasExists`` when the alias has a certificate and ``replace`` is false,
    ``UnknownOwner`` when ``owner_required`` and the alias names no one
    (``keystore.owners``), and whatever ``parse_certificate`` raises for the file.
    """
    _check_alias(alias)
    if owner_required and not owners.is_known(alias):
        raise errors.UnknownOwner(f"alias {alias!r} is not a registered client ID")
    parsed = parse_certificate(
        data, password=password, keystore_alias=keystore_alias, now=now or timezone.now()
    )
    facts = {
        "pem": parsed.pem,
        "subject": parsed.subject,
        "issuer": parsed.issuer,
        "serial": parsed.serial,
        "not_before": parsed.not_before,
        "not_after": parsed.not_after,
        "thumbprint_sha256": parsed.thumbprint_sha256,
        "key_type": parsed.key_type,
        "key_size": parsed.key_size,
    }
    try:
        with transaction.atomic():
            if replace:
                certificate, _ = Certificate.objects.update_or_create(alias=alias, defaults=facts)
            else:
                # The unique alias decides a race between two importers, not a prior lookup.
                certificate = Certificate.objects.create(alias=alias, **facts)
    except IntegrityError:
        raise errors.AliasExists(f"alias {alias!r} already has a certificate") from None
    return certificate


def aliases_with_thumbprint(thumbprint: str, *, besides: str = "") -> list[str]:
    """The other aliases holding the certificate with this SHA-256 thumbprint: one key
    shared by several clients lets its holder authenticate as each of them."""
    rows = Certificate.objects.filter(thumbprint_sha256=thumbprint).exclude(alias=besides)
    return list(rows.order_by("alias").values_list("alias", flat=True))


def get_certificate(alias: str) -> Certificate:
    try:
        return Certificate.objects.get(alias=alias)
    except Certificate.DoesNotExist:
        raise errors.UnknownAlias(f"no certificate under alias {alias[:255]!r}") from None


def has_certificate(alias: str) -> bool:
    return Certificate.objects.filter(alias=alias).exists()


def list_certificates() -> QuerySet[Certificate]:
    return Certificate.objects.all()


def export_pem(alias: str) -> str:
    return get_certificate(alias).pem


def delete_certificate(alias: str) -> None:
    deleted, _ = Certificate.objects.filter(alias=alias).delete()
    if not deleted:
        raise errors.UnknownAlias(f"no certificate under alias {alias[:255]!r}")


def _check_alias(alias: str) -> None:
    if not isinstance(alias, str) or not alias.strip():
        raise errors.InvalidAlias("the alias is empty")
    if len(alias) > MAX_ALIAS_CHARS:
        raise errors.InvalidAlias(f"the alias is longer than {MAX_ALIAS_CHARS} characters")
    if alias != alias.strip() or not alias.isprintable():
        raise errors.InvalidAlias("the alias has surrounding spaces or unprintable characters")


# --- the hot path ------------------------------------------------------------------------

_keys: OrderedDict[str, object] = OrderedDict()  # thumbprint -> public key, LRU order
_keys_lock = threading.Lock()
_capacity = DEFAULT_KEY_CACHE_CAPACITY


def verification_keys(alias: str, now: dt.datetime) -> list:
    """Public keys of the alias's certificates valid at ``now`` (not_before <= now < not_after).

    Returns cryptography public-key objects; an empty list for an unknown alias or one
    whose certificates have all expired.
    """
    moment = rawsql.datetime_param(now)
    with rawsql.cursor() as cursor:
        cursor.execute(_valid_rows_sql(), (alias, moment, moment))
        rows = cursor.fetchall()
    return public_keys(rows)


def public_keys(rows) -> list:
    """The public keys of certificates given as (id, thumbprint) rows, parsed at most once
    per thumbprint while they stay in the cache. For callers that read the rows in a
    statement of their own (``valid_at_condition`` says which rows are valid)."""
    keys = []
    for pk, thumbprint in rows:
        with _keys_lock:
            key = _keys.get(thumbprint)
            if key is not None:
                _keys.move_to_end(thumbprint)
        if key is None:
            key = _load_key(pk, thumbprint)
        if key is not None:
            keys.append(key)
    return keys


def valid_at_condition(table_alias: str) -> str:
    """The SQL condition "this certificate is valid at the moment given twice as
    parameters", for the certificate table under ``table_alias``."""
    q = connection.ops.quote_name
    return f"{table_alias}.{q('not_before')} <= %s AND {table_alias}.{q('not_after')} > %s"


@functools.cache
def _valid_rows_sql() -> str:
    # Written out rather than built by the ORM: this runs on every token request, and
    # compiling the equivalent queryset costs ten times the query itself.
    q = connection.ops.quote_name
    table = q(Certificate._meta.db_table)
    return rawsql.statement(
        f"SELECT c.{q('id')}, c.{q('thumbprint_sha256')} FROM {table} c "
        f"WHERE c.{q('alias')} = %s AND {valid_at_condition('c')}"
    )


def set_key_cache_capacity(capacity: int) -> None:
    """Bound the parsed-key cache; 0 parses on every call (no caching)."""
    global _capacity
    if capacity < 0:
        raise ValueError("capacity must be zero or more")
    with _keys_lock:
        _capacity = capacity
        while len(_keys) > _capacity:
            _keys.popitem(last=False)


def clear_key_cache() -> None:
    with _keys_lock:
        _keys.clear()


def _load_key(pk: int, thumbprint: str) -> object | None:
    pem = Certificate.objects.filter(pk=pk).values_list("pem", flat=True).first()
    if pem is None:  # deleted between the two queries
        return None
    key = x509.load_pem_x509_certificate(pem.encode("ascii")).public_key()
    with _keys_lock:
        if _capacity:
            _keys[thumbprint] = key
            while len(_keys) > _capacity:
                _keys.popitem(last=False)
    return key
