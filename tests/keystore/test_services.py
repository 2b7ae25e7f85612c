"""keystore.services: atomic imports, lookups, and verification_keys as the token
path sees it (fresh from the database on every call, parsed once per process)."""

from __future__ import annotations

import datetime as dt
import logging

import pytest
from cryptography.hazmat.primitives import serialization

from keystore import errors, services
from keystore.checks import check_certificate_expiry, log_expiry_warnings
from keystore.models import Certificate

pytestmark = pytest.mark.django_db


def spki(key) -> bytes:
    return key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def rows() -> list[tuple]:
    return list(Certificate.objects.values_list("alias", "thumbprint_sha256", "pem"))


def test_import_stores_the_facts(rsa_key):
    certificate = services.import_certificate("client-1", rsa_key.cert_der)
    stored = Certificate.objects.get(alias="client-1")
    assert stored.pk == certificate.pk
    assert stored.pem == rsa_key.cert_pem.decode()
    assert (stored.key_type, stored.key_size, stored.subject) == ("RSA", 2048, "CN=rsa-client")
    assert stored.not_after == rsa_key.certificate.not_valid_after_utc
    assert services.get_certificate("client-1") == stored
    assert services.export_pem("client-1") == rsa_key.cert_pem.decode()
    assert list(services.list_certificates()) == [stored]


def test_alias_exists_without_replace_changes_nothing(rsa_key, ec_key):
    services.import_certificate("client-1", rsa_key.cert_pem)
    before = rows()
    with pytest.raises(errors.AliasExists):
        services.import_certificate("client-1", ec_key.cert_pem)
    assert rows() == before


def test_replace(rsa_key, ec_key):
    services.import_certificate("client-1", rsa_key.cert_pem)
    services.import_certificate("client-1", ec_key.cert_pem, replace=True)
    assert Certificate.objects.get().key_type == "EC"


def test_replace_creates_when_absent(ec_key):
    services.import_certificate("client-1", ec_key.cert_pem, replace=True)
    assert Certificate.objects.count() == 1


def test_refused_file_writes_nothing(rsa_key, expired_key):
    services.import_certificate("client-1", rsa_key.cert_pem)
    before = rows()
    with pytest.raises(errors.CertificateExpired):
        services.import_certificate("client-1", expired_key.cert_pem, replace=True)
    with pytest.raises(errors.NotACertificate):
        services.import_certificate("client-2", b"garbage")
    assert rows() == before


@pytest.mark.parametrize("alias", ["", "   ", " padded", "tab\there", "x" * 256])
def test_invalid_alias(rsa_key, alias):
    with pytest.raises(errors.InvalidAlias):
        services.import_certificate(alias, rsa_key.cert_pem)
    assert not Certificate.objects.exists()


def test_unknown_alias():
    for call in (services.get_certificate, services.export_pem, services.delete_certificate):
        with pytest.raises(errors.UnknownAlias):
            call("nobody")


def test_delete(rsa_key):
    services.import_certificate("client-1", rsa_key.cert_pem)
    services.delete_certificate("client-1")
    assert not Certificate.objects.exists()


# --- verification_keys -------------------------------------------------------------


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def test_verification_keys(rsa_key):
    services.import_certificate("client-1", rsa_key.cert_pem)
    [key] = services.verification_keys("client-1", now())
    assert spki(key) == spki(rsa_key.private_key.public_key())
    assert services.verification_keys("client-2", now()) == []


def test_verification_keys_sees_a_delete_at_once(rsa_key):
    services.import_certificate("client-1", rsa_key.cert_pem)
    assert services.verification_keys("client-1", now())
    # As another server process would: straight in the database, not through this cache.
    Certificate.objects.filter(alias="client-1").delete()
    assert services.verification_keys("client-1", now()) == []


def test_verification_keys_sees_a_replace_at_once(rsa_key, rsa_key_2):
    services.import_certificate("client-1", rsa_key.cert_pem)
    services.verification_keys("client-1", now())
    services.import_certificate("client-1", rsa_key_2.cert_pem, replace=True)
    [key] = services.verification_keys("client-1", now())
    assert spki(key) == spki(rsa_key_2.private_key.public_key())


def test_verification_keys_only_while_valid(rsa_key):
    services.import_certificate("client-1", rsa_key.cert_pem)
    cert = rsa_key.certificate
    after = cert.not_valid_after_utc
    before = cert.not_valid_before_utc
    assert services.verification_keys("client-1", after - dt.timedelta(microseconds=1))
    assert services.verification_keys("client-1", after) == []
    assert services.verification_keys("client-1", before)
    assert services.verification_keys("client-1", before - dt.timedelta(seconds=1)) == []


@pytest.fixture
def pem_parses(monkeypatch):
    """How many certificates ``verification_keys`` has parsed (cache misses)."""
    parsed = []
    load = services.x509.load_pem_x509_certificate

    def counting(data, *args, **kwargs):
        parsed.append(data)
        return load(data, *args, **kwargs)

    monkeypatch.setattr(services.x509, "load_pem_x509_certificate", counting)
    return parsed


def test_verification_keys_parses_once(rsa_key, pem_parses):
    services.import_certificate("client-1", rsa_key.cert_pem)
    services.verification_keys("client-1", now())
    assert len(pem_parses) == 1
    [key] = services.verification_keys("client-1", now())
    assert len(pem_parses) == 1  # the second call found the parsed key
    assert spki(key) == spki(rsa_key.private_key.public_key())


def test_key_cache_is_bounded(rsa_key, ec_key, pem_parses):
    services.import_certificate("a", rsa_key.cert_pem)
    services.import_certificate("b", ec_key.cert_pem)
    services.set_key_cache_capacity(1)
    services.verification_keys("a", now())
    services.verification_keys("b", now())  # evicts a
    assert len(pem_parses) == 2
    services.verification_keys("b", now())
    assert len(pem_parses) == 2
    services.verification_keys("a", now())
    assert len(pem_parses) == 3


def test_key_cache_capacity_zero_parses_every_time(rsa_key, pem_parses):
    services.import_certificate("a", rsa_key.cert_pem)
    services.set_key_cache_capacity(0)
    for parses in (1, 2):
        assert services.verification_keys("a", now())
        assert len(pem_parses) == parses
    with pytest.raises(ValueError):
        services.set_key_cache_capacity(-1)


# --- keystore.W001 / W002 ------------------------------------------------------------


def test_expiry_checks(rsa_key, ec_key, ed_key):
    services.import_certificate("far", rsa_key.cert_pem)
    services.import_certificate("soon", ec_key.cert_pem)
    services.import_certificate("gone", ed_key.cert_pem)
    at = now()
    Certificate.objects.filter(alias="soon").update(not_after=at + dt.timedelta(days=29))
    Certificate.objects.filter(alias="gone").update(not_after=at - dt.timedelta(seconds=1))
    found = {
        (m.id, m.msg.split("'")[1]) for m in check_certificate_expiry(databases=["default"], now=at)
    }
    assert found == {("keystore.W001", "soon"), ("keystore.W002", "gone")}
    # A database check: silent unless Django asks for database checks.
    assert check_certificate_expiry(now=at) == []
    assert services.verification_keys("gone", at) == []


def test_expiry_check_is_registered():
    from django.core.checks import registry

    assert check_certificate_expiry in registry.registry.get_checks()
    assert tuple(check_certificate_expiry.tags) == ("database",)


def test_expiry_warnings_are_logged_once_at_start(rsa_key, caplog):
    services.import_certificate("soon", rsa_key.cert_pem)
    Certificate.objects.filter(alias="soon").update(not_after=now() + dt.timedelta(days=3))
    with caplog.at_level(logging.WARNING, logger="keystore"):
        log_expiry_warnings()
    [record] = [r for r in caplog.records if r.name == "keystore"]
    assert record.getMessage().startswith("keystore.W001: Certificate 'soon' expires on ")
