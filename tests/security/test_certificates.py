"""Hostile certificate files (RFC 5280, RFC 7468, RFC 7292; CONTRACT.md ``import_cert``:
only the certificate is kept, never a private key; refused files write nothing).

Everything goes through ``keystore.services.import_certificate``, the one import path
of the command and the console, and one case through ``manage.py import_cert`` itself.
"""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import serialization
from django.core.management import CommandError, call_command

from keystore import errors
from keystore.models import Certificate
from keystore.services import import_certificate
from tests import keys

ALIAS = "sec-cert-client"


def refused(data: bytes, error: type[errors.KeystoreError], **kwargs) -> errors.KeystoreError:
    with pytest.raises(error) as caught:
        import_certificate(ALIAS, data, **kwargs)
    assert Certificate.objects.count() == 0
    assert "\n" not in str(caught.value)
    return caught.value


def stored_pem() -> str:
    (pem,) = Certificate.objects.values_list("pem", flat=True)
    return pem


def assert_only_certificate(pair: keys.KeyPair) -> None:
    pem = stored_pem()
    assert "PRIVATE KEY" not in pem
    assert pem.count("BEGIN CERTIFICATE") == 1
    assert pem.encode() == pair.cert_pem


def private_pem(pair, password: bytes | None = None, fmt=serialization.PrivateFormat.PKCS8):
    encryption = (
        serialization.BestAvailableEncryption(password)
        if password
        else serialization.NoEncryption()
    )
    return pair.private_key.private_bytes(serialization.Encoding.PEM, fmt, encryption)


@pytest.mark.django_db
class TestRefused:
    @pytest.mark.parametrize(
        "data",
        [
            b"\x00",
            b"garbage" * 100,
            b"\xff" * 4096,
            b"-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n",
            b"-----BEGIN CERTIFICATE-----\n",
            b"\x30\x82\xff\xff",
            b"\x30\x84\xff\xff\xff\xff",
            b"\x30\x85\x01\x00\x00\x00\x00",
            b"\x30\x80\x30\x00",
            b"\xfe\xed\xfe\xed",
        ],
        ids=repr,
    )
    def test_garbage(self, data):
        refused(data, errors.KeystoreError)

    def test_pfx_shaped_garbage(self):
        """SEQUENCE { INTEGER 3 } looks like PKCS#12; without a password it cannot be read."""
        refused(b"\x30\x03\x02\x01\x03", errors.WrongPassword)
        refused(b"\x30\x03\x02\x01\x03", errors.WrongPassword, password="x")

    @pytest.mark.parametrize("data", [b"", b"   \n\t "])
    def test_empty(self, data):
        refused(data, errors.NotACertificate)

    def test_truncated_pem(self, rsa_key):
        pem = rsa_key.cert_pem
        refused(pem[: len(pem) // 2], errors.NotACertificate)
        refused(pem.replace(b"-----END CERTIFICATE-----", b""), errors.NotACertificate)

    @pytest.mark.parametrize("cut", [1, 10, 100])
    def test_truncated_der(self, rsa_key, cut):
        refused(rsa_key.cert_der[:-cut], errors.NotACertificate)

    def test_der_with_trailing_data(self, rsa_key):
        refused(rsa_key.cert_der + b"\x00trailing", errors.NotACertificate)

    def test_broken_inner_tag_in_der(self, rsa_key):
        der = bytearray(rsa_key.cert_der)
        der[4] = 0x04  # tbsCertificate's SEQUENCE tag made an OCTET STRING
        refused(bytes(der), errors.NotACertificate)

    @pytest.mark.parametrize(
        "fmt", [serialization.PrivateFormat.PKCS8, serialization.PrivateFormat.TraditionalOpenSSL]
    )
    def test_private_key_alone(self, rsa_key, fmt):
        error = refused(private_pem(rsa_key, fmt=fmt), errors.NotACertificate)
        assert str(error) == "the PEM file holds a private key but no certificate"

    def test_encrypted_private_key_alone(self, ec_key):
        refused(private_pem(ec_key, b"pw"), errors.NotACertificate)

    def test_private_key_in_der(self, rsa_key):
        """PKCS#8 DER opens with SEQUENCE { INTEGER 0 ...}, like a PFX: refused either way."""
        der = rsa_key.private_key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        refused(der, errors.KeystoreError)
        refused(der, errors.KeystoreError, password="x")

    def test_public_key_instead_of_certificate(self, rsa_key):
        public = rsa_key.private_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        refused(public, errors.NotACertificate)

    def test_oversized_file(self, rsa_key):
        refused(rsa_key.cert_pem + b"\n" * (1024 * 1024), errors.FileTooLarge)

    def test_weak_rsa_key(self):
        refused(keys.rsa_pair(bits=1024).cert_pem, errors.KeyTooSmall)

    def test_pkcs12_with_wrong_password(self, rsa_key):
        data = keys.pkcs12_bytes(rsa_key, "right")
        refused(data, errors.WrongPassword, password="wrong")

    def test_truncated_pkcs12(self, rsa_key):
        data = keys.pkcs12_bytes(rsa_key, "pw")
        with pytest.raises(errors.KeystoreError):
            import_certificate(ALIAS, data[: len(data) // 2], password="pw")
        assert Certificate.objects.count() == 0

    def test_truncated_jks(self, rsa_key):
        data = keys.jks_bytes("storepass", ("client", rsa_key))
        with pytest.raises(errors.KeystoreError):
            import_certificate(ALIAS, data[: len(data) // 2], password="storepass")
        assert Certificate.objects.count() == 0

    def test_command_refuses_a_private_key_file(self, rsa_key, tmp_path):
        path = tmp_path / "key.pem"
        path.write_bytes(private_pem(rsa_key))
        with pytest.raises(CommandError) as caught:
            call_command("import_cert", "--alias", ALIAS, "--force", str(path))
        assert "private key" in str(caught.value)
        assert Certificate.objects.count() == 0


@pytest.mark.django_db
class TestPrivateKeyDropped:
    def test_pem_certificate_next_to_its_key(self, rsa_key):
        import_certificate(ALIAS, private_pem(rsa_key) + rsa_key.cert_pem)
        assert_only_certificate(rsa_key)

    def test_pem_key_after_certificate(self, ec_key):
        import_certificate(ALIAS, ec_key.cert_pem + private_pem(ec_key, b"pw"))
        assert_only_certificate(ec_key)

    def test_pkcs12_with_its_key(self, rsa_key):
        import_certificate(ALIAS, keys.pkcs12_bytes(rsa_key, "pw"), password="pw")
        assert_only_certificate(rsa_key)

    def test_jks_with_a_private_key_entry(self, rsa_key):
        data = keys.jks_bytes("storepass", ("client", rsa_key))
        import_certificate(ALIAS, data, password="storepass")
        assert_only_certificate(rsa_key)

    def test_no_column_holds_key_material(self, rsa_key):
        import_certificate(ALIAS, private_pem(rsa_key) + rsa_key.cert_pem)
        row = Certificate.objects.values().get()
        secret = private_pem(rsa_key).decode()
        body = "".join(secret.splitlines()[1:-1])
        for value in row.values():
            if isinstance(value, str):
                assert "PRIVATE KEY" not in value
                assert body[:64] not in value.replace("\n", "")
