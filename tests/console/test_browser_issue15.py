"""Issue 15's console items in a real Chromium, at 1280 px and at 420 px.

Item 5: the front page at ``/`` (the brand's link), signing out onto this server's own
page, the favicon, long values on one line with a copy button, and at 420 px a
one-row navigation and tables that scroll inside their container while the page does
not. Item 6: an import under an alias that is no client is refused, then done with
"import anyway". Item 7: a regenerated secret shown once, the checker's decoded
header and claims with times, the lists' search, a client's tokens revoked, the
signing key rotated with its JWKS. Item 8: the audit page showing a command, an admin
edit, sign-ins and console actions, filtered by actor and action.

Every page is saved at both widths under ``test-artifacts/screenshots/`` as
``i15-<item>-<page>-<width>.png``. Skipped, never passed, without ``/usr/bin/chromium``.
"""

from __future__ import annotations

import io
import time
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone

from clientauth import registration
from clientauth.models import AuthFailure
from console.models import AuditEntry
from keystore import services
from tests import keys
from tests.console.conftest import (
    ACTIONS,
    CHROMIUM,
    SCREENSHOTS,
    console_models,
    grant,
)
from tests.console.conftest import (
    PASSWORD_OF_OPERATOR as PASSWORD,
)

WIDE, NARROW = 1280, 420
FORM = "application/x-www-form-urlencoded"
IPV6 = "2001:db8:85a3:1234:5678:8a2e:370:7334"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="/usr/bin/chromium is missing: run scripts/install-test-deps"
    ),
]


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server.url, viewport={"width": WIDE, "height": 900})
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def shots(page, name: str) -> None:
    """Save the page at 1280 px and at 420 px; leave it at 1280 px. At either width
    the page itself never scrolls sideways (a wide table scrolls in its container)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for width in (WIDE, NARROW):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(SCREENSHOTS / f"i15-{name}-{width}.png"), full_page=True)
        assert page_width(page) <= width, f"{name} is wider than {width} px"
    page.set_viewport_size({"width": WIDE, "height": 900})


def narrow(page) -> None:
    page.set_viewport_size({"width": NARROW, "height": 900})


def sign_in(page, username: str = "operator") -> None:
    page.goto("/accounts/login/?next=/console/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")


def page_width(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


def one_line(locator) -> bool:
    """Whether the text of every element sits on one line (no wrapping)."""
    return locator.evaluate_all(
        """els => els.every(e => {
             const range = document.createRange();
             range.selectNodeContents(e);
             const tops = [...range.getClientRects()].filter(r => r.width > 0).map(r => r.top);
             const size = parseFloat(getComputedStyle(e).fontSize);
             return tops.length > 0 && Math.max(...tops) - Math.min(...tops) < size;
           })"""
    )


def _provider(name: str, auth_method: str = "private_key_jwt"):
    return registration.register_service_provider(
        name=name,
        callbacks=["https://app.example/cb"],
        grant_types=["authorization_code", "refresh_token", "client_credentials"],
        auth_method=auth_method,
    )


# --- item 5 ------------------------------------------------------------------------------


def test_item5_front_page_sign_out_favicon_and_narrow_screens(page, operator):
    from playwright.sync_api import expect

    provider, _ = _provider("Long Names Incorporated")
    services.import_certificate(provider.client_id, keys.rsa_pair().cert_pem)
    now = timezone.now()
    for address in (IPV6, "203.0.113.254"):
        AuthFailure.objects.create(
            client_id=provider.client_id,
            reason="bad_signature",
            detail="signature does not verify with any of the client's keys",
            endpoint="token",
            remote_addr=address,
            created_at=now,
            count=3,
        )
    AuthFailure.objects.create(
        client_id="",
        reason="unknown_client",
        endpoint="token",
        remote_addr="192.0.2.1",
        created_at=now,
        detail="client_id 'typo-0123456789abcdef0123456789abcdef'",
    )

    page.goto("/")
    expect(page.locator("h1")).to_have_text("Authorization server")
    expect(page.locator("a[href='/.well-known/openid-configuration']")).to_be_visible()
    shots(page, "5-front-page")
    icon = page.locator("link[rel=icon]").get_attribute("href")
    assert page.request.get(icon).status == 200
    assert page.request.get("/favicon.ico").status == 200

    page.click("text=Sign in to the console")
    page.fill("input[name=username]", "operator")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("h1")).to_have_text("Service providers")
    page.click("a.brand")
    assert page.url.rstrip("/") == page.url.split("/", 3)[0] + "//" + page.url.split("/")[2]
    expect(page.locator("a.button")).to_have_text("Open the console")

    page.goto("/console/failures/")
    cells = page.locator("table.list td.ident, table.list td.time")
    assert cells.count() >= 9
    assert one_line(cells)
    shots(page, "5-failures")
    # The copy button copies the whole value, however it is cut on screen.
    row = page.locator("table.list tbody tr", has_text="2001:db8").first
    row.locator("td.ident button.copy").first.click()
    assert page.evaluate("navigator.clipboard.readText()") == provider.client_id
    row.locator("td.ident button.copy").last.click()
    assert page.evaluate("navigator.clipboard.readText()") == IPV6

    narrow(page)
    assert page.locator("nav.mainnav").bounding_box()["height"] < 60  # one row
    wrap = page.locator(".table-wrap").first
    assert wrap.evaluate("e => e.scrollWidth > e.clientWidth")  # the table scrolls inside
    assert page_width(page) <= NARROW  # the page does not
    assert one_line(page.locator("table.list td.ident, table.list td.time"))

    for url, name in (("/console/keystore/", "keystore"), ("/console/providers/", "providers")):
        page.goto(url)
        narrow(page)
        assert page_width(page) <= NARROW, url
        assert one_line(page.locator("table.list td.ident, table.list td.time"))
        shots(page, f"5-{name}")

    page.click("text=Log out")
    expect(page.locator("h1")).to_have_text("Signed out")
    assert "quality time" not in page.content()
    assert "/accounts/logout/" in page.url
    shots(page, "5-signed-out")


# --- item 6 ------------------------------------------------------------------------------


def test_item6_an_alias_that_is_no_client_needs_import_anyway(page, operator, rsa_key):
    from playwright.sync_api import expect

    sign_in(page)
    page.goto("/console/keystore/import/")
    page.fill("input[name=alias]", "typo-client")
    page.set_input_files(
        "input[name=file]",
        files=[{"name": "c.pem", "mimeType": "application/x-pem-file", "buffer": rsa_key.cert_pem}],
    )
    page.click("button:has-text('Import')")
    expect(page.locator(".errorlist.nonfield")).to_contain_text(
        "c.pem: alias 'typo-client' is not a registered client ID"
    )
    expect(page.locator(".message")).to_have_count(0)  # no green "Imported"
    expect(page.locator("input[name=force]")).to_be_visible()
    shots(page, "6-refused")

    page.check("input[name=force]")
    page.set_input_files(
        "input[name=file]",
        files=[{"name": "c.pem", "mimeType": "application/x-pem-file", "buffer": rsa_key.cert_pem}],
    )
    page.click("button:has-text('Import')")
    expect(page.locator(".message")).to_contain_text("Imported the certificate of typo-client")
    expect(page.locator(".lead .badge.bad")).to_have_text("No such client")
    shots(page, "6-imported-anyway")


# --- item 7 ------------------------------------------------------------------------------


def test_item7_secret_checker_search_tokens_and_signing_key(page, operator, rsa_key, client):
    from playwright.sync_api import expect

    provider, old_secret = _provider("Batch Job", auth_method="client_secret_post")
    other, _ = _provider("Shop Frontend")
    services.import_certificate(other.client_id, rsa_key.cert_pem)

    def token_request(secret: str):
        form = {
            "grant_type": "client_credentials",
            "client_id": provider.client_id,
            "client_secret": secret,
        }
        return client.post("/oauth2/token", urlencode(form), content_type=FORM)

    for _ in range(2):
        assert token_request(old_secret).status_code == 200
    sign_in(page)

    # Search and filter.
    page.fill("input[name=q]", "shop")
    page.click("button:has-text('Search')")
    expect(page.locator("table.list tbody tr")).to_have_count(1)
    expect(page.locator("table.list")).to_contain_text("Shop Frontend")
    shots(page, "7-providers-search")
    page.goto("/console/providers/?status=none")
    expect(page.locator("table.list tbody tr")).to_have_count(1)
    expect(page.locator("table.list")).to_contain_text("Batch Job")

    # Tokens: listed with expiry, revoked all.
    page.click("text=Batch Job")
    expect(page.locator("#credentials")).to_contain_text("2 access tokens")
    shots(page, "7-provider-detail")
    page.click("#credentials >> text=2 access tokens")
    expect(page.locator("#tokens tbody tr")).to_have_count(2)
    expect(page.locator("#tokens")).to_contain_text("(in 60 min)")
    shots(page, "7-tokens")
    page.click("text=Revoke all")
    shots(page, "7-tokens-revoke")
    page.click("button:has-text('Revoke all tokens')")
    expect(page.locator(".message")).to_contain_text("2 access token(s)")
    expect(page.locator("#token-counts")).to_have_text("0 active access tokens, 0 refresh tokens")

    # Regenerate the secret: shown once, the old one refused at once.
    page.goto(f"/console/providers/{provider.pk}/")
    page.click("text=Regenerate secret")
    expect(page.locator("h1")).to_contain_text("Regenerate the client secret")
    shots(page, "7-secret-confirm")
    page.click("button:has-text('Regenerate secret')")
    new_secret = page.locator("#client-secret").inner_text().strip()
    assert new_secret and new_secret != old_secret
    shots(page, "7-secret-shown")
    page.reload()
    expect(page.locator("#client-secret")).to_have_count(0)
    assert token_request(old_secret).status_code == 401
    assert token_request(new_secret).status_code == 200

    # The checker: steps beside the decoded header and claims, times relative to now.
    now = time.time()
    claims = keys.claims_for(
        other.client_id, now=now - 300, aud=settings.AUTHSERVER_ISSUER, lifetime=420
    )
    page.goto("/console/checker/")
    page.fill("textarea[name=assertion]", rsa_key.sign(claims))
    page.click("button:has-text('Check')")
    expect(page.locator("#verdict")).to_contain_text("would accept")
    expect(page.locator("#decoded-claims")).to_contain_text(other.client_id)
    expect(page.locator("#decoded-header")).to_contain_text('"alg": "RS256"')
    expect(page.locator("#time-iat .rel")).to_have_text("5 min ago")
    expect(page.locator("#time-exp .rel")).to_have_text("in 2 min")
    shots(page, "7-checker")

    # Rotating the signing key, with the JWKS shown.
    page.goto("/console/signing-keys/")
    before = page.locator("#signing-keys tbody tr").first.locator(".trunc").inner_text()
    shots(page, "7-signing-keys")
    page.click("text=Rotate signing key")
    page.click("button:has-text('Rotate signing key')")
    expect(page.locator(".message")).to_contain_text("signs new ID tokens")
    expect(page.locator("#signing-keys tbody tr")).to_have_count(2)
    expect(page.locator("#jwks")).to_contain_text(before)
    shots(page, "7-signing-keys-rotated")


# --- item 8 ------------------------------------------------------------------------------


def test_item8_the_audit_page_shows_everything_and_filters(
    page, live_server, transactional_db, django_user_model, rsa_key, tmp_path
):
    from playwright.sync_api import expect

    user = django_user_model.objects.create_superuser("operator", password=PASSWORD)
    grant(user, *((a, m) for m in console_models() for a in ACTIONS))
    out = io.StringIO()
    call_command(
        "register_app",
        "--name",
        "From The Shell",
        "--callback",
        "https://shell.example/cb",
        stdout=out,
    )

    # A failed sign-in, a sign-in, a console action, an admin edit.
    page.goto("/accounts/login/?next=/console/")
    page.fill("input[name=username]", "operator")
    page.fill("input[name=password]", "wrong-password")
    page.click("button[type=submit]")
    sign_in(page)
    page.click("text=Register service provider")
    page.fill("input[name=name]", "From The Console")
    page.fill("textarea[name=callbacks]", "https://console.example/cb")
    page.click("button:has-text('Register')")
    page.goto("/admin/auth/group/add/")
    page.fill("input[name=name]", "auditors")
    page.click("input[name=_save]")

    page.goto("/console/audit/")
    table = page.locator("#audit")
    for text in (
        "Registered service provider",
        "Signed in",
        "Failed sign-in",
        "Added in Django admin",
        "manage.py command",
        "Django admin",
        "Sign-in page",
    ):
        expect(table).to_contain_text(text)
    assert "wrong-password" not in page.content()
    assert one_line(page.locator("#audit td.time, #audit td.ident"))
    shots(page, "8-audit")

    page.fill("input[name=actor]", "operator")
    page.select_option("select[name=action]", AuditEntry.SP_REGISTER)
    page.click("button:has-text('Filter')")
    expect(page.locator("#audit tbody tr")).to_have_count(1)
    expect(page.locator("#audit")).to_contain_text("Console")
    shots(page, "8-audit-filtered")
    page.select_option("select[name=action]", "")
    page.fill("input[name=actor]", "")
    page.select_option("select[name=channel]", AuditEntry.COMMAND)
    page.click("button:has-text('Filter')")
    expect(page.locator("#audit tbody tr")).to_have_count(1)
    expect(page.locator("#audit")).to_contain_text("Registered service provider")
