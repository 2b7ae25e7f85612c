"""Recording a used ``jti`` (RFC 7523 section 3, item 7; WSO2's preventTokenReuse).

The database decides: one ``INSERT ... ON CONFLICT DO UPDATE ... WHERE`` statement
either records the ``jti``, takes over the row of an earlier JWT whose ``exp`` plus
leeway has passed, or changes nothing, which is the replay. Being one statement under
the unique constraint, it is atomic across every process and machine that shares the
database. The cache in front only answers replays already known, so they cost no
database round trip; it is written after the transaction commits, and a cache that is
down is logged and skipped, never trusted to say "unused".

Called by ``clientauth.authentication.consume`` (and, in one transaction with the
token, by ``clientauth.fastpath``), after the
verifier has passed every other check. Not here: deciding whether the assertion is
otherwise valid (``clientauth.assertion``).
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import logging
import time

from django.core.cache import cache
from django.db import connection, transaction

from clientauth import errors
from clientauth.conf import Policy
from clientauth.models import JtiRecord
from djangokit import rawsql

log = logging.getLogger(__name__)

_CACHE_WARNING_INTERVAL = 30.0
_last_cache_warning = 0.0


def _warn_cache(exc: Exception) -> None:
    global _last_cache_warning
    now = time.monotonic()
    if now - _last_cache_warning >= _CACHE_WARNING_INTERVAL:
        _last_cache_warning = now
        log.warning("jti cache unavailable (%s); the database alone decides", type(exc).__name__)


def cache_key(client_id: str, jti: str) -> str:
    digest = hashlib.sha256(f"{client_id}\x00{jti}".encode("utf-8", "surrogatepass"))
    return f"pkjwt:jti:{digest.hexdigest()[:40]}"


def _timestamp(seconds: float) -> dt.datetime:
    # exp has passed the lifetime check, so it is within an hour or so of now.
    return dt.datetime.fromtimestamp(seconds, tz=dt.UTC)


def _cutoff_seconds(now: float, leeway: int) -> float:
    """A row whose EXP_TIME is before this belongs to a JWT that can no longer be used."""
    return now - leeway


def _cutoff(now: float, leeway: int) -> dt.datetime:
    return _timestamp(_cutoff_seconds(now, leeway))


@functools.cache
def upsert_sql() -> str:
    q = connection.ops.quote_name
    table, client, jwt_id = q(JtiRecord._meta.db_table), q("CLIENT_ID"), q("JWT_ID")
    exp, created = q("EXP_TIME"), q("TIME_CREATED")
    # Only quoted identifiers are interpolated; every value is a query parameter.
    return (
        f"INSERT INTO {table} ({client}, {jwt_id}, {exp}, {created}) VALUES (%s, %s, %s, %s) "
        f"ON CONFLICT ({client}, {jwt_id}) DO UPDATE SET "
        f"{exp} = excluded.{exp}, {created} = excluded.{created} "
        f"WHERE {table}.{exp} < %s RETURNING 1"
    )


def insert_params(client_id: str, jti: str, exp: float, now: float, leeway: int) -> list:
    """The parameters of ``upsert_sql()``, in its order."""
    return [
        client_id,
        jti,
        rawsql.timestamp(exp),
        rawsql.timestamp(now),
        rawsql.timestamp(_cutoff_seconds(now, leeway)),
    ]


def insert(client_id: str, jti: str, exp: float, now: float, leeway: int) -> bool:
    """True when the jti is now recorded for this JWT; False when an unexpired row holds it."""
    with connection.cursor() as cursor:
        cursor.execute(upsert_sql(), insert_params(client_id, jti, exp, now, leeway))
        return cursor.fetchone() is not None


def known_replay(key: str, *, now: float, policy: Policy) -> bool:
    """Whether the cache already holds ``key`` for an unexpired JWT. Only a "yes" is
    trusted; a miss or a cache that is down leaves the decision to the database."""
    if not (policy.cache_enabled and policy.prevent_token_reuse):
        return False
    try:
        cached_exp = cache.get(key)
    except Exception as exc:  # any cache backend failure: fall back to the database
        _warn_cache(exc)
        return False
    return cached_exp is not None and cached_exp + policy.leeway_seconds >= now


def remember_on_commit(key: str, exp: float, *, now: float, policy: Policy, db=None) -> None:
    """Put ``key`` in the cache once the transaction that recorded it commits (at once
    in autocommit mode). ``db``: the connection's wrapper, when the caller holds it."""
    if not policy.cache_enabled:
        return
    timeout = int(min(exp + policy.leeway_seconds - now, policy.cache_timeout_seconds)) + 1

    def remember() -> None:
        try:
            cache.set(key, exp, timeout)
        except Exception as exc:
            _warn_cache(exc)

    if db is None:
        db = transaction.get_connection()
    if db.in_atomic_block or not db.get_autocommit():
        db.on_commit(remember)
    else:  # autocommit: committed already; what on_commit does, without its checks
        remember()


def record_jti(client_id: str, jti: str, exp: float, *, now: float, policy: Policy) -> None:
    """Record ``jti`` for ``client_id`` or raise ``ReplayedJti`` (when reuse is prevented)."""
    key = cache_key(client_id, jti)
    if known_replay(key, now=now, policy=policy):
        raise errors.ReplayedJti("jti has been used already", client_id=client_id)

    if not insert(client_id, jti, exp, now, policy.leeway_seconds):
        if policy.prevent_token_reuse:
            raise errors.ReplayedJti("jti has been used already", client_id=client_id)
        log.info("jti reused (PREVENT_TOKEN_REUSE is off) client_id=%r", client_id)
        return
    remember_on_commit(key, exp, now=now, policy=policy)


def purge_expired(*, now: float, leeway: int) -> int:
    """Delete rows whose JWT has expired past ``exp`` plus leeway; return how many."""
    deleted, _ = JtiRecord.objects.filter(exp_time__lt=_cutoff(now, leeway)).delete()
    return deleted


def is_used(client_id: str, jti: str, *, now: float, leeway: int) -> bool:
    """Whether an unexpired JWT has used ``jti`` (a read only: nothing is recorded)."""
    return JtiRecord.objects.filter(
        client_id=client_id, jwt_id=jti, exp_time__gte=_cutoff(now, leeway)
    ).exists()
