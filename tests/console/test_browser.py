"""The console in a real Chromium (Debian's /usr/bin/chromium driven by Playwright).

One staff session with every console permission walks the integrator's path: sign in,
register a service provider, read its client key, import its certificate from a
password-protected PKCS#12, see it listed as valid, check a good and a bad assertion,
delete the certificate. A staff user who may only view sees no button to change
anything, and is refused the edit page. Every page
is saved as a screenshot under ``test-artifacts/screenshots/``. The browser and the
``operator`` fixture are the console conftest's. Without
``/usr/bin/chromium`` (``scripts/install-test-deps`` installs it) the tests are
skipped, never passed.
"""

from __future__ import annotations

import time

import pytest
from django.conf import settings

from clientauth import registration
from tests import keys
from tests.console.conftest import (
    CHROMIUM,
    SCREENSHOTS,
    STORE_PASSWORD,
    console_models,
    grant,
    p12_bytes,
)
from tests.console.conftest import (
    PASSWORD_OF_OPERATOR as PASSWORD,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="/usr/bin/chromium is missing: run scripts/install-test-deps",
    ),
]


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def sign_in(page, username: str) -> None:
    page.goto("/accounts/login/?next=/console/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")


def shot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def test_register_import_check_delete(page, operator, rsa_key, attacker_key):
    from playwright.sync_api import expect

    # Signing in: the console sends an anonymous visitor to the login page.
    page.goto("/console/")
    assert "/accounts/login/" in page.url
    page.fill("input[name=username]", "operator")
    page.fill("input[name=password]", PASSWORD)
    shot(page, "01-login")
    page.click("button[type=submit]")
    expect(page.locator("h1")).to_have_text("Service providers")
    shot(page, "02-providers-empty")

    # Registering a service provider; the key and secret are shown once.
    page.click("text=Register service provider")
    page.fill("input[name=name]", "Today App")
    page.fill("textarea[name=callbacks]", "https://today.example/callback")
    page.select_option("select[name=auth_method]", "private_key_jwt")
    page.select_option("select[name=signing_alg]", "RS256")
    shot(page, "03-register")
    page.click("button:has-text('Register')")
    expect(page.locator("h1")).to_contain_text("is registered")
    client_id = page.locator("#client-id").inner_text().strip()
    secret = page.locator("#client-secret").inner_text().strip()
    assert client_id and secret
    expect(page.locator(".callout.warn")).to_contain_text("not shown again")
    shot(page, "04-registered")
    page.reload()
    expect(page.locator("#client-secret")).to_have_count(0)

    # Importing its certificate from a password-protected PKCS#12.
    page.goto("/console/providers/")
    expect(page.locator("table.list")).to_contain_text(client_id)
    expect(page.locator("table.list")).to_contain_text("No certificate")
    shot(page, "05-providers")
    page.click("text=Today App")
    page.click("text=Import certificate")
    expect(page.locator("input[name=alias]")).to_have_value(client_id)
    page.set_input_files(
        "input[name=file]",
        files=[
            {"name": "today.p12", "mimeType": "application/x-pkcs12", "buffer": p12_bytes(rsa_key)}
        ],
    )
    page.fill("input[name=password]", STORE_PASSWORD)
    shot(page, "06-import")
    page.click("button:has-text('Import')")
    expect(page.locator(".message")).to_contain_text(f"Imported the certificate of {client_id}")
    shot(page, "07-certificate")

    page.click("nav.mainnav >> text=Keystore")
    row = page.locator("table.list tr", has_text=client_id)
    expect(row).to_contain_text("Valid")
    expect(row).not_to_contain_text("No such client")
    shot(page, "08-keystore")

    # The checker judges against the issuer, whatever address the browser used.
    now = time.time()
    good = rsa_key.sign(keys.claims_for(client_id, now=now, aud=settings.AUTHSERVER_ISSUER))
    page.click("nav.mainnav >> text=Assertion checker")
    page.fill("textarea[name=assertion]", good)
    page.fill("input[name=client_id]", client_id)
    page.click("button:has-text('Check')")
    expect(page.locator("#verdict")).to_contain_text("would accept")
    expect(page.locator("ol.steps li.fail")).to_have_count(0)
    shot(page, "09-checker-good")

    bad = attacker_key.sign(keys.claims_for(client_id, now=now, aud=settings.AUTHSERVER_ISSUER))
    page.fill("textarea[name=assertion]", bad)
    page.click("button:has-text('Check')")
    expect(page.locator("#verdict")).to_contain_text("would refuse")
    expect(page.locator("ol.steps li.fail")).to_have_count(1)
    expect(page.locator("ol.steps li.fail")).to_contain_text("bad_signature")
    shot(page, "10-checker-bad")

    # Deleting the certificate, after a confirmation page.
    page.click("nav.mainnav >> text=Keystore")
    page.click(f"table.list >> text={client_id}")
    page.click("a.button.danger:has-text('Delete')")
    expect(page.locator("h1")).to_contain_text("Delete the certificate")
    shot(page, "11-delete-certificate")
    page.click("button:has-text('Delete certificate')")
    expect(page.locator(".message")).to_contain_text(f"Deleted the certificate of {client_id}")
    expect(page.locator(".empty")).to_contain_text("The keystore is empty")
    shot(page, "12-keystore-after-delete")

    page.click("nav.mainnav >> text=Failures")
    shot(page, "13-failures")
    page.click("nav.mainnav >> text=Audit")
    for text in ("Registered service provider", "Imported certificate", "Deleted certificate"):
        expect(page.locator("table.list")).to_contain_text(text)
    shot(page, "14-audit")

    page.goto("/console/providers/")
    page.click("text=Today App")
    shot(page, "15-provider-detail")


def test_non_staff_user_sees_no_console_page(page, transactional_db, django_user_model):
    django_user_model.objects.create_user("visitor", password=PASSWORD)
    page.goto("/accounts/login/?next=/console/")
    page.fill("input[name=username]", "visitor")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    response = page.goto("/console/keystore/")
    assert response.status == 403
    assert "Keystore" not in page.content()


def test_viewer_sees_no_button_to_change_anything(page, transactional_db, django_user_model):
    from playwright.sync_api import expect

    user = django_user_model.objects.create_user("viewer", password=PASSWORD, is_staff=True)
    grant(user, *(("view", m) for m in console_models()))
    provider, _ = registration.register_service_provider(
        name="Today App",
        callbacks=["https://today.example/callback"],
        grant_types=["authorization_code"],
        auth_method="private_key_jwt",
        scopes=["openid", "read"],
    )
    sign_in(page, "viewer")
    expect(page.locator("h1")).to_have_text("Service providers")
    expect(page.locator("text=Register service provider")).to_have_count(0)
    page.click("text=Today App")
    expect(page.locator("#scopes")).to_have_text("openid, read")
    expect(page.locator(".page-head .actions a")).to_have_count(0)
    expect(page.locator("text=Import certificate")).to_have_count(0)
    shot(page, "16-viewer-provider-detail")
    response = page.goto(f"/console/providers/{provider.pk}/edit/")
    assert response.status == 403
