"""Key sources in a real Chromium at 1280 px (issue 16, item 4).

An operator registers a client whose keys are at a ``jwks_uri`` served by the loopback
JWKS test server (``jwks_settings`` allows plain HTTP to 127.0.0.1 for this test
only), sees on its detail page that nothing is fetched yet and that the certificate is
not used, presses "Fetch now" and sees key ``k1``; the client publishes ``k2`` beside
it, "Fetch now" shows both; the checker names an unknown ``kid`` in plain words. Pages
are saved as ``test-artifacts/screenshots/i16-*.png``. Skipped, never passed, without
``/usr/bin/chromium``.
"""

from __future__ import annotations

import json
import time

import pytest
from django.conf import settings
from django.utils import timezone

from clientauth.jwk import thumbprint
from clientauth.models import AuthFailure, ServiceProvider
from tests import keys
from tests.clientauth.jwks_support import (  # noqa: F401 (fixtures)
    fresh_jwks,
    jwk_of,
    jwks_of,
    jwks_server,
    jwks_settings,
)
from tests.console.conftest import CHROMIUM, SCREENSHOTS
from tests.console.test_browser import page, sign_in  # noqa: F401 (the page fixture)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="/usr/bin/chromium is missing: run scripts/install-test-deps"
    ),
]


def shot(page, name: str) -> None:  # noqa: F811
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.screenshot(path=str(SCREENSHOTS / f"i16-{name}-1280.png"), full_page=True)


def test_register_a_jwks_uri_client_and_fetch_its_keys(
    page,  # noqa: F811
    operator,
    jwks_settings,  # noqa: F811
    jwks_server,  # noqa: F811
    fresh_jwks,  # noqa: F811
    rsa_key,
    ec_key,
):
    from playwright.sync_api import expect

    jwks_server.publish(jwk_of(rsa_key, "k1", use="sig", alg="RS256"), max_age=300)
    inline = json.dumps(jwks_of(jwk_of(keys.ed25519_pair(), "k3"))).encode()
    sign_in(page, "operator")

    page.goto("/console/providers/new/")
    page.fill("input[name=name]", "Rotating App")
    page.fill("textarea[name=callbacks]", "https://rotating.example/callback")
    page.select_option("select[name=auth_method]", "private_key_jwt")
    page.check("input[name=key_source][value=jwks_uri]")
    page.fill("input[name=jwks_uri]", jwks_server.url())
    shot(page, "01-register-jwks-uri")
    page.click("button:has-text('Register')")
    expect(page.locator("h1")).to_contain_text("is registered")
    provider = ServiceProvider.objects.get(name="Rotating App")
    assert jwks_server.count() == 0

    page.goto(f"/console/providers/{provider.pk}/")
    expect(page.locator("#key-source")).to_contain_text("JWK Set URL (jwks_uri)")
    expect(page.locator("#jwks-uri")).to_have_text(jwks_server.url())
    expect(page.locator("#fetched-at")).to_contain_text("Not fetched yet")
    expect(page.locator("#certificate-not-used")).to_contain_text("Not used")
    shot(page, "02-detail-not-fetched")

    page.click("#fetch-now")
    expect(page.locator(".message")).to_have_text(f"Fetched 1 key from {jwks_server.url()}.")
    rows = page.locator("#key-list tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("k1")
    expect(rows.first).to_contain_text(thumbprint(jwk_of(rsa_key, None)))
    expect(page.locator("#fresh-until")).to_contain_text("Fresh")
    assert jwks_server.count() == 1

    # The client rotates: k2 beside k1. Fetch now does not wait for the cache.
    jwks_server.publish(jwk_of(rsa_key, "k1", use="sig", alg="RS256"), jwk_of(ec_key, "k2"))
    page.click("#fetch-now")
    expect(page.locator(".message")).to_have_text(f"Fetched 2 keys from {jwks_server.url()}.")
    expect(page.locator("#key-list tbody tr")).to_have_count(2)
    expect(page.locator("#key-list tbody tr").nth(1)).to_contain_text("EC")
    expect(page.locator("#last-fetch-error")).to_have_text("None")
    assert jwks_server.count() == 2
    shot(page, "03-detail-fetched")

    # A failed fetch: the keys stay, the error shows.
    jwks_server.routes["/jwks"].status = 500
    page.click("#fetch-now")
    expect(page.locator(".message")).to_contain_text("The fetch failed")
    expect(page.locator("#last-fetch-error")).to_contain_text("500")
    expect(page.locator("#key-list tbody tr")).to_have_count(2)
    shot(page, "04-detail-fetch-failed")

    # The checker judges with the fetched set and names an unknown kid in plain words.
    claims = keys.claims_for(provider.client_id, now=time.time(), aud=settings.AUTHSERVER_ISSUER)
    page.click("nav.mainnav >> text=Assertion checker")
    page.fill("textarea[name=assertion]", rsa_key.sign(claims, headers={"kid": "k1"}))
    page.click("button:has-text('Check')")
    expect(page.locator("#verdict")).to_contain_text("would accept")
    page.fill("textarea[name=assertion]", rsa_key.sign(claims, headers={"kid": "k9"}))
    page.click("button:has-text('Check')")
    failed = page.locator("ol.steps li.fail")
    expect(failed).to_have_count(1)
    expect(failed).to_contain_text("unknown_kid")
    expect(failed).to_contain_text("Unknown key ID")
    shot(page, "05-checker-unknown-kid")

    # The Failures page says what each key refusal means.
    for reason, detail in (
        ("unknown_kid", "no key of the client has kid 'k9'"),
        ("jwks_fetch_failed", "jwks_uri gave no usable keys: HTTP status 500"),
    ):
        AuthFailure.objects.create(
            client_id=provider.client_id, reason=reason, detail=detail, created_at=timezone.now()
        )
    page.click("nav.mainnav >> text=Failures")
    expect(page.locator("table.list")).to_contain_text("Unknown key ID")
    expect(page.locator("table.list")).to_contain_text("gave no usable keys")
    shot(page, "06-failures")

    # The list says the certificate is not needed.
    page.click("nav.mainnav >> text=Service providers")
    expect(page.locator("table.list")).to_contain_text("Not used: keys from a JWK Set")

    # Switching to an inline JWK Set from a file: only that source's inputs show.
    page.goto(f"/console/providers/{provider.pk}/edit/")
    expect(page.locator("input[name=jwks_uri]")).to_be_visible()
    expect(page.locator("textarea[name=jwks]")).to_be_hidden()
    page.check("input[name=key_source][value=jwks]")
    expect(page.locator("input[name=jwks_uri]")).to_be_hidden()
    page.set_input_files(
        "input[name=jwks_file]",
        files=[{"name": "jwks.json", "mimeType": "application/json", "buffer": inline}],
    )
    shot(page, "07-edit-inline-jwks")
    page.click("button:has-text('Save changes')")
    expect(page.locator("#key-source")).to_contain_text("Inline JWK Set (jwks)")
    expect(page.locator("#key-list tbody tr")).to_have_count(1)
    expect(page.locator("#key-list")).to_contain_text("k3")
    expect(page.locator("#fetch-now")).to_have_count(0)
    page.click("nav.mainnav >> text=Audit")
    expect(page.locator("table.list")).to_contain_text("Changed key source")
    expect(page.locator("table.list")).to_contain_text("jwks_uri -> jwks")
    shot(page, "08-audit-key-source")
