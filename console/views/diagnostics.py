"""Why client authentication failed: the failures page, the assertion checker, the audit.

The failures page filters ``clientauth.models.AuthFailure`` (written when the client
endpoints refuse a client, never holding an assertion): one row per burst of refusals
(``clientauth.failures``), seen last first; a date range shows the bursts that went on
within it. The checker runs ``clientauth.explain.explain_assertion``, which judges a
pasted assertion as the token endpoint would now, without recording its ``jti``; the
assertion is posted, never put in a URL, and never stored.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from clientauth.explain import explain_assertion
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
    steps = None
    if request.method == "POST" and form.is_valid():
        steps = explain_assertion(
            form.cleaned_data["assertion"], client_id=form.cleaned_data["client_id"] or None
        )
    passed = steps is not None and all(step.status == "pass" for step in steps)
    context = {"form": form, "steps": steps, "passed": passed}
    return no_store(render(request, "console/checker.html", context))


def audit_list(request: HttpRequest) -> HttpResponse:
    entries = AuditEntry.objects.all()
    action = request.GET.get("action", "")
    if action in dict(AuditEntry.ACTION_CHOICES):
        entries = entries.filter(action=action)
    context = {
        "page": paginate(request, entries),
        "actions": AuditEntry.ACTION_CHOICES,
        "action": action,
        "query": f"action={action}" if action else "",
    }
    return render(request, "console/audit.html", context)
