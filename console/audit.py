"""Writes the audit trail (``console.models.AuditEntry``).

``record`` is called by the console's views after an action succeeded, never for a
refused one; ``record_event`` by ``console.receivers`` and ``console.adminaudit`` for
what happens elsewhere (commands, sign-ins, Django's admin). ``client_address`` is the
address django-axes locks sign-ins out by (``AXES_CLIENT_IP_CALLABLE``: the peer, or
the hop a trusted proxy appended), so the trail and the lockout name the same address.
"""

from __future__ import annotations

from axes.helpers import get_client_ip_address
from django.http import HttpRequest

from console.models import AuditEntry


def client_address(request: HttpRequest | None) -> str:
    if request is None:
        return ""
    return (get_client_ip_address(request) or "")[:255]


def record_event(
    *,
    action: str,
    target: str,
    detail: str = "",
    actor_username: str = "",
    actor=None,
    channel: str = AuditEntry.CONSOLE,
    source: str = "",
    admin_log_id: int | None = None,
) -> AuditEntry:
    """Record one line of the trail; the text fields are cut to their columns."""
    return AuditEntry.objects.create(
        actor=actor,
        actor_username=(actor_username or "")[:150],
        action=action,
        target=(target or "")[:255],
        detail=(detail or "")[:500],
        channel=channel,
        source=(source or "")[:255],
        admin_log_id=admin_log_id,
    )


def record(request: HttpRequest, action: str, target: str, detail: str = "") -> AuditEntry:
    """Record that the request's user performed ``action`` on ``target`` in the console."""
    user = request.user
    return record_event(
        action=action,
        target=target,
        detail=detail,
        actor=user if user.is_authenticated else None,
        actor_username=user.get_username() if user.is_authenticated else "",
        source=client_address(request),
    )
