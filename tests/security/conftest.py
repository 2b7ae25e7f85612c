"""Fixtures of the hostile-input corpus: registered private_key_jwt clients and a clock.

Clients are registered as an operator would: a ``ServiceProvider`` for
``private_key_jwt`` with its certificate imported under its client ID through
``keystore.services.import_certificate``. Key pairs come from the session fixtures of
``tests/conftest.py``; nothing here is committed key material.
"""

from __future__ import annotations

import time

import pytest
from django.conf import settings as django_settings

from clientauth.constants import PRIVATE_KEY_JWT
from clientauth.models import ServiceProvider
from keystore.services import clear_key_cache, import_certificate
from tests import keys
from tests.clientauth.jwks_support import fresh_jwks, jwks_server, jwks_settings  # noqa: F401
from tests.clients import create_application


def register(
    client_id: str,
    pair: keys.KeyPair | None,
    *,
    signing_alg: str = "",
    auth_method: str = PRIVATE_KEY_JWT,
) -> ServiceProvider:
    provider = create_application(
        client_id=client_id,
        name=client_id,
        client_type=ServiceProvider.CLIENT_CONFIDENTIAL,
        authorization_grant_type=ServiceProvider.GRANT_CLIENT_CREDENTIALS,
        grant_types="client_credentials",
        token_endpoint_auth_method=auth_method,
        token_endpoint_auth_signing_alg=signing_alg,
    )
    if pair is not None:
        import_certificate(client_id, pair.cert_pem)
    return provider


@pytest.fixture(autouse=True)
def _fresh_keys():
    clear_key_cache()
    yield
    clear_key_cache()


@pytest.fixture
def issuer() -> str:
    return django_settings.AUTHSERVER_ISSUER


@pytest.fixture
def token_url(issuer) -> str:
    return f"{issuer}/oauth2/token"


@pytest.fixture
def rsa_client(db, rsa_key) -> ServiceProvider:
    return register("sec-rsa-client", rsa_key)


@pytest.fixture
def pinned_ps_client(db, ps_key) -> ServiceProvider:
    """An RSA client whose registration pins PS256."""
    return register("sec-ps-client", ps_key, signing_alg="PS256")


@pytest.fixture
def ec_client(db, ec_key) -> ServiceProvider:
    return register("sec-ec-client", ec_key)


@pytest.fixture
def claims(rsa_client, token_url):
    """``claims(**overrides)``: valid claims for ``rsa_client`` at the real clock."""

    def make(client_id: str = rsa_client.client_id, **overrides):
        overrides.setdefault("aud", token_url)
        return keys.claims_for(client_id, now=time.time(), **overrides)

    return make


@pytest.fixture
def frozen_now(monkeypatch) -> float:
    """Pin the clock to a whole second, so boundaries are exact (``time.time`` itself:
    the validator and the direct path both read it)."""
    now = float(int(time.time()))
    monkeypatch.setattr("clientauth.validator.time.time", lambda: now)
    return now


@pytest.fixture
def user(db):
    """A resource owner for the authorization-code cases, with every standard claim."""
    from tests.oidc.conftest import make_user

    return make_user()


@pytest.fixture
def secret_client(db):
    """A confidential authorization-code client authenticated by client_secret_basic."""
    from tests.oidc.conftest import make_secret_client

    return make_secret_client()
