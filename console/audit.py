"""Writes the console's audit trail (``console.models.AuditEntry``).

Called by the console views after an action succeeded, never for a refused one.
"""

from __future__ import annotations

from django.http import HttpRequest

from console.models import AuditEntry


def record(request: HttpRequest, action: str, target: str, detail: str = "") -> AuditEntry:
    """Record that the request's user performed ``action`` on ``target``."""
    user = request.user
    return AuditEntry.objects.create(
        actor=user if user.is_authenticated else None,
        actor_username=user.get_username() if user.is_authenticated else "",
        action=action,
        target=target[:255],
        detail=detail[:500],
    )
