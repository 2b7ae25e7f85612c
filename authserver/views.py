"""The server's front page: what this server is, where its metadata is, the console.

``/`` answers with a small page rather than a 404 (the console's brand links here):
the issuer, links to OIDC discovery and the JWKS, and the way into the console.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "landing.html", {"issuer": settings.AUTHSERVER_ISSUER})
