"""System checks of the keystore: certificates that expire soon or have expired.

``keystore.W001`` names each certificate expiring within ``EXPIRY_WARNING_DAYS``, so
the admin imports its successor before client authentication starts failing;
``keystore.W002`` names each one already expired (no longer used to verify anything).

They read the database, so they are registered with ``Tags.database`` and run only
when Django asks for database checks (``check --database``, ``migrate``), not before
every command. The same warnings are shown by ``list_certs`` and logged once when the
WSGI application starts (``log_expiry_warnings``). Before ``migrate``, or with the
database out of reach, they stay silent.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.core.checks import Tags, Warning, register
from django.db import DatabaseError, router
from django.utils import timezone

EXPIRY_WARNING_DAYS = 30

log = logging.getLogger("keystore")


def expiry_warnings(now: dt.datetime | None = None, using: str = "default") -> list[Warning]:
    """W001 for each certificate expiring within ``EXPIRY_WARNING_DAYS`` of ``now``, W002
    for each expired one, by alias; ``DatabaseError`` when the table cannot be read."""
    from keystore.models import Certificate

    now = now or timezone.now()
    horizon = now + dt.timedelta(days=EXPIRY_WARNING_DAYS)
    rows = (
        Certificate.objects.using(using)
        .filter(not_after__lte=horizon)
        .order_by("not_after", "alias")
        .values_list("alias", "not_after")
    )
    messages = []
    for alias, not_after in rows:
        if not_after <= now:
            messages.append(
                Warning(
                    f"Certificate {alias!r} expired on {not_after:%Y-%m-%d}; "
                    "it no longer authenticates its client.",
                    hint="Import the client's new certificate with import_cert --replace.",
                    id="keystore.W002",
                )
            )
        else:
            messages.append(
                Warning(
                    f"Certificate {alias!r} expires on {not_after:%Y-%m-%d}.",
                    hint="Import the client's new certificate before then (import_cert --replace).",
                    id="keystore.W001",
                )
            )
    return messages


@register(Tags.database)
def check_certificate_expiry(
    app_configs=None, databases=None, now: dt.datetime | None = None, **kwargs
) -> list:
    from keystore.models import Certificate

    if not databases:
        return []
    if app_configs is not None and not any(c.label == "keystore" for c in app_configs):
        return []
    messages = []
    for alias in databases:
        if not router.allow_migrate_model(alias, Certificate):
            continue
        try:
            messages.extend(expiry_warnings(now, using=alias))
        except DatabaseError:
            continue
    return messages


def log_expiry_warnings(now: dt.datetime | None = None) -> None:
    """Log each expiry warning once, for the server's start. Never stops the start: a
    database that cannot answer yet (or is not migrated) leaves nothing to log."""
    try:
        messages = expiry_warnings(now)
    except Exception as exc:  # noqa: BLE001  a start-up notice must never stop the server
        log.debug("certificate expiry not checked at start: %s", exc)
        return
    for message in messages:
        log.warning("%s: %s %s", message.id, message.msg, message.hint)
