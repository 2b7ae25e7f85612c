"""A service provider's secret and tokens from the console; the server's signing keys.

Regenerating a secret shows the new one once (no-store) and the old one is refused at
the token endpoint from the next request; a client's live tokens are listed by expiry
and revoked all at once, as the token endpoints then see; rotating the signing key
from the console publishes the new key first in the JWKS.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
from urllib.parse import urlencode

import pytest
from django.urls import reverse
from django.utils import timezone
from oauth2_provider.models import get_access_token_model, get_refresh_token_model

from clientauth import registration
from console.models import AuditEntry
from console.views.credentials import REGENERATED_SECRET_SESSION_KEY
from oidc import keys

pytestmark = pytest.mark.django_db

FORM = "application/x-www-form-urlencoded"


def _secret_client():
    return registration.register_service_provider(
        name="Batch Job",
        callbacks=[],
        grant_types=["client_credentials"],
        auth_method="client_secret_basic",
    )


def _token(client, client_id: str, secret: str):
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return client.post(
        "/oauth2/token",
        urlencode({"grant_type": "client_credentials"}),
        content_type=FORM,
        HTTP_AUTHORIZATION=f"Basic {basic}",
    )


def test_regenerated_secret_is_shown_once_and_the_old_one_is_refused_at_once(staff_client, client):
    provider, old = _secret_client()
    assert _token(client, provider.client_id, old).status_code == 200
    url = reverse("console:provider-secret", args=[provider.pk])

    confirm = staff_client.get(url)
    assert confirm.status_code == 200 and "stops working at once" in confirm.content.decode()
    assert AuditEntry.objects.filter(action=AuditEntry.SP_SECRET).count() == 0

    response = staff_client.post(url)
    assert response.status_code == 302 and response["Location"] == url
    new = staff_client.session[REGENERATED_SECRET_SESSION_KEY]["secret"]
    assert new != old and new not in response["Location"]

    shown = staff_client.get(url)
    assert new in shown.content.decode() and "not shown again" in shown.content.decode()
    assert shown["Cache-Control"] == "no-store"
    assert new not in staff_client.get(url).content.decode()

    provider.refresh_from_db()
    assert provider.client_secret.startswith("clientauth_hmac_sha256$")
    assert _token(client, provider.client_id, old).status_code == 401
    assert _token(client, provider.client_id, new).status_code == 200

    entry = AuditEntry.objects.get(action=AuditEntry.SP_SECRET)
    assert entry.target == provider.client_id
    assert new not in entry.detail and old not in entry.detail


def test_tokens_are_listed_by_expiry_and_revoked_all_at_once(staff_client, client):
    provider, secret = _secret_client()
    issued = [_token(client, provider.client_id, secret).json()["access_token"] for _ in range(3)]
    AccessToken = get_access_token_model()
    # An expired one is not active.
    first = AccessToken.objects.filter(application=provider).order_by("pk").first()
    AccessToken.objects.filter(pk=first.pk).update(expires=timezone.now() - dt.timedelta(minutes=5))

    page = staff_client.get(reverse("console:provider-tokens", args=[provider.pk]))
    body = page.content.decode()
    assert "2 active access tokens" in body, body[body.find("token-counts") :][:80]
    assert all(token not in body for token in issued)  # never the token values
    assert body.count("(in 60 min)") + body.count("(in 1 h)") == 2

    detail = staff_client.get(reverse("console:provider-detail", args=[provider.pk]))
    assert "2 access tokens, 0 refresh tokens" in detail.content.decode()

    revoke = reverse("console:provider-tokens-revoke", args=[provider.pk])
    assert staff_client.get(revoke).status_code == 200
    assert AccessToken.objects.filter(application=provider).count() == 3
    response = staff_client.post(revoke, follow=True)
    assert "Revoked every token of Batch Job: 3 access token(s)" in response.content.decode()
    assert not AccessToken.objects.filter(application=provider).exists()
    introspected = client.post(
        "/oauth2/introspect",
        urlencode({"token": issued[1]}),
        content_type=FORM,
        HTTP_AUTHORIZATION="Basic "
        + base64.b64encode(f"{provider.client_id}:{secret}".encode()).decode(),
    )
    assert introspected.json() == {"active": False}
    entry = AuditEntry.objects.get(action=AuditEntry.SP_REVOKE_TOKENS)
    assert entry.target == provider.client_id and entry.detail.startswith("3 access token(s)")


def test_revoking_marks_refresh_tokens_revoked(staff_client, django_user_model):
    provider, _ = _secret_client()
    user = django_user_model.objects.create_user("alice")
    AccessToken, RefreshToken = get_access_token_model(), get_refresh_token_model()
    later = timezone.now() + dt.timedelta(hours=1)
    access = AccessToken.objects.create(application=provider, user=user, token="a1", expires=later)
    refresh = RefreshToken.objects.create(
        application=provider, user=user, token="r1", access_token=access
    )
    staff_client.post(reverse("console:provider-tokens-revoke", args=[provider.pk]))
    refresh.refresh_from_db()
    assert refresh.revoked is not None
    assert not AccessToken.objects.filter(pk=access.pk).exists()


def test_rotating_from_the_console_publishes_the_new_key_first(staff_client, client):
    before = keys.active_key().kid
    page = html.unescape(staff_client.get(reverse("console:signing-keys")).content.decode())
    assert before in page and '"kty": "RSA"' in page and "PRIVATE" not in page

    response = staff_client.post(reverse("console:signing-key-rotate"), follow=True)
    after = keys.active_key().kid
    assert after != before
    body = html.unescape(response.content.decode())
    assert f"{after} signs new ID tokens" in body
    published = [k["kid"] for k in client.get("/oauth2/jwks").json()["keys"]]
    assert published == [after, before]
    assert body.index(f'"kid": "{after}"') < body.index(f'"kid": "{before}"')
    entry = AuditEntry.objects.get(action=AuditEntry.SIGNING_KEY_ROTATE)
    assert (entry.target, entry.detail) == (after, f"retired {before}")


def test_rotation_is_refused_while_the_key_is_a_file(staff_client, settings, tmp_path):
    path = tmp_path / "signing.pem"
    path.write_text(keys.generate_pem())
    settings.AUTHSERVER_SIGNING_KEY_FILE = str(path)
    page = staff_client.get(reverse("console:signing-keys")).content.decode()
    assert "replace that file to rotate" in page and "Rotate signing key</a>" not in page
    response = staff_client.post(reverse("console:signing-key-rotate"))
    assert response.status_code == 302
    assert not AuditEntry.objects.filter(action=AuditEntry.SIGNING_KEY_ROTATE).exists()
