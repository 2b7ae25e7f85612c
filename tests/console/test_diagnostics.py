"""The failures page, the assertion checker and the audit page."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from clientauth import registration
from clientauth.models import AuthFailure, JtiRecord
from console.models import AuditEntry
from keystore import services
from tests import keys

pytestmark = pytest.mark.django_db


def _failure(client_id, reason, days_ago=0):
    return AuthFailure.objects.create(
        client_id=client_id,
        reason=reason,
        created_at=timezone.now() - dt.timedelta(days=days_ago),
    )


def test_failures_filters(staff_client):
    _failure("alpha", "expired", days_ago=0)
    _failure("alpha", "bad_signature", days_ago=3)
    _failure("beta", "expired", days_ago=10)
    url = reverse("console:failures")

    def shown(**query):
        page = staff_client.get(url, query).context["page"]
        return sorted((f.client_id, f.reason) for f in page.object_list)

    assert len(shown()) == 3
    assert shown(client="alpha") == [("alpha", "bad_signature"), ("alpha", "expired")]
    assert shown(reason="expired") == [("alpha", "expired"), ("beta", "expired")]
    today = timezone.now().date()
    assert shown(since=str(today - dt.timedelta(days=5))) == [
        ("alpha", "bad_signature"),
        ("alpha", "expired"),
    ]
    assert shown(until=str(today - dt.timedelta(days=5))) == [("beta", "expired")]
    assert shown(client="alpha", reason="expired", since=str(today)) == [("alpha", "expired")]


def test_failures_reject_an_inverted_range(staff_client):
    _failure("alpha", "expired")
    today = timezone.now().date()
    response = staff_client.get(
        reverse("console:failures"), {"since": str(today), "until": str(today - dt.timedelta(1))}
    )
    assert "&#x27;From&#x27; is after &#x27;To&#x27;." in response.content.decode()
    assert not response.context["page"].object_list


@pytest.fixture
def failure_viewer(django_user_model, client):
    """A staff user who may view the failures (``clientauth.view_authfailure``)."""
    from django.contrib.auth.models import Permission

    user = django_user_model.objects.create_user("failures", password="failures-1", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_authfailure"))
    client.force_login(user)
    return client


def test_failures_show_each_burst_with_its_count_and_first_and_last_seen(failure_viewer):
    now = timezone.now().replace(microsecond=0)
    AuthFailure.objects.create(
        client_id="flooded",
        reason="bad_signature",
        detail="signature does not verify",
        endpoint="token",
        created_at=now - dt.timedelta(days=10),
        last_seen=now,
        count=123456,
    )
    _failure("quiet", "expired", days_ago=3)
    url = reverse("console:failures")
    response = failure_viewer.get(url)
    assert [f.client_id for f in response.context["page"].object_list] == ["flooded", "quiet"]
    body = response.content.decode()
    assert "Count" in body and "First seen" in body and "Last seen" in body
    assert "123456" in body
    assert f"{now - dt.timedelta(days=10):%Y-%m-%d %H:%M:%S}" in body
    assert f"{now:%Y-%m-%d %H:%M:%S}" in body

    def shown(**query):
        return sorted(f.client_id for f in failure_viewer.get(url, query).context["page"])

    # A date range shows the bursts that went on within it: from the first to the last.
    today = timezone.now().date()
    assert shown(since=str(today)) == ["flooded"]
    assert shown(until=str(today - dt.timedelta(days=9))) == ["flooded"]
    assert shown(since=str(today - dt.timedelta(days=5))) == ["flooded", "quiet"]
    assert shown(until=str(today - dt.timedelta(days=11))) == []


@pytest.fixture
def provider(rsa_key):
    provider, _ = registration.register_service_provider(
        name="App", callbacks=[], grant_types=["client_credentials"], auth_method="private_key_jwt"
    )
    services.import_certificate(provider.client_id, rsa_key.cert_pem)
    return provider


def _check(client, assertion, client_id=""):
    response = client.post(
        reverse("console:checker"), {"assertion": assertion, "client_id": client_id}
    )
    assert response.status_code == 200
    return response


def test_checker_passes_a_good_assertion_without_recording_its_jti(staff_client, provider, rsa_key):
    claims = keys.claims_for(provider.client_id, now=time.time(), aud=settings.AUTHSERVER_ISSUER)
    response = _check(staff_client, rsa_key.sign(claims), provider.client_id)
    steps = response.context["steps"]
    assert steps and all(step.status == "pass" for step in steps)
    body = response.content.decode()
    assert "would accept" in body
    assert response["Cache-Control"] == "no-store"
    assert not JtiRecord.objects.exists()
    # Checked twice: still not a replay, because checking records nothing.
    assert all(
        s.status == "pass" for s in _check(staff_client, rsa_key.sign(claims)).context["steps"]
    )


def test_checker_names_the_failed_check(staff_client, provider, attacker_key):
    claims = keys.claims_for(provider.client_id, now=time.time(), aud=settings.AUTHSERVER_ISSUER)
    response = _check(staff_client, attacker_key.sign(claims))
    steps = response.context["steps"]
    failed = [s for s in steps if s.status == "fail"]
    assert len(failed) == 1 and failed[0].reason == "bad_signature"
    after = steps[steps.index(failed[0]) + 1 :]
    assert after and all(s.status == "not_run" for s in after)
    body = response.content.decode()
    assert "would refuse" in body and "bad_signature" in body


def test_checker_shows_steps_in_order(staff_client, provider, rsa_key):
    claims = keys.claims_for(
        provider.client_id, now=time.time() - 7200, aud=settings.AUTHSERVER_ISSUER
    )
    steps = _check(staff_client, rsa_key.sign(claims)).context["steps"]
    body = _check(staff_client, rsa_key.sign(claims)).content.decode()
    positions = [body.index(f'data-step="{s.name}"') for s in steps]
    assert positions == sorted(positions)
    assert [s.reason for s in steps if s.status == "fail"] == ["expired"]


def test_checker_requires_an_assertion(staff_client):
    response = staff_client.post(reverse("console:checker"), {"assertion": "  "})
    assert response.context["form"].errors["assertion"]
    assert response.context["steps"] is None


def test_audit_page_lists_and_filters(staff_client, staff_user):
    AuditEntry.objects.create(
        actor=staff_user, actor_username="operator", action=AuditEntry.SP_REGISTER, target="c1"
    )
    AuditEntry.objects.create(
        actor=staff_user, actor_username="operator", action=AuditEntry.CERT_EXPORT, target="c2"
    )
    body = staff_client.get(reverse("console:audit")).content.decode()
    assert "Registered service provider" in body and "Exported certificate" in body
    assert "operator" in body
    page = staff_client.get(reverse("console:audit"), {"action": "cert.export"}).context["page"]
    assert [e.target for e in page.object_list] == ["c2"]
