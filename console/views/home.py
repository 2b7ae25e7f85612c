"""The console's front door: the first section the user may see, or why there is none.

A staff user whom no one has granted a permission yet gets a page saying so (200),
not a 403 on the first section: they are allowed in, just not to anything yet.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import resolve, reverse

from console.access import rights_of

# The navigation's order. Each page's rights are read from its URL, declared once.
SECTIONS = [
    "console:providers",
    "console:certificates",
    "console:failures",
    "console:checker",
    "console:audit",
    "console:signing-keys",
]


def home(request: HttpRequest) -> HttpResponse:
    rights = rights_of(request)
    for name in SECTIONS:
        if rights.all(resolve(reverse(name)).func.console_rights):
            return redirect(name)
    return render(request, "console/home.html")
