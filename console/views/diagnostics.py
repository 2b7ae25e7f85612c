"""Why client authentication failed: the failures page, the assertion checker, the audit.

The failures page filters ``clientauth.models.AuthFailure`` (written when the client
endpoints refuse a client, never holding an assertion): one row per burst of refusals
(``clientauth.failures``), seen last first; a date range shows the bursts that went on
within it. The checker runs ``clientauth.explain.explain_assertion``, which judges a
pasted assertion as the token endpoint would now, without recording its ``jti``, and
shows beside the steps its decoded header and claims (``decode_assertion``: never the
signature) with the server's time and each time claim as a date and relative to it;
the assertion is posted, never put in a URL, and never stored. Both pages show each
reason code with its plain words (``clientauth.reasons``, the ``reason_text`` filter).
The audit page filters by actor, action and channel.
"""

from __future__ import annotations

import datetime as dt
import json
import time

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from clientauth.explain import decode_assertion, explain_assertion
from clientauth.models import AuthFailure
from console.forms.diagnostics import CheckerForm, FailureFilterForm
from console.models import AuditEntry
from console.views.common import no_store, paginate


def failure_list(request: HttpRequest) -> HttpResponse:
    reasons = list(
        AuthFailure.objects.order_by("reason").values_list("reason", flat=True).distinct()
    )
    form = FailureFilterForm(request.GET or None, reasons=reasons)
    failures = AuthFailure.objects.all()
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        if data["client"]:
            failures = failures.filter(client_id=data["client"].strip())
        if data["reason"]:
            failures = failures.filter(reason=data["reason"])
        if data["since"]:
            failures = failures.filter(last_seen__date__gte=data["since"])
        if data["until"]:
            failures = failures.filter(created_at__date__lte=data["until"])
    elif form.is_bound:
        failures = failures.none()
    page = paginate(request, failures)
    query = request.GET.copy()
    query.pop("page", None)
    context = {"form": form, "page": page, "query": query.urlencode()}
    return render(request, "console/failures.html", context)


@require_http_methods(["GET", "POST"])
def checker(request: HttpRequest) -> HttpResponse:
    form = CheckerForm(request.POST or None)
    steps = decoded = None
    at = time.time()
    if request.method == "POST" and form.is_valid():
        assertion = form.cleaned_data["assertion"]
        steps = explain_assertion(
            assertion, client_id=form.cleaned_data["client_id"] or None, now=at
        )
        decoded = decode_assertion(assertion)
    passed = steps is not None and all(step.status == "pass" for step in steps)
    context = {"form": form, "steps": steps, "passed": passed, "now": _instant(at)}
    if decoded is not None:
        context.update(
            header=json.dumps(decoded.header, indent=2, ensure_ascii=False),
            claims=json.dumps(decoded.claims, indent=2, ensure_ascii=False),
            times=[(name, value, _instant(value)) for name, value in decoded.times],
        )
    return no_store(render(request, "console/checker.html", context))


def _instant(seconds: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(seconds, tz=dt.UTC)


def audit_list(request: HttpRequest) -> HttpResponse:
    entries = AuditEntry.objects.all()
    action = request.GET.get("action", "")
    channel = request.GET.get("channel", "")
    actor = request.GET.get("actor", "").strip()[:150]
    if action in dict(AuditEntry.ACTION_CHOICES):
        entries = entries.filter(action=action)
    if channel in dict(AuditEntry.CHANNEL_CHOICES):
        entries = entries.filter(channel=channel)
    if actor:
        entries = entries.filter(actor_username__iexact=actor)
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "page": paginate(request, entries),
        "actions": AuditEntry.ACTION_CHOICES,
        "channels": AuditEntry.CHANNEL_CHOICES,
        "actors": AuditEntry.objects.order_by("actor_username")
        .values_list("actor_username", flat=True)
        .distinct()[:200],
        "action": action,
        "channel": channel,
        "actor": actor,
        "query": query.urlencode(),
    }
    return render(request, "console/audit.html", context)
