"""The token endpoint's direct path (``clientauth.fastpath``).

It answers a successful client_credentials request with the same answer and the same
rows as the full path, and declines everything else untouched: the full path then
answers as if the direct path did not exist. The ``client`` fixture (tests/conftest.py)
puts the direct path in front of Django as ``authserver.wsgi`` does, so the rest of the
suite runs through it too; here each outcome is pinned to the path that produced it.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import time
from unittest import mock
from urllib.parse import parse_qsl, urlencode

import pytest
from django.db import OperationalError, connection
from django.utils import timezone
from oauth2_provider.models import get_access_token_model

from clientauth import clients, lookup
from clientauth.fastpath import grants, path, writer
from clientauth.models import JtiRecord
from djangokit import rows
from tests.clientauth.support import register
from tests.clientauth.test_token_endpoint import (
    assertion_form,
    fresh,
    post,
)
from tests.test_wsgi import call

pytestmark = pytest.mark.django_db
FORM = "application/x-www-form-urlencoded"


@pytest.fixture(autouse=True)
def _fresh(fresh_caches):
    pass


def direct(response) -> bool:
    return getattr(response, "served_directly", False)


def tokens(sp):
    return list(get_access_token_model().objects.filter(application=sp).order_by("id"))


@pytest.fixture(autouse=True)
def _direct_path_on(fast_path_on):
    """These tests are about the direct path: on in every run."""


def full_path_only(monkeypatch):
    monkeypatch.setattr(path, "_answer", lambda request, body, db: None)


def test_success_is_served_directly_with_its_rows(client, pk_client, rsa_key):
    assertion = fresh(rsa_key, pk_client.client_id)
    response = post(client, assertion_form(assertion))
    assert response.status_code == 200, response.content
    assert direct(response)
    body = response.json()
    [row] = tokens(pk_client)
    assert row.token_checksum == hashlib.sha256(body["access_token"].encode()).hexdigest()
    assert row.token == ""  # RFC 9700 storage: the usable value is never at rest
    assert JtiRecord.objects.filter(client_id=pk_client.client_id).count() == 1


@pytest.mark.django_db(transaction=True)  # the WSGI handler's request signals, as in production
def test_same_answer_and_row_as_the_full_path(pk_client, rsa_key, monkeypatch):
    """Through ``authserver.wsgi.application``, as gunicorn calls it."""

    def token_request():
        body = urlencode(assertion_form(fresh(rsa_key, pk_client.client_id), scope="read"))
        return call("POST", "/oauth2/token", body.encode())

    fast = token_request()
    with monkeypatch.context() as m:
        full_path_only(m)
        slow = token_request()
    assert fast[0] == slow[0] == "200 OK"
    fast_headers, slow_headers = fast[1], slow[1]
    assert fast_headers.pop("Content-Length") == str(len(fast[2]))
    assert slow_headers.pop("Content-Length") == str(len(slow[2]))
    assert fast_headers == slow_headers
    fast_body, slow_body = json.loads(fast[2]), json.loads(slow[2])
    assert list(fast_body) == list(slow_body)
    assert {k: v for k, v in fast_body.items() if k != "access_token"} == {
        k: v for k, v in slow_body.items() if k != "access_token"
    }
    fast_row, slow_row = tokens(pk_client)
    for field in ("scope", "user_id", "id_token_id", "source_refresh_token_id", "resource"):
        assert getattr(fast_row, field) == getattr(slow_row, field), field
    assert fast_row.token == slow_row.token == ""
    assert abs((fast_row.expires - slow_row.expires).total_seconds()) < 5
    assert abs((fast_row.created - slow_row.created).total_seconds()) < 5
    assert fast_row.created == fast_row.updated


def test_a_successful_request_it_does_not_know_goes_the_full_way(client, pk_client, rsa_key):
    form = assertion_form(fresh(rsa_key, pk_client.client_id), resource="https://api.example")
    response = post(client, form)
    assert response.status_code == 200 and not direct(response)  # RFC 8707: DOT's own path
    assert len(tokens(pk_client)) == 1


@pytest.mark.parametrize("plaintext_storage", [False, True])
def test_row_values_are_what_the_model_fields_prepare(pk_client, settings, plaintext_storage):
    settings.OAUTH2_PROVIDER = {
        **settings.OAUTH2_PROVIDER,
        "COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": not plaintext_storage,
    }
    granted = grants.grant(pk_client, "read")
    at = time.time()
    moment = dt.datetime.fromtimestamp(at, tz=dt.UTC)
    with mock.patch.object(timezone, "now", lambda: moment):  # auto_now's clock
        model_values = rows.prepared_values(granted.token())
    direct_values = writer._token_params(granted, at, connection.vendor)
    if connection.vendor == "postgresql":  # psycopg's Jsonb wrapper compares by identity
        model_values = [getattr(v, "obj", v) for v in model_values]
        direct_values = tuple(getattr(v, "obj", v) for v in direct_values)
    assert list(direct_values) == model_values


def test_client_read_by_the_lookup_is_the_instance_the_orm_builds(pk_client, monkeypatch):
    looked_up = lookup.load_service_provider(pk_client.client_id)
    orm = type(pk_client).objects.get(pk=pk_client.pk)

    def fields(obj):
        skip = ("_state", "_clientauth_metadata")
        return {name: value for name, value in vars(obj).items() if name not in skip}

    assert fields(looked_up) == fields(orm)
    # Its metadata row is read in the same statement, and equal to the ORM's.
    assert fields(clients.metadata_of(looked_up)) == fields(orm.client_metadata)
    # The same types and time zones too, not only equal values (timestamps on PostgreSQL
    # are loaded by the driver cursor's own loader).
    assert {k: repr(v) for k, v in fields(looked_up).items()} == {
        k: repr(v) for k, v in fields(orm).items()
    }
    assert (looked_up._state.adding, looked_up._state.db) == (False, orm._state.db)
    # With a receiver of Model.__init__'s signals, the ORM's own construction runs.
    from django.db.models.signals import post_init

    seen = []
    model, uid = type(pk_client), "test-from-row"
    post_init.connect(
        lambda sender, instance, **kw: seen.append(instance), model, weak=False, dispatch_uid=uid
    )
    try:
        again = lookup.load_service_provider(pk_client.client_id)
    finally:
        post_init.disconnect(sender=model, dispatch_uid=uid)
    assert seen == [again] and fields(again) == fields(orm)


def test_secret_clients_are_served_directly(client):
    sp, secret = register(auth_method="client_secret_basic")
    header = "Basic " + base64.b64encode(f"{sp.client_id}:{secret}".encode()).decode()
    response = post(client, {"grant_type": "client_credentials"}, HTTP_AUTHORIZATION=header)
    assert response.status_code == 200 and direct(response)
    assert len(tokens(sp)) == 1
    wrong = "Basic " + base64.b64encode(f"{sp.client_id}:nope".encode()).decode()
    response = post(client, {"grant_type": "client_credentials"}, HTTP_AUTHORIZATION=wrong)
    assert response.status_code == 401 and not direct(response)
    assert len(tokens(sp)) == 1


def test_replay_is_declined_and_refused_by_the_full_path(client, pk_client, rsa_key):
    assertion = fresh(rsa_key, pk_client.client_id)
    assert direct(post(client, assertion_form(assertion)))
    again = post(client, assertion_form(assertion))
    assert again.status_code == 401 and not direct(again)
    assert again.json()["error_description"] == "jti has been used already"
    assert len(tokens(pk_client)) == 1


DECLINED = {
    "bad signature": lambda c, k, a: (assertion_form(a(k["attacker"])), {}),
    "unknown scope": lambda c, k, a: (assertion_form(a(k["rsa"]), scope="bogus"), {}),
    "duplicate parameter": lambda c, k, a: (
        [*assertion_form(a(k["rsa"])).items(), ("scope", "read"), ("scope", "read")],
        {},
    ),
    "another grant": lambda c, k, a: (
        assertion_form(a(k["rsa"]), grant_type="authorization_code", code="x"),
        {},
    ),
    "two methods": lambda c, k, a: (
        assertion_form(a(k["rsa"])),
        {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(b"a:b").decode()},
    ),
    "wrong assertion type": lambda c, k, a: (
        assertion_form(a(k["rsa"]), client_assertion_type="urn:other"),
        {},
    ),
    "no credentials": lambda c, k, a: ({"grant_type": "client_credentials"}, {}),
}
# Refused after the assertion passed every check: its jti is consumed, whatever the
# grant's outcome (README, "Which requests consume a jti").
CONSUMING = {"unknown scope", "another grant"}


@pytest.mark.parametrize("case", sorted(DECLINED))
def test_requests_that_do_not_succeed_are_declined(
    client, pk_client, rsa_key, attacker_key, monkeypatch, case
):
    """Every one of these gets the full path's answer, with or without the direct path."""
    pairs = {"rsa": rsa_key, "attacker": attacker_key}
    answers = []
    for served in ("both", "full"):
        with monkeypatch.context() as m:
            if served == "full":
                full_path_only(m)
            data, headers = DECLINED[case](
                client, pairs, lambda pair: fresh(pair, pk_client.client_id)
            )
            response = post(client, data, **headers)
        assert not direct(response)
        answers.append((response.status_code, response.json()))
    assert answers[0] == answers[1]
    assert answers[0][0] in (400, 401)
    assert not tokens(pk_client)
    assert JtiRecord.objects.count() == (2 if case in CONSUMING else 0)


FORM_BODIES = [
    b"grant_type=client_credentials&scope=read+write",
    b"client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer",
    b"a=1&&b=&c&=d&e==f",
    b"scope=%41%2B%2b+x&n%61me=%zz%",
    b"x=%C3%A9&y=%FF",
    b"&&&",
    b"a=1&b=2&a=3",
    b"a=1&a%3D=2&a=",
    b"a+b=1&a%20b=2",
    b"&".join(b"f%d=1" % i for i in range(path._MAX_FIELDS)),
    b"&".join(b"f%d=1" % i for i in range(path._MAX_FIELDS + 1)),
    "scope=caf\u00e9".encode(),
]


@pytest.mark.parametrize("body", FORM_BODIES)
def test_form_fields_are_what_parse_qsl_gives(body):
    """The direct path reads a form as Django's QueryDict does (``parse_qsl``), and
    declines bodies that are not ASCII, have too many fields or repeat a name."""
    try:
        pairs = parse_qsl(
            body.decode("ascii"), keep_blank_values=True, max_num_fields=path._MAX_FIELDS
        )
    except ValueError:
        expected = None
    else:
        expected = dict(pairs) if len(dict(pairs)) == len(pairs) else None
    assert path._form(body) == expected


@pytest.mark.parametrize(
    "shape",
    [
        {"QUERY_STRING": "scope=read"},
        {"CONTENT_TYPE": FORM + "; charset=utf-8"},
    ],
)
def test_unusual_request_shapes_take_the_full_path(client, pk_client, rsa_key, shape):
    body = urlencode(assertion_form(fresh(rsa_key, pk_client.client_id)))
    response = client.generic("POST", "/oauth2/token", body, content_type=FORM, **shape)
    assert not direct(response)


def test_host_not_allowed_takes_the_full_path(client, pk_client, rsa_key):
    body = urlencode(assertion_form(fresh(rsa_key, pk_client.client_id)))
    response = client.generic(
        "POST", "/oauth2/token", body, content_type=FORM, HTTP_HOST="evil.example"
    )
    assert response.status_code == 400 and not direct(response)
    assert not tokens(pk_client)


def test_a_host_accepted_before_is_checked_again_after_allowed_hosts_change(
    client, pk_client, rsa_key, settings
):
    settings.ALLOWED_HOSTS = ["testserver", "api.example"]
    body = lambda: urlencode(assertion_form(fresh(rsa_key, pk_client.client_id)))  # noqa: E731
    first = client.generic(
        "POST", "/oauth2/token", body(), content_type=FORM, HTTP_HOST="api.example"
    )
    assert first.status_code == 200 and direct(first)
    settings.ALLOWED_HOSTS = ["testserver"]
    again = client.generic(
        "POST", "/oauth2/token", body(), content_type=FORM, HTTP_HOST="api.example"
    )
    assert again.status_code == 400 and not direct(again)
    assert len(tokens(pk_client)) == 1


def test_plain_http_under_ssl_redirect_takes_the_full_path(client, pk_client, rsa_key, settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 3600
    response = post(client, assertion_form(fresh(rsa_key, pk_client.client_id)))
    assert response.status_code == 301 and not direct(response)
    response = post(client, assertion_form(fresh(rsa_key, pk_client.client_id)), secure=True)
    assert response.status_code == 200 and direct(response)
    assert response["Strict-Transport-Security"].startswith("max-age=3600")


def test_behind_a_tls_proxy_host_and_scheme_come_from_its_headers(
    client, pk_client, rsa_key, settings
):
    """The request's host and scheme as Django reads them behind a reverse proxy: the
    forwarded host is checked against ALLOWED_HOSTS, the forwarded scheme makes the
    request secure (no redirect, HSTS on the answer)."""
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 3600
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.USE_X_FORWARDED_HOST = True
    settings.ALLOWED_HOSTS = ["auth.example"]
    proxied = {"HTTP_X_FORWARDED_PROTO": "https", "HTTP_X_FORWARDED_HOST": "auth.example"}
    response = post(client, assertion_form(fresh(rsa_key, pk_client.client_id)), **proxied)
    assert response.status_code == 200 and direct(response)
    assert response["Strict-Transport-Security"].startswith("max-age=3600")
    other_host = {**proxied, "HTTP_X_FORWARDED_HOST": "evil.example"}
    response = post(client, assertion_form(fresh(rsa_key, pk_client.client_id)), **other_host)
    assert response.status_code == 400 and not direct(response)
    plain = {**proxied, "HTTP_X_FORWARDED_PROTO": "http"}
    response = post(client, assertion_form(fresh(rsa_key, pk_client.client_id)), **plain)
    assert response.status_code == 301 and not direct(response)
    assert len(tokens(pk_client)) == 1


def test_non_ascii_body_takes_the_full_path(client, pk_client, rsa_key):
    data = assertion_form(fresh(rsa_key, pk_client.client_id), scope="read")
    body = urlencode(data).encode() + "&x=é".encode()
    response = client.generic("POST", "/oauth2/token", body, content_type=FORM)
    assert not direct(response)


def test_reuse_allowed_setting_takes_the_full_path(client, pk_client, rsa_key, settings):
    settings.PRIVATE_KEY_JWT = {"PREVENT_TOKEN_REUSE": False}
    assertion = fresh(rsa_key, pk_client.client_id)
    for _ in range(2):
        response = post(client, assertion_form(assertion))
        assert response.status_code == 200 and not direct(response)


def test_database_error_before_the_write_is_left_to_the_full_path(
    client, pk_client, rsa_key, monkeypatch
):
    """Nothing written yet: the full path checks the connection and runs the request."""
    real_select = lookup._select
    calls = []

    def failing_once(*args):
        calls.append(args)
        if len(calls) == 1:
            raise OperationalError("server closed the connection unexpectedly")
        return real_select(*args)

    monkeypatch.setattr(lookup, "_select", failing_once)
    response = post(client, assertion_form(fresh(rsa_key, pk_client.client_id)))
    assert response.status_code == 200 and not direct(response)
    assert len(calls) == 2
    assert len(tokens(pk_client)) == 1
    assert JtiRecord.objects.count() == 1


def test_database_error_while_writing_is_503_and_writes_nothing(
    client, pk_client, rsa_key, monkeypatch, caplog
):
    """The write may have committed (a lost connection), so no second try with the
    same assertion: the full path's 503."""

    def failing(db, jti_params, token_params):
        raise OperationalError("database is locked")

    monkeypatch.setitem(writer.WRITERS, connection.vendor, failing)
    response = post(client, assertion_form(fresh(rsa_key, pk_client.client_id)))
    assert response.status_code == 503 and direct(response)
    assert response.json()["error"] == "temporarily_unavailable"
    assert response["Retry-After"] == "1"
    assert response["Cache-Control"] == "no-store"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert not tokens(pk_client)
    assert not JtiRecord.objects.exists()
    assert "database unavailable" in caplog.text


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_a_failed_token_insert_rolls_back_the_jti(
    client, rsa_key, monkeypatch
):
    """Autocommit, as in production: the jti and the token commit together or not at
    all. After a failed write the same assertion is still unused."""
    sp, _ = register(cert=rsa_key)
    form = assertion_form(fresh(rsa_key, sp.client_id))
    statements = dict(writer._sql(connection.vendor))
    broken = {**statements, "token": statements["token"].replace("INSERT INTO", "INSERT INTO x")}
    broken["both"] = statements["both"].replace('INSERT INTO "oauth2', 'INSERT INTO "x_oauth2')
    monkeypatch.setattr(writer, "_sql", lambda vendor: broken)
    response = post(client, form)
    assert response.status_code == 503 and direct(response)
    assert not tokens(sp)
    assert not JtiRecord.objects.exists()
    monkeypatch.undo()
    again = post(client, form)
    assert again.status_code == 200, again.content
    assert not direct(again)  # after a database error, the full path checks the connection
    assert len(tokens(sp)) == 1
    assert JtiRecord.objects.count() == 1
    replay = post(client, form)
    assert replay.status_code == 401 and not direct(replay)
    assert direct(post(client, assertion_form(fresh(rsa_key, sp.client_id))))
    assert len(tokens(sp)) == 2


def test_the_health_check_is_left_to_the_full_path(
    client, pk_client, rsa_key, attacker_key, monkeypatch
):
    """A direct answer costs no SELECT 1; a declined request is checked as any is."""
    from django.db import connections

    db = connections["default"]
    checks = []
    monkeypatch.setattr(db, "health_check_enabled", True)
    monkeypatch.setattr(db, "is_usable", lambda: checks.append(1) or True)

    db.health_check_done = False
    response = post(client, assertion_form(fresh(rsa_key, pk_client.client_id)))
    assert response.status_code == 200 and direct(response)
    assert checks == []

    db.health_check_done = False
    refused = post(client, assertion_form(fresh(attacker_key, pk_client.client_id)))
    assert refused.status_code == 401 and not direct(refused)
    assert checks == [1]
