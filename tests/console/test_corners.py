"""The console's corners (issue 15, items 5 and 6) and what the lists and the checker show.

The front page answers at ``/``; signing out stays on this server's pages; the favicon
exists; an import under an alias that is no client is refused until "import anyway";
the lists search by name, client ID and status; the checker shows the decoded header
and claims beside the steps, with each time claim as a date and relative to now.
"""

from __future__ import annotations

import datetime as dt
import html
import time

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from clientauth import registration
from console.models import AuditEntry
from console.templatetags.console_time import relative_text
from keystore import services
from keystore.models import Certificate
from tests import keys

pytestmark = pytest.mark.django_db


def _register(name: str, auth_method: str = "private_key_jwt"):
    provider, _ = registration.register_service_provider(
        name=name, callbacks=[], grant_types=["client_credentials"], auth_method=auth_method
    )
    return provider


# --- item 5: broken corners --------------------------------------------------------------


def test_the_front_page_links_discovery_jwks_and_the_console(client):
    response = client.get("/")
    assert response.status_code == 200
    body = response.content.decode()
    for link in ("/.well-known/openid-configuration", "/oauth2/jwks", "/console/"):
        assert f'href="{link}"' in body
    assert settings.AUTHSERVER_ISSUER in body
    assert 'class="brand" href="/"' in body


def test_the_favicon_is_served(client):
    icon = client.get("/favicon.ico")
    assert icon.status_code == 302
    svg = client.get(icon["Location"])
    assert svg.status_code == 200 and b"<svg" in b"".join(svg.streaming_content)
    assert 'rel="icon"' in client.get("/").content.decode()


def test_signing_out_stays_on_this_servers_pages(staff_client):
    response = staff_client.post(reverse("logout"))
    body = response.content.decode()
    assert response.status_code == 200
    assert "Signed out" in body and "quality time" not in body
    assert 'href="/accounts/login/?next=/console/"' in body
    assert staff_client.get(reverse("console:providers")).status_code == 302


# --- item 6: an alias that is no client --------------------------------------------------


def _import(client, alias, data, **extra):
    payload = {"alias": alias, "file": SimpleUploadedFile("c.pem", data), **extra}
    return client.post(reverse("console:certificate-import"), payload)


def test_an_alias_that_is_no_client_is_refused_until_import_anyway(
    staff_client, rsa_key, tmp_path, monkeypatch
):
    form = staff_client.get(reverse("console:certificate-import"))
    assert 'name="force"' not in form.content.decode()  # offered for such an alias only

    refused = _import(staff_client, "typo-client", rsa_key.cert_pem)
    assert refused.status_code == 200
    form = refused.context["form"]
    # import_cert's own line for the same file, minus its hint naming --force.
    (tmp_path / "c.pem").write_bytes(rsa_key.cert_pem)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(CommandError) as command:
        call_command("import_cert", "c.pem", "--alias", "typo-client")
    line = str(command.value)
    assert "--force" in line
    assert form.non_field_errors() == [line.rpartition(" (")[0]]
    assert form.errors["force"]
    assert 'name="force"' in refused.content.decode()
    assert "Imported" not in refused.content.decode()
    assert not Certificate.objects.exists() and not AuditEntry.objects.exists()

    forced = _import(staff_client, "typo-client", rsa_key.cert_pem, force="on")
    assert forced.status_code == 302
    assert Certificate.objects.get().alias == "typo-client"
    assert AuditEntry.objects.get().action == AuditEntry.CERT_IMPORT


def test_a_registered_clients_alias_needs_no_choice(staff_client, rsa_key):
    provider = _register("Known")
    form = staff_client.post(reverse("console:certificate-import"), {"alias": provider.client_id})
    assert 'name="force"' not in form.content.decode()
    response = _import(staff_client, provider.client_id, rsa_key.cert_pem)
    assert response.status_code == 302
    assert Certificate.objects.get().alias == provider.client_id


# --- item 7: search and filter -----------------------------------------------------------


def test_providers_search_by_name_or_client_id_and_filter_by_status(
    staff_client, rsa_key, expired_key
):
    alpha, beta, gamma = _register("Alpha Shop"), _register("Beta Batch"), _register("Gamma")
    services.import_certificate(alpha.client_id, rsa_key.cert_pem)
    services.import_certificate(
        beta.client_id, expired_key.cert_pem, now=expired_key.certificate.not_valid_before_utc
    )

    def shown(**query) -> list[str]:
        body = staff_client.get(reverse("console:providers"), query).content.decode()
        return [p.name for p in (alpha, beta, gamma) if f">{p.name}</a>" in body]

    assert shown() == ["Alpha Shop", "Beta Batch", "Gamma"]
    assert shown(q="shop") == ["Alpha Shop"]
    assert shown(q=beta.client_id[5:20]) == ["Beta Batch"]
    assert shown(status="valid") == ["Alpha Shop"]
    assert shown(status="expired") == ["Beta Batch"]
    assert shown(status="none") == ["Gamma"]
    assert shown(q="alpha", status="expired") == []
    assert (
        "No service provider matches"
        in staff_client.get(reverse("console:providers"), {"q": "zzz"}).content.decode()
    )


def test_certificates_search_by_alias_or_subject_and_filter_by_status(
    staff_client, rsa_key, ec_key
):
    provider = _register("Known")
    services.import_certificate(provider.client_id, rsa_key.cert_pem)
    services.import_certificate("orphan", ec_key.cert_pem)

    def shown(**query) -> list[str]:
        body = staff_client.get(reverse("console:certificates"), query).content.decode()
        return sorted(a for a in (provider.client_id, "orphan") if f'title="{a}"' in body)

    assert shown() == sorted([provider.client_id, "orphan"])
    assert shown(q="orph") == ["orphan"]
    assert shown(q="ec-client") == ["orphan"]  # the subject's CN
    assert shown(status="no_client") == ["orphan"]
    assert shown(status="valid") == sorted([provider.client_id, "orphan"])
    assert shown(status="expired") == []


def test_long_values_are_one_line_with_a_copy_button(staff_client, rsa_key):
    provider = _register("Known")
    services.import_certificate(provider.client_id, rsa_key.cert_pem)
    body = staff_client.get(reverse("console:certificates")).content.decode()
    thumbprint = Certificate.objects.get().thumbprint_sha256
    assert f'data-copy-value="{thumbprint}"' in body
    assert '<div class="table-wrap">' in body
    body = staff_client.get(reverse("console:providers")).content.decode()
    assert f'data-copy-value="{provider.client_id}"' in body


# --- item 7: the checker shows what the assertion says -----------------------------------


def test_the_checker_shows_header_claims_and_times_never_the_signature(staff_client, rsa_key):
    provider = _register("Checked")
    services.import_certificate(provider.client_id, rsa_key.cert_pem)
    now = time.time()
    claims = keys.claims_for(
        provider.client_id, now=now - 300, aud=settings.AUTHSERVER_ISSUER, lifetime=420
    )
    assertion = rsa_key.sign(claims)
    response = staff_client.post(reverse("console:checker"), {"assertion": assertion})
    body = html.unescape(response.content.decode())
    assert f'"sub": "{provider.client_id}"' in body and '"alg": "RS256"' in body
    decoded = body[body.index('<aside class="decoded"') : body.index("</aside>")]
    assert assertion.split(".")[2] not in decoded  # the signature (the form keeps the input)
    assert "Server now" in body
    iat = dt.datetime.fromtimestamp(claims["iat"], dt.UTC)
    assert f"{iat:%Y-%m-%d %H:%M:%S} UTC" in body
    assert "5 min ago" in body  # iat
    assert "in 2 min" in body  # exp
    assert response["Cache-Control"] == "no-store"


def test_an_assertion_that_does_not_decode_says_so(staff_client):
    response = staff_client.post(reverse("console:checker"), {"assertion": "not-a-jwt"})
    body = response.content.decode()
    assert 'id="not-decoded"' in body and 'id="decoded-claims"' not in body


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "now"),
        (45, "in 45 s"),
        (-45, "45 s ago"),
        (120, "in 2 min"),
        (119, "in 2 min"),
        (89, "in 1 min"),
        (-300, "5 min ago"),
        (7200, "in 2 h"),
        (-3 * 86400, "3 d ago"),
    ],
)
def test_relative_times(seconds, text):
    now = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
    assert relative_text(now + dt.timedelta(seconds=seconds), now) == text
