"""System checks of the keystore: certificates that expire soon or have expired.

``keystore.W001`` names each certificate expiring within ``EXPIRY_WARNING_DAYS``, so
the admin imports its successor before client authentication starts failing;
``keystore.W002`` names each one already expired (no longer used to verify anything).
Registered by ``KeystoreConfig.ready``; it reads the database and stays silent when
there is none yet (before ``migrate``) or it cannot be reached.
"""

from __future__ import annotations

import datetime as dt

from django.core.checks import Warning, register
from django.db import DatabaseError
from django.utils import timezone

EXPIRY_WARNING_DAYS = 30


@register()
def check_certificate_expiry(app_configs=None, now: dt.datetime | None = None, **kwargs) -> list:
    from keystore.models import Certificate

    if app_configs is not None and not any(c.label == "keystore" for c in app_configs):
        return []
    now = now or timezone.now()
    horizon = now + dt.timedelta(days=EXPIRY_WARNING_DAYS)
    try:
        rows = list(
            Certificate.objects.filter(not_after__lte=horizon).values_list("alias", "not_after")
        )
    except DatabaseError:
        return []
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
