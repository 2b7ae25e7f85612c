"""Who may do what in the console: Django's model permissions, not the staff flag alone.

Five roles, all staff: ``bare`` (no permission), ``viewer`` (view on service providers,
certificates, failures and the audit trail), ``editor`` (viewer plus add and change on
service providers and certificates), ``deleter`` (viewer plus delete on both) and
``superuser``. For each: which pages answer, which links and buttons they show, which
POSTs go through; a refused request answers 403 and changes nothing (no row, no audit
line). Permission names are built here from the models, never read from
``console.access``, and the URLconf walk fails for a console URL that states no rights.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import resolve, reverse
from django.utils import timezone
from oauth2_provider.models import get_application_model

from clientauth import registration
from clientauth.models import AuthFailure, ClientMetadata
from console import urls as console_urls
from console.models import AuditEntry
from keystore import services
from keystore.models import Certificate
from oidc.models import SigningKey
from tests.console.conftest import grant
from tests.console.test_access import URLS as ALL_URLS

pytestmark = pytest.mark.django_db

ServiceProvider = get_application_model()

VIEW = [
    ("view", ServiceProvider),
    ("view", Certificate),
    ("view", AuthFailure),
    ("view", AuditEntry),
]
ROLES = {
    "bare": [],
    "viewer": VIEW,
    "editor": VIEW
    + [
        ("add", ServiceProvider),
        ("change", ServiceProvider),
        ("add", Certificate),
        ("change", Certificate),
    ],
    "deleter": VIEW + [("delete", ServiceProvider), ("delete", Certificate)],
    "superuser": [],
}
SEEING = ["viewer", "editor", "deleter", "superuser"]
ADDING = CHANGING = ["editor", "superuser"]
DELETING = ["deleter", "superuser"]


@pytest.fixture
def world(rsa_key, ec_key):
    """One service provider with its certificate, a stray certificate, a failure, an
    audit line."""
    provider, _ = registration.register_service_provider(
        name="Today App",
        callbacks=["https://today.example/cb"],
        grant_types=["authorization_code"],
        auth_method="private_key_jwt",
    )
    certificate = services.import_certificate(provider.client_id, rsa_key.cert_pem)
    stray = services.import_certificate("stray", ec_key.cert_pem)
    AuthFailure.objects.create(
        client_id=provider.client_id, reason="expired", created_at=timezone.now()
    )
    AuditEntry.objects.create(actor_username="someone", action=AuditEntry.SP_EDIT, target="x")
    return {"provider": provider, "certificate": certificate, "stray": stray}


def make_user(django_user_model, role: str, pairs=None):
    user = django_user_model.objects.create_user(
        role, password="x", is_staff=True, is_superuser=role == "superuser"
    )
    return grant(user, *(ROLES[role] if pairs is None else pairs))


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture(params=list(ROLES))
def role(request, django_user_model):
    return request.param, client_for(make_user(django_user_model, request.param))


def snapshot() -> dict:
    """Everything a console POST could change."""
    return {
        "providers": sorted(ServiceProvider.objects.values_list("pk", "name", "redirect_uris")),
        "metadata": sorted(ClientMetadata.objects.values_list()),
        "certificates": sorted(Certificate.objects.values_list("alias", "thumbprint_sha256")),
        "audit": AuditEntry.objects.count(),
        "secrets": sorted(ServiceProvider.objects.values_list("pk", "client_secret")),
        "signing_keys": sorted(SigningKey.objects.values_list("kid", "active")),
    }


# The URLconf states a permission for every console URL.


def test_every_console_url_states_the_rights_it_needs():
    undeclared = [
        p.name for p in console_urls.urlpatterns if not hasattr(p.callback, "console_rights")
    ]
    assert undeclared == []
    staff_only = [p.name for p in console_urls.urlpatterns if not p.callback.console_rights]
    # Only the front door, which sends each user to the first page they may see.
    assert staff_only == ["home"]
    assert resolve(reverse("console:home")).func.console_rights == ()


def test_an_unknown_right_is_refused_when_the_url_is_made():
    from console.access import console_path

    with pytest.raises(ValueError, match="view_provders"):
        console_path("x/", lambda request: None, "x", needs=("view_provders",))


@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize("url", [u for u in ALL_URLS if u != "/console/"])
def test_staff_without_permissions_is_refused_everywhere_but_the_front_door(
    django_user_model, url, method
):
    """Refused before the view runs: even a URL whose object does not exist is a 403."""
    client = client_for(make_user(django_user_model, "bare"))
    before = snapshot()
    assert getattr(client, method)(url).status_code == 403
    assert snapshot() == before


# Pages: GET answers by role.

PAGES = {
    # URL name: (roles that get the page, the rest get 403)
    "providers": SEEING,
    "provider-detail": SEEING,
    "certificates": SEEING,
    "certificate-detail": SEEING,
    "certificate-export": SEEING,
    "failures": SEEING,
    "checker": SEEING,
    "audit": SEEING,
    "provider-register": ADDING,
    "provider-created": ADDING,
    "certificate-import": ADDING,
    "provider-edit": CHANGING,
    "provider-delete": DELETING,
    "certificate-delete": DELETING,
    "provider-secret": CHANGING,
    "provider-tokens": SEEING,
    "provider-tokens-revoke": CHANGING,
    # Signing keys are a model of their own (oidc.SigningKey): none of the roles above
    # holds a permission on it, so only the superuser.
    "signing-keys": ["superuser"],
    "signing-key-rotate": ["superuser"],
}


def page_url(name: str, world) -> str:
    if name.startswith("provider-") and name != "provider-register":
        return reverse(f"console:{name}", args=[world["provider"].pk])
    if name.startswith("certificate-") and name != "certificate-import":
        return reverse(f"console:{name}", args=[world["certificate"].pk])
    return reverse(f"console:{name}")


# URLs that only take a POST (a GET is 405 for those allowed): URL name -> roles.
POST_ONLY = {"provider-fetch-keys": CHANGING}


def test_the_table_covers_every_console_url():
    assert set(PAGES) | set(POST_ONLY) | {"home"} == {p.name for p in console_urls.urlpatterns}


@pytest.mark.parametrize("name", list(POST_ONLY))
def test_post_only_urls_answer_get_by_role(role, world, name):
    role_name, client = role
    response = client.get(page_url(name, world))
    assert response.status_code == (405 if role_name in POST_ONLY[name] else 403)


@pytest.mark.parametrize("name", list(PAGES))
def test_get_answers_by_role(role, world, name):
    role_name, client = role
    before = snapshot()
    response = client.get(page_url(name, world))
    if role_name in PAGES[name]:
        assert response.status_code == 200
    else:
        assert response.status_code == 403
        # Not even an export's audit line.
        assert snapshot() == before


def test_front_door_sends_each_role_to_a_page_it_may_see(role):
    role_name, client = role
    response = client.get(reverse("console:home"))
    if role_name == "bare":
        assert response.status_code == 200
        body = response.content.decode()
        assert "No console rights yet" in body
        assert 'class="mainnav"' in body and "/console/providers/" not in body
    else:
        assert response.status_code == 302
        assert client.get(response["Location"]).status_code == 200


# What each page shows: no link or button to what the role may not use.

LINK = re.compile(r'(?:href|action)="(/console/[^"]*)"')


def allowed(client, url: str) -> bool:
    """Whether ``client``'s user may open ``url``; asks the server, not console.access."""
    return client.get(url.replace("&amp;", "&")).status_code in (200, 302)


def test_pages_link_only_to_what_the_role_may_use(role, world):
    role_name, client = role
    seen: dict[str, bool] = {}
    for name in PAGES:
        response = client.get(page_url(name, world))
        if response.status_code != 200 or name == "certificate-export":
            continue
        for url in set(LINK.findall(response.content.decode())):
            if url not in seen:
                seen[url] = allowed(client, url)
            assert seen[url], f"{role_name} is shown {url} on {name} but may not open it"
            query = parse_qs(urlsplit(url.replace("&amp;", "&")).query)
            if query.get("replace"):
                assert role_name in CHANGING, f"{role_name} is offered to replace on {name}"


BUTTONS = {
    # URL name: {marker shown on the page: roles it is shown to}
    "providers": {"Register service provider": ADDING},
    "provider-detail": {
        ">Edit</a>": CHANGING,
        ">Delete</a>": DELETING,
        "&amp;replace=1": CHANGING,
        "Recent client-authentication failures": SEEING,
        "SHA-256 thumbprint": SEEING,
        "Regenerate secret": CHANGING,
        "/tokens/": SEEING,
    },
    "provider-tokens": {"Revoke all": []},  # no live token in this world: nothing to revoke
    "signing-keys": {"Rotate signing key": ["superuser"]},
    "certificates": {"Import certificate": ADDING},
    "certificate-detail": {
        ">Replace</a>": CHANGING,
        ">Delete</a>": DELETING,
        "Export PEM": SEEING,
        "Today App": SEEING,
    },
    "provider-delete": {'name="delete_certificate"': DELETING},
}


@pytest.mark.parametrize("name", list(BUTTONS))
def test_buttons_by_role(role, world, name):
    role_name, client = role
    response = client.get(page_url(name, world))
    if response.status_code == 403:
        return
    body = response.content.decode()
    for marker, roles in BUTTONS[name].items():
        assert (marker in body) == (role_name in roles), (role_name, name, marker)


def nav_of(client, url: str) -> str:
    body = client.get(url).content.decode()
    return re.search(r'<nav class="mainnav".*?</nav>', body, re.S).group(0)


def test_navigation_by_role(role, world):
    role_name, client = role
    if role_name == "bare":
        return
    nav = nav_of(client, reverse("console:audit"))
    for label in ("Service providers", "Keystore", "Failures", "Assertion checker", "Audit"):
        assert label in nav
    assert ("Signing keys" in nav) == (role_name == "superuser")


def test_one_section_only(django_user_model, world):
    client = client_for(make_user(django_user_model, "auditor", [("view", AuditEntry)]))
    assert client.get(reverse("console:home"))["Location"] == reverse("console:audit")
    nav = nav_of(client, reverse("console:audit"))
    assert "Audit" in nav
    for label in ("Service providers", "Keystore", "Failures", "Assertion checker"):
        assert label not in nav
    assert client.get(reverse("console:providers")).status_code == 403


# POSTs: allowed or refused by role; a refusal changes nothing.

REGISTER = {
    "name": "New App",
    "callbacks": "https://new.example/cb",
    "grant_types": ["authorization_code"],
    "auth_method": "client_secret_basic",
}


def posts(world, rsa_key, ps_key):
    provider, certificate, stray = world["provider"], world["certificate"], world["stray"]
    return {
        "register": (reverse("console:provider-register"), lambda: REGISTER, ADDING),
        "edit": (
            reverse("console:provider-edit", args=[provider.pk]),
            lambda: {**REGISTER, "name": "Renamed", "auth_method": "private_key_jwt"},
            CHANGING,
        ),
        "delete-provider": (
            reverse("console:provider-delete", args=[provider.pk]),
            lambda: {},
            DELETING,
        ),
        "import": (
            reverse("console:certificate-import"),
            lambda: {
                "alias": "brand-new",
                "force": "on",  # no client has this ID: import anyway
                "file": SimpleUploadedFile("c.pem", ps_key.cert_pem),
            },
            ADDING,
        ),
        "replace": (
            reverse("console:certificate-import"),
            lambda: {
                "alias": stray.alias,
                "replace": "on",
                "force": "on",
                "file": SimpleUploadedFile("c.pem", ps_key.cert_pem),
            },
            CHANGING,
        ),
        "delete-certificate": (
            reverse("console:certificate-delete", args=[certificate.pk]),
            lambda: {},
            DELETING,
        ),
        "checker": (reverse("console:checker"), lambda: {"assertion": "a.b.c"}, SEEING),
        "regenerate-secret": (
            reverse("console:provider-secret", args=[provider.pk]),
            lambda: {},
            CHANGING,
        ),
        "revoke-tokens": (
            reverse("console:provider-tokens-revoke", args=[provider.pk]),
            lambda: {},
            CHANGING,
        ),
        "rotate-signing-key": (reverse("console:signing-key-rotate"), lambda: {}, ["superuser"]),
    }


POSTS = [
    "register",
    "edit",
    "delete-provider",
    "import",
    "replace",
    "delete-certificate",
    "regenerate-secret",
    "revoke-tokens",
    "rotate-signing-key",
]


@pytest.mark.parametrize("action", POSTS + ["checker"])
def test_post_by_role(role, world, rsa_key, ps_key, action):
    role_name, client = role
    url, data, roles = posts(world, rsa_key, ps_key)[action]
    before = snapshot()
    response = client.post(url, data())
    if role_name in roles:
        assert response.status_code in (200, 302)
        if action != "checker":
            assert response.status_code == 302
            assert snapshot() != before
            assert AuditEntry.objects.count() > before["audit"]
    else:
        assert response.status_code == 403
        assert snapshot() == before


def test_change_implies_view(django_user_model, world):
    """As in Django's admin: who may change service providers may see them."""
    client = client_for(make_user(django_user_model, "changer", [("change", ServiceProvider)]))
    pk = world["provider"].pk
    assert client.get(reverse("console:providers")).status_code == 200
    detail = client.get(reverse("console:provider-detail", args=[pk]))
    assert detail.status_code == 200 and ">Edit</a>" in detail.content.decode()
    # Certificates and failures are other models: not shown, not reachable.
    assert "SHA-256 thumbprint" not in detail.content.decode()
    assert "Recent client-authentication failures" not in detail.content.decode()
    assert client.get(reverse("console:certificates")).status_code == 403


def test_replacing_needs_change_beside_add(django_user_model, world, ps_key):
    client = client_for(make_user(django_user_model, "importer", VIEW + [("add", Certificate)]))
    form = client.get(reverse("console:certificate-import") + "?alias=stray&replace=1")
    assert form.status_code == 200 and 'name="replace"' not in form.content.decode()

    before = snapshot()
    upload = SimpleUploadedFile("c.pem", ps_key.cert_pem)
    refused = client.post(
        reverse("console:certificate-import"), {"alias": "stray", "replace": "on", "file": upload}
    )
    assert refused.status_code == 403
    assert snapshot() == before

    # Without the box, an alias already taken is refused as import_cert refuses it.
    upload = SimpleUploadedFile("c.pem", ps_key.cert_pem)
    taken = client.post(reverse("console:certificate-import"), {"alias": "stray", "file": upload})
    assert taken.status_code == 200 and taken.context["form"].non_field_errors()
    assert snapshot() == before


def test_deleting_the_certificate_with_its_provider_needs_delete_certificate(
    django_user_model, world
):
    client = client_for(
        make_user(django_user_model, "remover", VIEW + [("delete", ServiceProvider)])
    )
    url = reverse("console:provider-delete", args=[world["provider"].pk])
    page = client.get(url).content.decode()
    assert 'name="delete_certificate"' not in page and "stays in the keystore" in page

    before = snapshot()
    assert client.post(url, {"delete_certificate": "1"}).status_code == 403
    assert snapshot() == before

    assert client.post(url, {}).status_code == 302
    assert not ServiceProvider.objects.filter(pk=world["provider"].pk).exists()
    assert Certificate.objects.filter(alias=world["provider"].client_id).exists()


def test_inactive_superuser_gets_nothing(django_user_model, world):
    user = django_user_model.objects.create_superuser("root", password="x", is_active=False)
    client = client_for(user)
    assert client.get(reverse("console:providers")).status_code in (302, 403)
