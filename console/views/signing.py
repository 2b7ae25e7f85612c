"""The server's ID-token signing keys: the JWKS it publishes, and rotating the key.

Rotation calls ``oidc.keys.rotate``, the function behind ``manage.py
rotate_signing_key``: a new key signs every ID token from then on, in every process,
and the retired public key stays in the JWKS until the tokens it signed have expired.
With ``AUTHSERVER_SIGNING_KEY_FILE`` set the file is the key, and the page says so
instead of offering to rotate. Private keys are never shown. Rights (``console.urls``):
viewing needs ``view`` on ``oidc.SigningKey``, rotating ``change`` on it (neither is
granted by the other console rights; superusers hold both).
"""

from __future__ import annotations

import json

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from console import audit
from console.models import AuditEntry
from console.views.common import now
from oidc import keys
from oidc.models import SigningKey


def signing_keys(request: HttpRequest) -> HttpResponse:
    at = now()
    published = keys.published_keys(at)
    jwks = {"keys": [key.public_jwk() for key in published]}
    rows = []
    if not keys.key_file():
        published_kids = {key.kid for key in published}
        rows = [
            {"key": row, "published": row.kid in published_kids}
            for row in SigningKey.objects.only(
                "kid", "algorithm", "created_at", "active", "retired_at"
            )
        ]
    context = {
        "active_kid": published[0].kid,
        "key_file": keys.key_file(),
        "rows": rows,
        "jwks": json.dumps(jwks, indent=2),
        "now": at,
    }
    return render(request, "console/signing_keys.html", context)


@require_http_methods(["GET", "POST"])
def rotate(request: HttpRequest) -> HttpResponse:
    if keys.key_file():
        messages.error(request, "AUTHSERVER_SIGNING_KEY_FILE is set: replace that file to rotate.")
        return redirect("console:signing-keys")
    if request.method == "POST":
        previous = keys.active_key().kid
        row = keys.rotate()
        audit.record(request, AuditEntry.SIGNING_KEY_ROTATE, row.kid, f"retired {previous}")
        messages.success(request, f"Rotated the signing key: {row.kid} signs new ID tokens.")
        return redirect("console:signing-keys")
    return render(request, "console/signing_rotate.html", {"active_kid": keys.active_key().kid})
