"""``relative``: an instant as a person reads it next to a date, "in 2 min", "5 min ago".

Relative to the ``now`` the view passed, never to the clock at render time, so a page's
instants agree with each other and tests can fix the clock.
"""

from __future__ import annotations

import datetime as dt

from django import template

register = template.Library()

_UNITS = ((86400, "d"), (3600, "h"), (60, "min"), (1, "s"))


def relative_text(moment: dt.datetime, now: dt.datetime) -> str:
    seconds = round((moment - now).total_seconds())
    if seconds == 0:
        return "now"
    size = abs(seconds)
    unit, name = next((u, n) for u, n in _UNITS if size >= u or u == 1)
    text = f"{round(size / unit)} {name}"  # to the nearest: 119 s is "2 min"
    return f"in {text}" if seconds > 0 else f"{text} ago"


@register.filter
def relative(moment, now):
    if not isinstance(moment, dt.datetime) or not isinstance(now, dt.datetime):
        return ""
    return relative_text(moment, now)
