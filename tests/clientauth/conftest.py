"""Fixtures of the client-authentication tests."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from keystore.services import clear_key_cache
from tests.clientauth.jwks_support import fresh_jwks, jwks_server, jwks_settings  # noqa: F401
from tests.clientauth.support import register


@pytest.fixture
def fresh_caches():
    """No used jti and no parsed key left over from another test."""
    cache.clear()
    clear_key_cache()
    yield
    cache.clear()


@pytest.fixture
def pk_client(rsa_key):
    """A private_key_jwt client whose certificate is ``rsa_key``'s."""
    sp, _ = register(cert=rsa_key)
    return sp
