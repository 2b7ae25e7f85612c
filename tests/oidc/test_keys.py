"""oidc.keys: first-use creation, rotation, publication window, the key file."""

from __future__ import annotations

import datetime as dt

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from django.core.exceptions import ImproperlyConfigured

from oidc import keys
from oidc.models import SigningKey

NOW = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)


def pem(key) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


@pytest.mark.django_db
def test_first_use_creates_one_active_key():
    first = keys.active_key(NOW)
    second = keys.active_key(NOW)
    assert first.kid == second.kid
    assert SigningKey.objects.filter(active=True).count() == 1


@pytest.mark.django_db
def test_database_refuses_a_second_active_key():
    keys.active_key(NOW)
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        SigningKey.objects.create(kid="other", private_key_pem="x", created_at=NOW, active=True)


@pytest.mark.django_db
def test_rotation_switches_at_once_and_keeps_old_key_published(settings):
    old = keys.active_key(NOW)
    new_row = keys.rotate(NOW)
    assert keys.active_key(NOW).kid == new_row.kid != old.kid
    published = [k.kid for k in keys.published_keys(NOW)]
    assert published == [new_row.kid, old.kid]


@pytest.mark.django_db
def test_retired_key_leaves_jwks_once_its_tokens_expired():
    from oauth2_provider.settings import oauth2_settings

    lifetime = dt.timedelta(seconds=oauth2_settings.ID_TOKEN_EXPIRE_SECONDS)
    old = keys.active_key(NOW)
    keys.rotate(NOW)
    assert old.kid in [k.kid for k in keys.published_keys(NOW + lifetime)]
    assert old.kid not in [k.kid for k in keys.published_keys(NOW + lifetime + dt.timedelta(1))]


@pytest.mark.django_db
def test_rotate_prunes_keys_past_the_window():
    old = keys.active_key(NOW)
    keys.rotate(NOW)
    keys.rotate(NOW + dt.timedelta(days=2))
    assert not SigningKey.objects.filter(kid=old.kid).exists()


def test_key_file_is_used_and_rotation_refused(tmp_path, settings):
    path = tmp_path / "signing.pem"
    path.write_bytes(pem(rsa.generate_private_key(public_exponent=65537, key_size=2048)))
    settings.AUTHSERVER_SIGNING_KEY_FILE = str(path)
    key = keys.active_key()
    assert [k.kid for k in keys.published_keys()] == [key.kid]
    with pytest.raises(keys.SigningKeyFileInUse):
        keys.rotate()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"not a key", "not an unencrypted PEM private key"),
        (pem(ec.generate_private_key(ec.SECP256R1())), "must be an RSA private key"),
        (pem(rsa.generate_private_key(public_exponent=65537, key_size=1024)), "1024-bit"),
    ],
)
def test_unusable_key_file_is_refused(tmp_path, content, message):
    path = tmp_path / "bad.pem"
    path.write_bytes(content)
    with pytest.raises(ImproperlyConfigured, match=message):
        keys.load_key_file(str(path))


def test_missing_key_file_is_refused(tmp_path):
    with pytest.raises(ImproperlyConfigured, match="cannot be read"):
        keys.load_key_file(str(tmp_path / "absent.pem"))


def test_public_jwk_has_kid_alg_use_and_no_private_parts():
    key = keys.parse_private_key(keys.generate_pem().encode())
    public = key.public_jwk()
    assert public["kid"] == key.kid
    assert (public["alg"], public["use"], public["kty"]) == ("RS256", "sig", "RSA")
    assert not {"d", "p", "q", "dp", "dq", "qi"} & public.keys()
