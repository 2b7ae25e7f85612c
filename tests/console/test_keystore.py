"""Keystore pages: import (PEM, DER, PKCS#12, JKS), refusals, list, detail, export, delete."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from clientauth import registration
from console.models import AuditEntry
from keystore import services
from keystore.models import Certificate
from tests.console.conftest import STORE_PASSWORD, client_with_id, jks_bytes, p12_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def known_aliases(db):
    """The aliases these tests import under are registered clients' IDs, so the import
    is judged on the file (an alias that is no client: ``test_unknown_alias_*``)."""
    return [client_with_id(alias) for alias in ("client-1", "a")]


IMPORT = reverse("console:certificate-import")


def _upload(client, alias, data, name="client.pem", **fields):
    payload = {"alias": alias, "file": SimpleUploadedFile(name, data), **fields}
    return client.post(IMPORT, payload)


def _command_line(tmp_path, monkeypatch, name, data, *args) -> str:
    """The one line ``manage.py import_cert`` prints for the same file name and data."""
    (tmp_path / name).write_bytes(data)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(CommandError) as refused:
        call_command("import_cert", name, *args)
    return str(refused.value)


def _without_option_hint(line: str) -> str:
    """import_cert's line minus the "(... --option ...)" hint that names a CLI option."""
    head, _, hint = line.rpartition(" (")
    return head if head and "--" in hint else line


@pytest.mark.parametrize("kind", ["pem", "der", "p12", "jks"])
def test_import_every_format(staff_client, rsa_key, kind):
    data = {
        "pem": rsa_key.cert_pem,
        "der": rsa_key.cert_der,
        "p12": p12_bytes(rsa_key),
        "jks": jks_bytes(rsa_key),
    }[kind]
    password = STORE_PASSWORD if kind in ("p12", "jks") else ""
    response = _upload(staff_client, "client-1", data, name=f"c.{kind}", password=password)
    certificate = Certificate.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("console:certificate-detail", args=[certificate.pk])
    assert certificate.alias == "client-1"
    assert "PRIVATE KEY" not in certificate.pem
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.target) == (AuditEntry.CERT_IMPORT, "client-1")


def test_refused_import_shows_the_import_cert_line_and_writes_nothing(
    staff_client, expired_key, tmp_path, monkeypatch
):
    data = expired_key.cert_pem
    expected = _command_line(tmp_path, monkeypatch, "expired.pem", data, "--alias", "client-1")
    response = _upload(staff_client, "client-1", data, name="expired.pem")
    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [expected]
    assert expected in response.content.decode().replace("&#x27;", "'")
    assert "\n" not in expected
    assert not Certificate.objects.exists()
    assert not AuditEntry.objects.exists()


def test_wrong_password_is_the_import_cert_line(staff_client, rsa_key, tmp_path, monkeypatch):
    data = p12_bytes(rsa_key)
    expected = _command_line(
        tmp_path, monkeypatch, "c.p12", data, "--alias", "a", "--storepass", "wrong"
    )
    response = _upload(staff_client, "a", data, name="c.p12", password="wrong")
    form = response.context["form"]
    assert form.non_field_errors() == [_without_option_hint(expected)]
    assert form.errors["password"]
    assert not Certificate.objects.exists()


def test_not_a_certificate_is_refused(staff_client):
    response = _upload(staff_client, "a", b"hello", name="junk.txt")
    assert response.status_code == 200
    assert response.context["form"].non_field_errors()[0].startswith("junk.txt: ")
    assert not Certificate.objects.exists()


def test_existing_alias_needs_replace(staff_client, rsa_key, ec_key):
    services.import_certificate("a", rsa_key.cert_pem)
    refused = _upload(staff_client, "a", ec_key.cert_pem)
    assert refused.status_code == 200
    assert refused.context["form"].errors["replace"]
    assert Certificate.objects.get().key_type == "RSA"

    replaced = _upload(staff_client, "a", ec_key.cert_pem, replace="on")
    assert replaced.status_code == 302
    assert Certificate.objects.get().key_type == "EC"
    assert AuditEntry.objects.get().action == AuditEntry.CERT_REPLACE


def test_list_statuses(staff_client, rsa_key, ec_key, expiring_key):
    provider, _ = registration.register_service_provider(
        name="App", callbacks=[], grant_types=["client_credentials"], auth_method="private_key_jwt"
    )
    services.import_certificate(provider.client_id, rsa_key.cert_pem)
    services.import_certificate("orphan", ec_key.cert_pem)
    soon = services.import_certificate("soon", expiring_key.cert_pem)
    expired = services.import_certificate("old", rsa_key.cert_pem)
    Certificate.objects.filter(pk=expired.pk).update(
        not_after=timezone.now() - dt.timedelta(days=1)
    )
    rows = staff_client.get(reverse("console:certificates")).context["rows"]
    statuses = {r["certificate"].alias: r["status"] for r in rows}
    assert statuses[provider.client_id].validity == "valid"
    assert statuses[provider.client_id].has_client
    assert not statuses["orphan"].has_client
    assert statuses["soon"].validity == "expiring"
    assert statuses["old"].validity == "expired"
    body = staff_client.get(reverse("console:certificates")).content.decode()
    for text in ("Valid", "Expiring within 30 days", "Expired", "No such client", soon.subject):
        assert text in body


def test_detail_and_export(staff_client, rsa_key):
    certificate = services.import_certificate("client-1", rsa_key.cert_pem)
    body = staff_client.get(reverse("console:certificate-detail", args=[certificate.pk]))
    body = body.content.decode()
    for fact in (certificate.subject, certificate.serial, certificate.thumbprint_sha256):
        assert fact in body

    response = staff_client.get(reverse("console:certificate-export", args=[certificate.pk]))
    assert response.status_code == 200
    assert response.content.decode() == services.export_pem("client-1")
    assert response["Content-Disposition"] == 'attachment; filename="client-1.pem"'
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.target) == (AuditEntry.CERT_EXPORT, "client-1")


def test_delete_asks_then_deletes(staff_client, rsa_key):
    certificate = services.import_certificate("client-1", rsa_key.cert_pem)
    url = reverse("console:certificate-delete", args=[certificate.pk])
    assert staff_client.get(url).status_code == 200
    assert Certificate.objects.exists()
    response = staff_client.post(url)
    assert response.status_code == 302
    assert not Certificate.objects.exists()
    assert AuditEntry.objects.get().action == AuditEntry.CERT_DELETE
    assert (
        staff_client.get(reverse("console:certificate-detail", args=[certificate.pk])).status_code
        == 404
    )
