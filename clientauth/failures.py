"""The record of refused client authentications: the log line and the console's store.

Each refusal is logged with its reason and client ID, never the assertion or secret,
and kept in ``AuthFailure``, bounded to the newest ``MAX_ROWS`` rows. Recording must
never turn a refusal into an error: a database that is down costs the row, not the
response. Called by ``clientauth.validator`` and ``clientauth.backends``.
"""

from __future__ import annotations

import logging

from django.db import DatabaseError
from django.utils import timezone

from clientauth.errors import ClientAuthError
from clientauth.models import AuthFailure

log = logging.getLogger("clientauth")

MAX_ROWS = 10_000
_PRUNE_EVERY = 100


def _client_ip(meta: dict) -> str | None:
    # The peer address as the WSGI server saw it; a proxy in front is an operator's
    # setting (SECURE_PROXY_SSL_HEADER / middleware), not something a header may claim.
    return meta.get("REMOTE_ADDR") or None


def _text(value: str, limit: int) -> str:
    """``value`` as text the database can hold: a lone surrogate (from an escaped JSON
    string) becomes its backslash escape, and the result is cut to ``limit``."""
    return value.encode("utf-8", "backslashreplace").decode("utf-8")[:limit]


def record_failure(exc: ClientAuthError, *, endpoint: str, meta: dict) -> None:
    client_id = _text(exc.client_id or "", 255)
    log.warning(
        "client authentication refused endpoint=%s reason=%s client_id=%r detail=%r",
        endpoint,
        exc.reason,
        client_id,
        exc.detail,
    )
    try:
        row = AuthFailure.objects.create(
            client_id=client_id,
            reason=exc.reason,
            detail=_text(exc.detail, 255),
            endpoint=endpoint,
            remote_addr=_client_ip(meta),
            created_at=timezone.now(),
        )
        if row.pk % _PRUNE_EVERY == 0:
            AuthFailure.objects.filter(pk__lte=row.pk - MAX_ROWS).delete()
    except DatabaseError:
        log.warning("could not record the failure (database unavailable)")
