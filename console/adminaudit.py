"""Copies the edits made in Django's admin (``/admin/``) into the audit trail.

The admin writes a ``LogEntry`` for every addition, change and deletion it makes,
through every ``ModelAdmin`` (DOT's, the user admin's, ours), the seam Django itself
uses for its "Recent actions". Two things keep this from being a ``post_save``
receiver on ``LogEntry``: a receiver has no request to say where the edit came from,
and the admin's "delete selected" action writes its entries with ``bulk_create``,
which sends no signal. So this middleware, for the POSTs of a signed-in user under the
admin's URL only (the admin changes nothing on GET), notes the last ``LogEntry`` id
before the view and copies the entries that user's request added after it, with the
request's address.
``AuditEntry.admin_log_id`` is unique, so an entry is copied once even when two
requests of the same user overlap. Listed in ``MIDDLEWARE`` after the authentication
middleware.
"""

from __future__ import annotations

from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry
from django.contrib.auth import get_user_model
from django.db.models import Max
from django.urls import NoReverseMatch, reverse

from console import audit
from console.models import AuditEntry

ACTIONS = {
    ADDITION: AuditEntry.ADMIN_ADD,
    CHANGE: AuditEntry.ADMIN_CHANGE,
    DELETION: AuditEntry.ADMIN_DELETE,
}


class AdminAuditMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (
            request.method != "POST"
            or not _under_admin(request.path)
            or user is None
            or not user.is_authenticated
        ):
            return self.get_response(request)
        actor, username = user, user.get_username()
        before = LogEntry.objects.aggregate(last=Max("id"))["last"] or 0
        response = self.get_response(request)
        entries = list(
            LogEntry.objects.filter(id__gt=before, user_id=actor.pk)
            .select_related("content_type")
            .order_by("id")
        )
        if entries:
            if not get_user_model()._default_manager.filter(pk=actor.pk).exists():
                actor = None  # they deleted their own account: the username stays
            source = audit.client_address(request)
            AuditEntry.objects.bulk_create(
                [_entry(log, actor, username, source) for log in entries], ignore_conflicts=True
            )
        return response


def _under_admin(path: str) -> bool:
    try:
        return path.startswith(reverse("admin:index"))
    except NoReverseMatch:  # a URLconf without the admin
        return False


def _entry(log: LogEntry, actor, username: str, source: str) -> AuditEntry:
    model = f"{log.content_type.app_label}.{log.content_type.model}" if log.content_type else ""
    return AuditEntry(
        actor=actor,
        actor_username=username[:150],
        action=ACTIONS.get(log.action_flag, AuditEntry.ADMIN_CHANGE),
        target=f"{model} {log.object_repr}"[:255],
        detail=(log.get_change_message() or "")[:500],
        channel=AuditEntry.ADMIN,
        source=source,
        admin_log_id=log.pk,
    )
