"""Every console URL is for staff only, and every form is CSRF-protected.

The walk iterates ``console.urls.urlpatterns`` itself, so a URL added later that lets
anyone but active staff in fails here. Which staff may do what: ``test_permissions.py``.
"""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from console import urls as console_urls

pytestmark = pytest.mark.django_db

DUMMY = {
    "int": 1,
    "str": "x",
    "slug": "x",
    "path": "x/y",
    "uuid": "00000000-0000-0000-0000-000000000000",
}


def _console_urls() -> list[str]:
    found = []
    for pattern in console_urls.urlpatterns:
        converters = pattern.pattern.converters
        kwargs = {}
        for name, converter in converters.items():
            kind = type(converter).__name__.replace("Converter", "").lower()
            kwargs[name] = DUMMY[kind]
        found.append(reverse(f"console:{pattern.name}", kwargs=kwargs))
    return found


URLS = _console_urls()


def test_the_walk_covers_every_pattern():
    assert len(URLS) == len(console_urls.urlpatterns) >= 14
    assert all(url.startswith("/console/") for url in URLS)


@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize("url", URLS)
def test_anonymous_is_sent_to_login(client, url, method):
    response = getattr(client, method)(url)
    assert response.status_code == 302
    assert response["Location"].startswith(f"{settings.LOGIN_URL}?next=")


@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize("url", URLS)
def test_logged_in_non_staff_is_forbidden(plain_client, url, method):
    response = getattr(plain_client, method)(url)
    assert response.status_code == 403
    assert b"Service providers" not in response.content


@pytest.mark.parametrize("url", URLS)
def test_inactive_staff_gets_no_page(django_user_model, url):
    user = django_user_model.objects.create_user(
        "gone", password="x", is_staff=True, is_active=False
    )
    client = Client()
    client.force_login(user)
    response = client.get(url)
    assert response.status_code in (302, 403)


@pytest.mark.parametrize("url", URLS)
def test_staff_never_gets_a_server_error(staff_client, url):
    assert staff_client.get(url).status_code in (200, 302, 404, 405)


@pytest.mark.parametrize("url", URLS)
def test_post_without_csrf_token_is_refused(staff_user, url):
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff_user)
    assert client.post(url, {}).status_code == 403


@pytest.mark.parametrize("name", ["provider-register", "certificate-import", "checker"])
def test_forms_carry_a_csrf_token(staff_client, name):
    content = staff_client.get(reverse(f"console:{name}")).content.decode()
    forms = re.findall(r"<form[^>]*method=\"post\".*?</form>", content, re.S)
    assert forms
    assert all("csrfmiddlewaretoken" in form for form in forms)
