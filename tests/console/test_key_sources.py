"""Key sources in the console (issue 16, item 4): the service-provider form, the detail
page's keys and "Fetch now", and the checker and Failures page naming key refusals.

The form's three sources each registered; a JWK Set with a private key, a weak key, a
refused ``jwks_uri`` shown at its field with nothing written; an edit switching the
source audited once; the detail page's keys and fetch status; "Fetch now" for who may
change the client, refused to a viewer; the checker judging a JWK Set client's
assertion with its set, ``unknown_kid`` and ``jwks_fetch_failed`` in plain words. The
``jwks_uri`` is the loopback JWKS test server, allowed by ``jwks_settings`` only.
"""

from __future__ import annotations

import json
import time

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from clientauth import keysources, registration
from clientauth.jwk import thumbprint
from clientauth.models import AuthFailure, ClientJwks, ClientMetadata, ServiceProvider
from console.models import AuditEntry
from keystore import services
from tests import keys
from tests.clientauth.jwks_support import (  # noqa: F401 (fixtures)
    fresh_jwks,
    jwk_of,
    jwks_of,
    jwks_server,
    jwks_settings,
)
from tests.console.conftest import grant

pytestmark = pytest.mark.django_db

FORM = {
    "name": "Keyed App",
    "callbacks": "",
    "grant_types": ["client_credentials"],
    "auth_method": "private_key_jwt",
}


@pytest.fixture
def uri_settings(jwks_settings, fresh_jwks):  # noqa: F811
    return jwks_settings


def register(staff_client, **fields):
    return staff_client.post(reverse("console:provider-register"), {**FORM, **fields})


def nothing_written() -> bool:
    return not (
        ServiceProvider.objects.exists()
        or ClientMetadata.objects.exists()
        or ClientJwks.objects.exists()
        or AuditEntry.objects.exists()
    )


def keyed_client(**key_source):
    provider, _ = registration.register_service_provider(
        name="Keyed App",
        callbacks=[],
        grant_types=["client_credentials"],
        auth_method="private_key_jwt",
        **key_source,
    )
    return provider


# The form: each source.


def test_register_with_the_certificate_by_default(staff_client):
    response = register(staff_client)
    assert response.status_code == 302
    provider = ServiceProvider.objects.get()
    assert keysources.source_of(provider) == keysources.CERTIFICATE
    assert not ClientJwks.objects.exists()


def test_register_with_an_inline_jwks_pasted(staff_client, rsa_key):
    text = json.dumps(jwks_of(jwk_of(rsa_key, "k1", use="sig", alg="RS256")))
    response = register(staff_client, key_source="jwks", jwks=text, jwks_uri="ignored")
    assert response.status_code == 302
    provider = ServiceProvider.objects.get()
    report = keysources.current_keys(provider)
    assert report.source == keysources.JWKS
    assert [(k.kid, k.kty, k.alg, k.use) for k in report.keys] == [("k1", "RSA", "RS256", "sig")]
    assert provider.client_metadata.jwks_uri == ""
    entry = AuditEntry.objects.get(action=AuditEntry.SP_REGISTER)
    assert "jwks sha256" in entry.detail


def test_register_with_an_inline_jwks_uploaded(staff_client, rsa_key, ec_key):
    text = json.dumps(jwks_of(jwk_of(rsa_key, "r1"), jwk_of(ec_key, "e1")))
    upload = SimpleUploadedFile("jwks.json", text.encode(), "application/json")
    response = register(staff_client, key_source="jwks", jwks_file=upload)
    assert response.status_code == 302
    kids = [k.kid for k in keysources.current_keys(ServiceProvider.objects.get()).keys]
    assert kids == ["r1", "e1"]


def test_register_with_a_jwks_uri(staff_client, uri_settings, jwks_server):  # noqa: F811
    response = register(staff_client, key_source="jwks_uri", jwks_uri=jwks_server.url())
    assert response.status_code == 302
    provider = ServiceProvider.objects.get()
    assert provider.client_metadata.key_source == keysources.JWKS_URI
    assert provider.client_metadata.jwks_uri == jwks_server.url()
    assert jwks_server.count() == 0  # registering fetches nothing
    entry = AuditEntry.objects.get(action=AuditEntry.SP_REGISTER)
    assert entry.detail.endswith(f"; jwks_uri {jwks_server.url()}")


def test_the_form_offers_the_three_sources_and_a_file(staff_client):
    body = staff_client.get(reverse("console:provider-register")).content.decode()
    for value in ("certificate", "jwks", "jwks_uri"):
        assert f'name="key_source" value="{value}"' in body
    assert 'enctype="multipart/form-data"' in body and 'name="jwks_file"' in body


# Refused at the field, nothing written.


def errors_of(response, field: str) -> list[str]:
    assert response.status_code == 200
    return response.context["form"].errors.get(field, [])


def test_a_private_key_is_refused_at_the_field(staff_client, rsa_key):
    private = {**jwk_of(rsa_key, "k1"), "d": "AQAB", "p": "AQAB", "q": "AQAB"}
    response = register(staff_client, key_source="jwks", jwks=json.dumps(jwks_of(private)))
    (error,) = errors_of(response, "jwks")
    assert "private" in error and "\n" not in error
    assert error in response.content.decode().replace("&#x27;", "'")
    assert nothing_written()


def test_a_weak_key_is_refused_at_the_field(staff_client):
    weak = keys.rsa_pair(bits=1024, name="weak")
    response = register(
        staff_client, key_source="jwks", jwks=json.dumps(jwks_of(jwk_of(weak, "w")))
    )
    (error,) = errors_of(response, "jwks")
    assert "2048" in error
    assert nothing_written()


def test_a_weak_key_in_a_file_is_refused_at_the_file_field(staff_client):
    weak = keys.rsa_pair(bits=1024, name="weak")
    upload = SimpleUploadedFile("jwks.json", json.dumps(jwks_of(jwk_of(weak, "w"))).encode())
    response = register(staff_client, key_source="jwks", jwks_file=upload)
    assert "2048" in errors_of(response, "jwks_file")[0]
    assert nothing_written()


def test_duplicate_kids_and_invalid_json_are_refused(staff_client, rsa_key, ec_key):
    twice = jwks_of(jwk_of(rsa_key, "same"), jwk_of(ec_key, "same"))
    assert errors_of(register(staff_client, key_source="jwks", jwks=json.dumps(twice)), "jwks")
    assert errors_of(register(staff_client, key_source="jwks", jwks="{not json"), "jwks")
    assert errors_of(register(staff_client, key_source="jwks"), "jwks") == [
        "paste the JWK Set or choose a file holding it"
    ]
    assert nothing_written()


def test_a_refused_jwks_uri_is_shown_at_the_field(staff_client, jwks_server):  # noqa: F811
    # The default settings: https only, no loopback.
    (error,) = errors_of(
        register(staff_client, key_source="jwks_uri", jwks_uri=jwks_server.url()), "jwks_uri"
    )
    assert "https" in error
    https_loopback = jwks_server.url().replace("http://", "https://")
    (error,) = errors_of(
        register(staff_client, key_source="jwks_uri", jwks_uri=https_loopback), "jwks_uri"
    )
    assert "JWKS_URI_ALLOWED_HOSTS" in error
    assert errors_of(register(staff_client, key_source="jwks_uri"), "jwks_uri")
    assert nothing_written()


def test_a_jwk_set_needs_private_key_jwt(staff_client, rsa_key):
    text = json.dumps(jwks_of(jwk_of(rsa_key, "k1")))
    response = register(
        staff_client, key_source="jwks", jwks=text, auth_method="client_secret_basic"
    )
    assert errors_of(response, "key_source") == ["a JWK Set applies only to private_key_jwt"]
    assert nothing_written()


# Editing: a switch, audited once.


def edit(staff_client, provider, **fields):
    url = reverse("console:provider-edit", args=[provider.pk])
    return staff_client.post(url, {**FORM, **fields})


def key_source_lines(provider) -> list[str]:
    entries = AuditEntry.objects.filter(action=AuditEntry.SP_KEY_SOURCE, target=provider.client_id)
    return list(entries.order_by("id").values_list("detail", flat=True))


def test_a_switch_is_audited_once(
    staff_client,
    staff_user,
    uri_settings,
    jwks_server,  # noqa: F811
    rsa_key,
):
    provider = keyed_client()
    response = edit(staff_client, provider, key_source="jwks_uri", jwks_uri=jwks_server.url())
    assert response.status_code == 302
    provider.refresh_from_db()
    assert provider.client_metadata.key_source == keysources.JWKS_URI
    assert key_source_lines(provider) == [f"certificate -> jwks_uri; jwks_uri {jwks_server.url()}"]
    entry = AuditEntry.objects.get(action=AuditEntry.SP_KEY_SOURCE)
    assert entry.actor == staff_user and entry.channel == AuditEntry.CONSOLE
    # Only the key source changed: no "edited" line beside it.
    assert not AuditEntry.objects.filter(action=AuditEntry.SP_EDIT).exists()

    # The same again changes nothing: an edit line, no second switch.
    edit(staff_client, provider, key_source="jwks_uri", jwks_uri=jwks_server.url())
    assert len(key_source_lines(provider)) == 1
    assert AuditEntry.objects.filter(action=AuditEntry.SP_EDIT).count() == 1

    # A rename with a switch: one line each.
    text = json.dumps(jwks_of(jwk_of(rsa_key, "k1")))
    edit(staff_client, provider, name="Renamed", key_source="jwks", jwks=text)
    assert key_source_lines(provider)[1].startswith("jwks_uri -> jwks; jwks sha256 ")
    newest_edit = AuditEntry.objects.filter(action=AuditEntry.SP_EDIT).first()
    assert newest_edit.detail == "changed: name"
    assert AuditEntry.objects.filter(action=AuditEntry.SP_EDIT).count() == 2

    # The edit page shows the set; sent back as it is, nothing switches.
    form = staff_client.get(reverse("console:provider-edit", args=[provider.pk]))
    shown = form.context["form"].initial["jwks"]
    assert json.loads(shown)["keys"][0]["kid"] == "k1"
    edit(staff_client, provider, name="Renamed", key_source="jwks", jwks=shown)
    assert len(key_source_lines(provider)) == 2

    # A new set, same source: a change of keys, audited.
    text2 = json.dumps(jwks_of(jwk_of(rsa_key, "k1"), jwk_of(keys.ec_pair(), "k2")))
    edit(staff_client, provider, name="Renamed", key_source="jwks", jwks=text2)
    assert len(key_source_lines(provider)) == 3
    fresh = ServiceProvider.objects.get(pk=provider.pk)
    assert [k.kid for k in keysources.current_keys(fresh).keys] == ["k1", "k2"]

    # Back to the certificate: the stored set goes.
    edit(staff_client, provider, name="Renamed", key_source="certificate")
    assert key_source_lines(provider)[3].startswith("jwks -> certificate")
    assert not ClientJwks.objects.exists()


def test_an_edit_without_a_key_source_leaves_it(staff_client, rsa_key):
    provider = keyed_client(jwks=json.dumps(jwks_of(jwk_of(rsa_key, "k1"))))
    assert edit(staff_client, provider, name="Renamed").status_code == 302
    provider.refresh_from_db()
    assert keysources.source_of(provider) == keysources.JWKS
    assert key_source_lines(provider) == []


def test_a_refused_edit_changes_nothing(staff_client, rsa_key):
    provider = keyed_client(jwks=json.dumps(jwks_of(jwk_of(rsa_key, "k1"))))
    before = (ClientMetadata.objects.values_list().get(), ClientJwks.objects.values_list().get())
    private = {**jwk_of(rsa_key, "k2"), "d": "AQAB"}
    response = edit(
        staff_client, provider, name="Renamed", key_source="jwks", jwks=json.dumps(jwks_of(private))
    )
    assert "private" in errors_of(response, "jwks")[0]
    after = (ClientMetadata.objects.values_list().get(), ClientJwks.objects.values_list().get())
    assert after == before
    assert ServiceProvider.objects.get().name == "Keyed App"
    assert not AuditEntry.objects.exists()


# The detail page.


def detail(client, provider) -> str:
    response = client.get(reverse("console:provider-detail", args=[provider.pk]))
    assert response.status_code == 200
    return response.content.decode()


def test_detail_of_an_inline_jwks_client(staff_client, rsa_key, ec_key):
    provider = keyed_client(
        jwks=json.dumps(
            jwks_of(jwk_of(rsa_key, "r1", use="sig", alg="RS256"), jwk_of(ec_key, "e1"))
        )
    )
    services.import_certificate(provider.client_id, rsa_key.cert_pem)
    body = detail(staff_client, provider)
    assert "Inline JWK Set (jwks)" in body
    for kid in ("r1", "e1"):
        assert f'data-kid="{kid}"' in body
    assert thumbprint(jwk_of(rsa_key, None)) in body and thumbprint(jwk_of(ec_key, None)) in body
    assert "<td>RS256</td>" in body and "<td>sig</td>" in body and "<td>EC</td>" in body
    # The certificate is there, and the page says it is not used.
    assert 'id="certificate-not-used"' in body and "is ignored" in body
    assert "Fetch now" not in body  # nothing to fetch for an inline set


def test_detail_of_a_jwks_uri_client(
    staff_client,
    uri_settings,
    jwks_server,  # noqa: F811
    rsa_key,
):
    provider = keyed_client(jwks_uri=jwks_server.url())
    body = detail(staff_client, provider)
    assert jwks_server.url() in body and "Not fetched yet" in body
    assert jwks_server.count() == 0  # the page never fetches
    assert 'id="certificate-not-used"' in body
    assert "so its assertions cannot be verified" not in body

    jwks_server.publish(jwk_of(rsa_key, "k1", use="sig"), max_age=60)
    keysources.fetch_now(provider)
    body = detail(staff_client, provider)
    assert 'data-kid="k1"' in body and thumbprint(jwk_of(rsa_key, None)) in body
    for part in ('id="fetched-at"', 'id="fresh-until"', 'id="usable-until"', ">Fresh<"):
        assert part in body
    assert 'id="last-fetch-error"><span class="muted">None' in body

    # The server fails: the keys stay, with the error.
    jwks_server.routes["/jwks"].status = 500
    keysources.fetch_now(provider)
    body = detail(staff_client, provider)
    assert 'data-kid="k1"' in body
    assert "500" in body.split('id="last-fetch-error"')[1].split("</dd>")[0]


def test_detail_of_a_certificate_client_says_where_its_key_is(staff_client, rsa_key):
    provider = keyed_client()
    body = detail(staff_client, provider)
    assert "Keystore certificate imported under the client ID" in body
    assert 'id="certificate-not-used"' not in body and 'id="key-list"' not in body


# Fetch now.


@pytest.fixture
def viewer(django_user_model):
    user = django_user_model.objects.create_user("viewer", password="x", is_staff=True)
    client = Client()
    client.force_login(grant(user, ("view", ServiceProvider)))
    return client


def test_fetch_now(staff_client, viewer, uri_settings, jwks_server, rsa_key):  # noqa: F811
    provider = keyed_client(jwks_uri=jwks_server.url())
    jwks_server.publish(jwk_of(rsa_key, "k1"), max_age=60)
    url = reverse("console:provider-fetch-keys", args=[provider.pk])

    # A viewer sees the keys but no button, and is refused the POST: nothing fetched.
    assert 'id="fetch-now"' not in detail(viewer, provider)
    assert viewer.post(url).status_code == 403
    assert jwks_server.count() == 0

    assert 'id="fetch-now"' in detail(staff_client, provider)
    assert staff_client.get(url).status_code == 405
    response = staff_client.post(url, follow=True)
    assert response.redirect_chain[-1][0].endswith(f"/providers/{provider.pk}/#keys")
    assert jwks_server.count() == 1
    body = response.content.decode()
    assert f"Fetched 1 key from {jwks_server.url()}." in body
    assert 'data-kid="k1"' in body

    # Fetch now ignores the cache's freshness; a failure keeps the keys and says so.
    jwks_server.routes["/jwks"].status = 503
    body = staff_client.post(url, follow=True).content.decode()
    assert jwks_server.count() == 2
    assert "The fetch failed" in body and "stay in use until" in body
    assert not AuditEntry.objects.exists()  # a fetch changes no setting


def test_fetch_now_needs_csrf(staff_user, uri_settings, jwks_server):  # noqa: F811
    provider = keyed_client(jwks_uri=jwks_server.url())
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff_user)
    assert (
        client.post(reverse("console:provider-fetch-keys", args=[provider.pk])).status_code == 403
    )
    assert jwks_server.count() == 0


def test_fetch_now_for_another_source(staff_client):
    provider = keyed_client()
    url = reverse("console:provider-fetch-keys", args=[provider.pk])
    body = staff_client.post(url, follow=True).content.decode()
    assert "Not fetched: the client&#x27;s key source is not a jwks_uri." in body


# The checker and the Failures page.


def check(staff_client, assertion):
    response = staff_client.post(reverse("console:checker"), {"assertion": assertion})
    return response, [s for s in response.context["steps"] if s.status == "fail"]


def test_checker_judges_with_the_jwk_set(staff_client, rsa_key, attacker_key):
    provider = keyed_client(jwks=json.dumps(jwks_of(jwk_of(rsa_key, "k1"))))
    # A certificate under the client ID is not the client's key any more.
    services.import_certificate(provider.client_id, attacker_key.cert_pem)
    claims = keys.claims_for(provider.client_id, now=time.time(), aud=settings.AUTHSERVER_ISSUER)

    _, failed = check(staff_client, rsa_key.sign(claims, headers={"kid": "k1"}))
    assert failed == []
    _, failed = check(staff_client, attacker_key.sign(claims))
    assert [s.reason for s in failed] == ["bad_signature"]

    response, failed = check(staff_client, rsa_key.sign(claims, headers={"kid": "k9"}))
    assert [(s.name, s.reason) for s in failed] == [("signature", "unknown_kid")]
    body = response.content.decode()
    assert "<code>unknown_kid</code>" in body and "Unknown key ID" in body


def test_checker_names_a_failed_fetch(
    staff_client,
    uri_settings,
    jwks_server,  # noqa: F811
    rsa_key,
):
    provider = keyed_client(jwks_uri=jwks_server.url())
    # Nothing published: the server answers 404.
    claims = keys.claims_for(provider.client_id, now=time.time(), aud=settings.AUTHSERVER_ISSUER)
    response, failed = check(staff_client, rsa_key.sign(claims, headers={"kid": "k1"}))
    assert [s.reason for s in failed] == ["jwks_fetch_failed"]
    assert "404" in failed[0].detail
    assert "gave no usable keys" in response.content.decode()
    # The token endpoint's rules: one fetch now, none again within the interval.
    assert jwks_server.count() == 1
    check(staff_client, rsa_key.sign(claims, headers={"kid": "k1"}))
    assert jwks_server.count() == 1

    # Published, and fetched now by the operator: the checker accepts.
    jwks_server.publish(jwk_of(rsa_key, "k1"))
    keysources.fetch_now(provider)
    assert check(staff_client, rsa_key.sign(claims, headers={"kid": "k1"}))[1] == []


def test_failures_page_names_key_refusals_in_plain_words(staff_client):
    for reason in ("unknown_kid", "jwks_fetch_failed", "kid_required", "key_not_usable"):
        AuthFailure.objects.create(client_id="c", reason=reason, created_at=timezone.now())
    body = staff_client.get(reverse("console:failures")).content.decode()
    assert "Unknown key ID" in body
    assert "gave no usable keys" in body
    assert "must put a kid in the header" in body
    assert "not for signatures" in body


def test_detail_of_a_set_refused_under_newer_rules(staff_client, rsa_key, monkeypatch):
    from clientauth import jwk, jwks_cache

    provider = keyed_client(jwks=json.dumps(jwks_of(jwk_of(rsa_key, "k1"))))
    jwks_cache.clear()

    def refuse(text):
        raise jwk.JwksError("key 'k1': RSA keys must have at least 4096 bits")

    monkeypatch.setattr(jwk, "parse_jwks", refuse)
    body = detail(staff_client, provider)
    assert "Refused now: key &#x27;k1&#x27;: RSA keys must have at least 4096 bits." in body
