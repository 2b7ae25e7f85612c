"""Key material the keystore tests need beyond the session pairs: weak, refused and
odd keys, and certificates outside their validity period."""

from __future__ import annotations

import datetime as dt

import pytest
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448

from keystore import services
from tests import keys

UTC = dt.UTC


def certificate(private_key, common_name: str, *, not_before: dt.datetime, days: float = 365):
    """``keys.make_certificate`` starting at ``not_before``."""
    return keys.make_certificate(private_key, common_name, days=days, not_before=not_before)


def now() -> dt.datetime:
    return dt.datetime.now(UTC)


@pytest.fixture(scope="session")
def rsa1024_key() -> keys.KeyPair:
    return keys.rsa_pair(bits=1024, name="weak-client")


@pytest.fixture(scope="session")
def dsa_key() -> keys.KeyPair:
    key = dsa.generate_private_key(2048)
    return keys.KeyPair(key, keys.make_certificate(key, "dsa-client"), "none")


@pytest.fixture(scope="session")
def k256_key() -> keys.KeyPair:
    return keys.ec_pair(ec.SECP256K1, "ES256K", "k256-client")


@pytest.fixture(scope="session")
def p521_key() -> keys.KeyPair:
    return keys.ec_pair(ec.SECP521R1, "ES512", "p521-client")


@pytest.fixture(scope="session")
def ed448_key() -> keys.KeyPair:
    key = ed448.Ed448PrivateKey.generate()
    cert = certificate(key, "ed448-client", not_before=now() - dt.timedelta(days=1))
    return keys.KeyPair(key, cert, "EdDSA")


@pytest.fixture(scope="session")
def expired_key(rsa_key) -> keys.KeyPair:
    start = now() - dt.timedelta(days=30)
    cert = certificate(rsa_key.private_key, "expired-client", not_before=start, days=10)
    return keys.KeyPair(rsa_key.private_key, cert, "RS256")


@pytest.fixture(scope="session")
def future_key(rsa_key) -> keys.KeyPair:
    start = now() + dt.timedelta(days=10)
    cert = certificate(rsa_key.private_key, "future-client", not_before=start)
    return keys.KeyPair(rsa_key.private_key, cert, "RS256")


@pytest.fixture(scope="session")
def rsa_key_2() -> keys.KeyPair:
    return keys.rsa_pair(name="rsa-client-2")


@pytest.fixture(autouse=True)
def _fresh_key_cache():
    """Each test starts with an empty parsed-key cache at the default capacity."""
    services.clear_key_cache()
    services.set_key_cache_capacity(services.DEFAULT_KEY_CACHE_CAPACITY)
    yield
    services.clear_key_cache()
    services.set_key_cache_capacity(services.DEFAULT_KEY_CACHE_CAPACITY)
