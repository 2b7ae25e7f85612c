"""The record of refused client authentications: the log line and the console's store.

Each refusal is logged with its reason and the client ID it claimed, never the
assertion or secret. The console's store, ``AuthFailure``, counts bursts rather than
refusals, so that nobody can flood real entries out of it: the refusal endpoints are
open to anyone, who may claim any client ID.

- A refusal's key is the client it is filed under, its reason and its endpoint. An
  ``UnknownClient`` is filed under no client (""), whatever ID it claimed, with the
  claimed ID in its detail: a caller varying the claimed ID on every request adds to
  one row per reason and endpoint, and an integrator can still see a mistyped ID. Every
  other error carries the ID of a registered client or none (``clientauth.assertion``
  and ``clientauth.client_secret`` set it once the client is found).
- A burst of a key is one row: a refusal is counted on the key's newest row while that
  row was last seen within ``QUIET`` and first seen within ``SPAN`` (one UPDATE: count,
  last seen, latest detail and address); otherwise it opens a row. A later burst gets
  its own row, a flood that never stops gets one a ``SPAN``, and a count stays far from
  the column's limit.
- The store keeps the ``MAX_ROWS`` rows seen last, pruned every ``_PRUNE_EVERY`` rows
  opened. Rows are opened only per key and burst, so a flood under one client, or
  under many made-up ones, leaves the other rows in place; only keys (registered
  clients times reasons times endpoints) opening rows faster than the old rows age
  could push them out.

Two refusals of a key with no open row, recorded at once, may open two rows (on
PostgreSQL; SQLite's immediate transactions take turns): later ones count on the newer,
and no refusal is lost. The log line stays one per refusal, like the server's access
log line for the same request; it is the complete record, the store is the summary.

Recording must never turn a refusal into an error: a database that cannot write costs
the row, not the response. Called by ``clientauth.validator`` and ``clientauth.backends``.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.db import DatabaseError, transaction
from django.db.models import F, Subquery
from django.utils import timezone

from clientauth.errors import ClientAuthError, UnknownClient
from clientauth.models import AuthFailure

log = logging.getLogger("clientauth")

MAX_ROWS = 10_000
_PRUNE_EVERY = 100
# A key's row stays open while its refusals come within QUIET of each other, for at
# most SPAN after the first.
QUIET = dt.timedelta(hours=1)
SPAN = dt.timedelta(days=1)


def _client_ip(meta: dict) -> str | None:
    # The peer address as the WSGI server saw it; a proxy in front is an operator's
    # setting (SECURE_PROXY_SSL_HEADER / middleware), not something a header may claim.
    return meta.get("REMOTE_ADDR") or None


def _text(value: str, limit: int) -> str:
    """``value`` as text the database can hold: a lone surrogate (from an escaped JSON
    string) becomes its backslash escape, and the result is cut to ``limit``."""
    return value.encode("utf-8", "backslashreplace").decode("utf-8")[:limit]


def _filed_as(exc: ClientAuthError) -> tuple[str, str]:
    """The client ID ``exc`` is filed under and the detail kept with it."""
    if isinstance(exc, UnknownClient):
        detail = f"{exc.detail}: {exc.client_id!r}" if exc.client_id else exc.detail
        return "", _text(detail, 255)
    return _text(exc.client_id or "", 255), _text(exc.detail, 255)


def record_failure(
    exc: ClientAuthError, *, endpoint: str, meta: dict, now: dt.datetime | None = None
) -> None:
    log.warning(
        "client authentication refused endpoint=%s reason=%s client_id=%r detail=%r",
        endpoint,
        exc.reason,
        _text(exc.client_id or "", 255),
        exc.detail,
    )
    client_id, detail = _filed_as(exc)
    try:
        with transaction.atomic():
            _count(
                client_id,
                exc.reason,
                endpoint,
                detail=detail,
                remote_addr=_client_ip(meta),
                now=now or timezone.now(),
            )
    except DatabaseError:
        log.warning("could not record the failure (database unavailable)")


def _count(
    client_id: str,
    reason: str,
    endpoint: str,
    *,
    detail: str,
    remote_addr: str | None,
    now: dt.datetime,
) -> None:
    """Count one refusal on its key's open row, or open one."""
    open_row = AuthFailure.objects.filter(
        client_id=client_id,
        reason=reason,
        endpoint=endpoint,
        last_seen__gte=now - QUIET,
        created_at__gte=now - SPAN,
    ).order_by("-last_seen", "-id")
    counted = AuthFailure.objects.filter(pk=Subquery(open_row.values("pk")[:1])).update(
        count=F("count") + 1, last_seen=now, detail=detail, remote_addr=remote_addr
    )
    if counted:
        return
    row = AuthFailure.objects.create(
        client_id=client_id,
        reason=reason,
        detail=detail,
        endpoint=endpoint,
        remote_addr=remote_addr,
        created_at=now,
        last_seen=now,
    )
    if row.pk % _PRUNE_EVERY == 0:
        _prune()


def _prune() -> None:
    """Keep the ``MAX_ROWS`` rows seen last (and any seen at the same moment as the
    last of them)."""
    newest = AuthFailure.objects.order_by("-last_seen").values("last_seen")
    AuthFailure.objects.filter(last_seen__lt=Subquery(newest[MAX_ROWS - 1 : MAX_ROWS])).delete()
