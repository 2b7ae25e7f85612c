"""Fixtures of the console tests: users, logged-in clients, keystore files, the browser.

``staff_user`` holds every permission on the models the console shows, so the tests of
what a page does need not repeat the grant; ``grant`` gives a user chosen permissions,
for the tests of who may do what (``test_permissions.py``). Permission names are made
here from the models, not read from ``console.access``. Certificate files (PEM, DER,
PKCS#12, JKS) are built from the session's generated keys; nothing here is committed
key material.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import jks
import pytest
from cryptography.hazmat.primitives.serialization import BestAvailableEncryption, pkcs12
from django.contrib.auth import get_permission_codename
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.test import Client
from oauth2_provider.models import get_application_model

from clientauth.models import AuthFailure
from console.models import AuditEntry
from keystore.models import Certificate
from oidc.models import SigningKey
from tests import keys

STORE_PASSWORD = "changeit-test"
PASSWORD_OF_OPERATOR = "operator-password-1"

# The browser tests: Debian's Chromium driven by Playwright (scripts/install-test-deps).
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"


ACTIONS = ("view", "add", "change", "delete")


def console_models() -> list:
    return [get_application_model(), Certificate, AuthFailure, AuditEntry, SigningKey]


def permission(action: str, model) -> Permission:
    return Permission.objects.get(
        content_type=ContentType.objects.get_for_model(model),
        codename=get_permission_codename(action, model._meta),
    )


def grant(user, *pairs: tuple[str, object]):
    """Give ``user`` the permission to do each (action, model) pair."""
    user.user_permissions.add(*(permission(action, model) for action, model in pairs))
    return user


@pytest.fixture
def staff_user(django_user_model):
    user = django_user_model.objects.create_user(
        "operator", password=PASSWORD_OF_OPERATOR, is_staff=True
    )
    return grant(user, *((a, m) for m in console_models() for a in ACTIONS))


@pytest.fixture
def plain_user(django_user_model):
    return django_user_model.objects.create_user("visitor", password="visitor-password-1")


@pytest.fixture
def staff_client(staff_user) -> Client:
    client = Client()
    client.force_login(staff_user)
    return client


@pytest.fixture
def plain_client(plain_user) -> Client:
    client = Client()
    client.force_login(plain_user)
    return client


def client_with_id(client_id: str):
    """A service provider whose client ID is ``client_id`` (registration makes random
    ones): for importing certificates under a known alias."""
    return get_application_model().objects.create(
        client_id=client_id,
        name=client_id,
        client_type="confidential",
        authorization_grant_type="client-credentials",
    )


def p12_bytes(pair: keys.KeyPair, password: str = STORE_PASSWORD, name: bytes = b"client") -> bytes:
    return pkcs12.serialize_key_and_certificates(
        name, pair.private_key, pair.certificate, None, BestAvailableEncryption(password.encode())
    )


def jks_bytes(pair: keys.KeyPair, password: str = STORE_PASSWORD, alias: str = "client") -> bytes:
    entry = jks.TrustedCertEntry.new(alias, pair.cert_der)
    return jks.KeyStore.new("jks", [entry]).saves(password)


@pytest.fixture(scope="session")
def expired_key() -> keys.KeyPair:
    """An RSA key whose self-signed certificate expired a day ago."""
    pair = keys.rsa_pair(name="expired-client")
    start = dt.datetime.now(dt.UTC) - dt.timedelta(days=31)
    pair.certificate = keys.make_certificate(
        pair.private_key, "expired-client", days=30, not_before=start
    )
    return pair


@pytest.fixture(scope="session")
def expiring_key() -> keys.KeyPair:
    """An RSA key whose certificate expires in ten days."""
    pair = keys.rsa_pair(name="expiring-client")
    start = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
    pair.certificate = keys.make_certificate(
        pair.private_key, "expiring-client", days=11, not_before=start
    )
    return pair


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop on this thread, so Django would refuse
    # the test's own ORM calls here; they run outside that loop's callbacks. Only for
    # the browser modules: the rest of the suite keeps Django's check.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            yield browser
            browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def operator(transactional_db, django_user_model):
    """A staff user, signed in through the browser, with every console permission."""
    user = django_user_model.objects.create_user(
        "operator", password=PASSWORD_OF_OPERATOR, is_staff=True
    )
    return grant(user, *((a, m) for m in console_models() for a in ACTIONS))
