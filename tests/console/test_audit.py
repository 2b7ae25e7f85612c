"""The audit trail: every command, console action, admin edit and sign-in, once each.

Each test performs one thing and finds exactly one new ``AuditEntry`` for it, saying
who (the OS user for a command), what, through which channel and from where. A
refused action, a read-only page and an end user's sign-in write nothing; an attempted
password is never stored. The audit page filters by actor, action and channel.
"""

from __future__ import annotations

import io
import json
import socket

import pytest
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from oauth2_provider.models import get_application_model

from clientauth import registration
from console.models import AuditEntry
from djangokit.audit import os_user
from keystore import services
from keystore.models import Certificate
from tests.console.conftest import PASSWORD_OF_OPERATOR

pytestmark = pytest.mark.django_db


class Trail:
    """The audit lines written since the last look."""

    def __init__(self) -> None:
        self.seen = self._last()

    @staticmethod
    def _last() -> int:
        last = AuditEntry.objects.order_by("-id").values_list("id", flat=True).first()
        return last or 0

    def new(self) -> list[AuditEntry]:
        rows = list(AuditEntry.objects.filter(id__gt=self.seen).order_by("id"))
        self.seen = self._last()
        return rows

    def one(self, action: str, **expected) -> AuditEntry:
        rows = self.new()
        assert [r.action for r in rows] == [action], [(r.action, r.target) for r in rows]
        for field, value in expected.items():
            assert getattr(rows[0], field) == value, (field, getattr(rows[0], field))
        return rows[0]


@pytest.fixture
def trail() -> Trail:
    return Trail()


def run(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


# --- commands: the OS user, on this host -------------------------------------------------


def test_each_state_changing_command_writes_one_line(trail, rsa_key, ec_key, tmp_path):
    command = {"channel": AuditEntry.COMMAND, "actor_username": os_user(), "actor": None}
    host = socket.gethostname()

    printed = run(
        "register_app", "--name", "Cron Job", "--callback", "https://c.example/cb", "--json"
    )
    client_id = json.loads(printed)["client_id"]
    entry = trail.one(AuditEntry.SP_REGISTER, target=client_id, **command)
    assert entry.source.startswith(host)
    assert json.loads(printed)["client_secret"] not in entry.detail

    pem = tmp_path / "client.pem"
    pem.write_bytes(rsa_key.cert_pem)
    run("import_cert", "--alias", client_id, str(pem))
    trail.one(AuditEntry.CERT_IMPORT, target=client_id, **command)

    pem.write_bytes(ec_key.cert_pem)
    run("import_cert", "--alias", client_id, "--replace", str(pem))
    trail.one(AuditEntry.CERT_REPLACE, target=client_id, **command)

    run("export_cert", "--alias", client_id, "--out", str(tmp_path / "out.pem"))
    trail.one(AuditEntry.CERT_EXPORT, target=client_id, **command)

    run("delete_cert", "--alias", client_id)
    trail.one(AuditEntry.CERT_DELETE, target=client_id, **command)

    run("set_key_source", "--client-id", client_id, "--certificate")
    trail.one(AuditEntry.SP_KEY_SOURCE, target=client_id, **command)

    kid = run("rotate_signing_key").split()[-1]
    trail.one(AuditEntry.SIGNING_KEY_ROTATE, target=kid, **command)

    run("purge_jtis")
    trail.one(AuditEntry.JTI_PURGE, **command)

    run("bootstrap", "--username", "root")
    trail.one(AuditEntry.ADMIN_USER_CREATE, target="root", **command)
    run("bootstrap", "--username", "root")  # exists: nothing changed, nothing written
    assert trail.new() == []


def test_read_only_and_refused_commands_write_nothing(trail, tmp_path):
    run("list_certs")
    with pytest.raises(Exception):
        call_command("delete_cert", "--alias", "nobody")
    with pytest.raises(Exception):
        call_command("import_cert", "--alias", "nobody", str(tmp_path / "missing.pem"))
    assert trail.new() == []


# --- console actions: the signed-in user, from the client's address ----------------------


def test_each_console_action_writes_one_line(staff_client, staff_user, trail, rsa_key, ec_key):
    console = {"channel": AuditEntry.CONSOLE, "actor": staff_user, "source": "127.0.0.1"}
    form = {
        "name": "Console App",
        "callbacks": "https://app.example/cb",
        "grant_types": ["authorization_code", "client_credentials"],
        "auth_method": "private_key_jwt",
    }
    staff_client.post(reverse("console:provider-register"), form)
    provider = get_application_model().objects.get(name="Console App")
    client_id = provider.client_id
    trail.one(AuditEntry.SP_REGISTER, target=client_id, **console)

    staff_client.post(
        reverse("console:provider-edit", args=[provider.pk]), {**form, "name": "Renamed"}
    )
    trail.one(AuditEntry.SP_EDIT, target=client_id, **console)

    def upload(data, **extra):
        payload = {"alias": client_id, "file": SimpleUploadedFile("c.pem", data), **extra}
        return staff_client.post(reverse("console:certificate-import"), payload)

    upload(rsa_key.cert_pem)
    trail.one(AuditEntry.CERT_IMPORT, target=client_id, **console)
    upload(ec_key.cert_pem, replace="on")
    trail.one(AuditEntry.CERT_REPLACE, target=client_id, **console)

    certificate = Certificate.objects.get(alias=client_id)
    staff_client.get(reverse("console:certificate-export", args=[certificate.pk]))
    trail.one(AuditEntry.CERT_EXPORT, target=client_id, **console)
    staff_client.post(reverse("console:certificate-delete", args=[certificate.pk]))
    trail.one(AuditEntry.CERT_DELETE, target=client_id, **console)

    staff_client.post(reverse("console:provider-secret", args=[provider.pk]))
    trail.one(AuditEntry.SP_SECRET, target=client_id, **console)
    staff_client.post(reverse("console:provider-tokens-revoke", args=[provider.pk]))
    trail.one(AuditEntry.SP_REVOKE_TOKENS, target=client_id, **console)
    staff_client.post(reverse("console:signing-key-rotate"))
    trail.one(AuditEntry.SIGNING_KEY_ROTATE, **console)

    staff_client.post(reverse("console:provider-delete", args=[provider.pk]))
    trail.one(AuditEntry.SP_DELETE, target=client_id, **console)

    # Pages that only show, and the checker, write nothing.
    for name in ("providers", "certificates", "failures", "audit", "signing-keys", "checker"):
        staff_client.get(reverse(f"console:{name}"))
    staff_client.post(reverse("console:checker"), {"assertion": "a.b.c"})
    assert trail.new() == []


# --- sign-ins ----------------------------------------------------------------------------


def sign_in(client: Client, username: str, password: str):
    return client.post(
        reverse("login"), {"username": username, "password": password, "next": "/console/"}
    )


def test_sign_in_sign_out_and_a_failed_sign_in_each_write_one_line(staff_user, trail):
    browser = Client(REMOTE_ADDR="192.0.2.7")
    assert sign_in(browser, "operator", "not-the-password").status_code == 200
    failed = trail.one(
        AuditEntry.LOGIN_FAILED,
        actor=None,
        actor_username="operator",
        channel=AuditEntry.SIGN_IN,
        source="192.0.2.7",
        target=reverse("login"),
    )
    assert "not-the-password" not in str(AuditEntry.objects.filter(pk=failed.pk).values().get())

    assert sign_in(browser, "operator", PASSWORD_OF_OPERATOR).status_code == 302
    trail.one(AuditEntry.LOGIN, actor=staff_user, source="192.0.2.7", channel=AuditEntry.SIGN_IN)

    page = browser.post(reverse("logout"))
    assert page.status_code == 200 and "Signed out" in page.content.decode()
    assert "quality time" not in page.content.decode()
    trail.one(AuditEntry.LOGOUT, actor=staff_user, source="192.0.2.7")


def test_unknown_username_is_recorded_and_an_end_users_sign_in_is_not(django_user_model, trail):
    browser = Client(REMOTE_ADDR="192.0.2.8")
    sign_in(browser, "nobody", "guess")
    entry = trail.one(AuditEntry.LOGIN_FAILED, actor_username="nobody")
    assert entry.detail == "no such account"

    django_user_model.objects.create_user("alice", password="alice-password-1")
    sign_in(browser, "alice", "wrong")
    assert sign_in(browser, "alice", "alice-password-1").status_code == 302
    assert trail.new() == []


def test_a_locked_out_sign_in_says_so(staff_user, trail, settings):
    browser = Client(REMOTE_ADDR="192.0.2.9")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(browser, "operator", "wrong")
    trail.new()
    sign_in(browser, "operator", PASSWORD_OF_OPERATOR)
    entry = trail.one(AuditEntry.LOGIN_FAILED, actor_username="operator")
    assert "locked out" in entry.detail


def test_a_login_made_in_code_is_not_a_sign_in(staff_user, trail):
    Client().force_login(staff_user)
    assert trail.new() == []


# --- Django's admin ----------------------------------------------------------------------


@pytest.fixture
def admin_browser(django_user_model):
    root = django_user_model.objects.create_superuser("root", password="root-password-1")
    browser = Client(REMOTE_ADDR="198.51.100.4")
    browser.force_login(root)
    return root, browser


def test_admin_additions_changes_and_deletions_write_one_line_each(admin_browser, trail):
    root, browser = admin_browser
    admin = {"channel": AuditEntry.ADMIN, "actor": root, "source": "198.51.100.4"}
    assert browser.post("/admin/auth/group/add/", {"name": "ops"}).status_code == 302
    group = Group.objects.get(name="ops")
    trail.one(AuditEntry.ADMIN_ADD, target="auth.group ops", **admin)

    browser.post(f"/admin/auth/group/{group.pk}/change/", {"name": "ops2"})
    entry = trail.one(AuditEntry.ADMIN_CHANGE, target="auth.group ops2", **admin)
    assert "Name" in entry.detail

    browser.post(f"/admin/auth/group/{group.pk}/delete/", {"post": "yes"})
    trail.one(AuditEntry.ADMIN_DELETE, target="auth.group ops2", **admin)


def test_admin_bulk_deletion_writes_one_line_per_object(admin_browser, trail):
    """Django bulk-creates these LogEntries, with no post_save to listen to."""
    root, browser = admin_browser
    groups = [Group.objects.create(name=f"g{i}") for i in range(3)]
    response = browser.post(
        "/admin/auth/group/",
        {"action": "delete_selected", "_selected_action": [g.pk for g in groups], "post": "yes"},
    )
    assert response.status_code == 302 and not Group.objects.exists()
    rows = trail.new()
    assert sorted(r.target for r in rows) == ["auth.group g0", "auth.group g1", "auth.group g2"]
    assert {(r.action, r.channel, r.actor_id) for r in rows} == {
        (AuditEntry.ADMIN_DELETE, AuditEntry.ADMIN, root.pk)
    }


def test_admin_pages_that_change_nothing_write_nothing(admin_browser, trail):
    _, browser = admin_browser
    browser.get("/admin/auth/group/")
    browser.post("/admin/auth/group/add/", {"name": ""})  # refused by the form
    assert trail.new() == []


# --- the audit page ----------------------------------------------------------------------


def test_the_audit_page_filters_by_actor_action_and_channel(staff_client, rsa_key):
    services.import_certificate("c1", rsa_key.cert_pem)
    rows = [
        ("alice", AuditEntry.CERT_IMPORT, AuditEntry.CONSOLE),
        ("alice", AuditEntry.SP_EDIT, AuditEntry.CONSOLE),
        ("deploy", AuditEntry.CERT_IMPORT, AuditEntry.COMMAND),
    ]
    for actor, action, channel in rows:
        AuditEntry.objects.create(
            actor_username=actor,
            action=action,
            channel=channel,
            target=f"{actor}-{action}",
            source="203.0.113.5",
        )

    def shown(**query) -> list[str]:
        body = staff_client.get(reverse("console:audit"), query).content.decode()
        return sorted(set(a for a, _ in _targets(body)))

    assert shown(actor="alice") == ["alice"]
    assert shown(actor="ALICE", action=AuditEntry.CERT_IMPORT) == ["alice"]
    assert shown(action=AuditEntry.CERT_IMPORT) == ["alice", "deploy"]
    assert shown(channel=AuditEntry.COMMAND) == ["deploy"]
    body = staff_client.get(reverse("console:audit")).content.decode()
    assert "203.0.113.5" in body and "manage.py command" in body
    assert (
        "No entries match"
        in staff_client.get(reverse("console:audit"), {"actor": "x"}).content.decode()
    )


def _targets(body: str) -> list[tuple[str, str]]:
    import re

    return [
        tuple(t.split("-", 1))
        for t in re.findall(r'data-copy-value="([a-z]+-[a-z_.]+)"', body)
        if not t.startswith("203")
    ]


def test_registering_through_the_function_writes_nothing(trail):
    """The trail records who did it: a call in code has no actor, and is not a line."""
    registration.register_service_provider(
        name="X", callbacks=[], grant_types=["client_credentials"], auth_method="private_key_jwt"
    )
    assert trail.new() == []
