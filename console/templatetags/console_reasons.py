"""``reason_text``: a refusal reason code in plain words (``clientauth.reasons``), for
the Failures page and the assertion checker, which show it beside the code."""

from __future__ import annotations

from django import template

from clientauth.reasons import describe

register = template.Library()


@register.filter
def reason_text(reason) -> str:
    return describe(reason) if isinstance(reason, str) else ""
