"""The JTI table as CONTRACT.md names it, read from the live schema, and ``purge_jtis``.

The schema is read back from the database the run uses (the suite runs on SQLite and
on PostgreSQL), not from the model: table ``IDN_OIDC_JTI`` with ``JWT_ID`` (varchar
255), ``EXP_TIME`` and ``TIME_CREATED`` (timestamps) and ``CLIENT_ID``, unique on
(``CLIENT_ID``, ``JWT_ID``), so one client's ``jti`` never blocks another's. Then
``purge_jtis`` (``clientauth.jti.purge_expired`` behind it) deletes exactly the rows
whose ``EXP_TIME`` lies before now minus ``LEEWAY_SECONDS``, checked on both sides of
that boundary, and prints how many it deleted.

Not here: recording a ``jti`` and refusing replays (unit, endpoint and concurrency
tests).
"""

from __future__ import annotations

import datetime as dt
import time
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction

from clientauth.jti import purge_expired
from clientauth.models import JtiRecord, ServiceProvider

TABLE = "IDN_OIDC_JTI"
NOW = 1_800_000_000.0
LEEWAY = 60


def at(seconds: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(seconds, tz=dt.UTC)


@pytest.fixture
def provider(db) -> ServiceProvider:
    return ServiceProvider.objects.create(name="schema", client_type="confidential")


@pytest.fixture
def other_provider(db) -> ServiceProvider:
    return ServiceProvider.objects.create(name="schema-other", client_type="confidential")


def record(provider: ServiceProvider, jwt_id: str, exp: float) -> JtiRecord:
    return JtiRecord.objects.create(
        client=provider, jwt_id=jwt_id, exp_time=at(exp), time_created=at(exp - 300)
    )


def columns() -> dict[str, tuple[str | None, object]]:
    """Column name -> (Django field type the backend reads it as, its declared length).

    SQLite reports a varchar's length as ``display_size``, PostgreSQL as both sizes.
    """
    with connection.cursor() as cursor:
        description = connection.introspection.get_table_description(cursor, TABLE)
    return {
        col.name: (
            connection.introspection.get_field_type(col.type_code, col),
            col.display_size or col.internal_size,
        )
        for col in description
    }


def test_jti_table_exists(db):
    assert TABLE in connection.introspection.table_names()


def test_jti_columns_and_types(db):
    cols = columns()

    assert {"JWT_ID", "EXP_TIME", "TIME_CREATED", "CLIENT_ID"} <= set(cols)
    assert cols["JWT_ID"] == ("CharField", 255)
    assert cols["EXP_TIME"][0] == "DateTimeField"
    assert cols["TIME_CREATED"][0] == "DateTimeField"
    assert cols["CLIENT_ID"][0] == "CharField"


def test_jti_unique_on_client_and_jwt_id(db):
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, TABLE)

    unique = [c["columns"] for c in constraints.values() if c["unique"] and not c["primary_key"]]
    assert ["CLIENT_ID", "JWT_ID"] in unique


def test_one_clients_jti_never_blocks_anothers(provider, other_provider):
    record(provider, "shared-jti", NOW)
    record(other_provider, "shared-jti", NOW)

    with pytest.raises(IntegrityError), transaction.atomic():
        record(provider, "shared-jti", NOW + 10)

    assert JtiRecord.objects.filter(jwt_id="shared-jti").count() == 2


def test_purge_expired_deletes_only_rows_past_exp_plus_leeway(provider):
    record(provider, "long-gone", NOW - LEEWAY - 3600)
    record(provider, "just-past", NOW - LEEWAY - 1)
    record(provider, "at-boundary", NOW - LEEWAY)
    record(provider, "inside-leeway", NOW - LEEWAY + 1)
    record(provider, "unexpired", NOW + 300)

    deleted = purge_expired(now=NOW, leeway=LEEWAY)

    assert deleted == 2
    kept = set(JtiRecord.objects.values_list("jwt_id", flat=True))
    assert kept == {"at-boundary", "inside-leeway", "unexpired"}


def purge_command() -> str:
    out = StringIO()
    call_command("purge_jtis", stdout=out)
    return out.getvalue()


@pytest.mark.parametrize("leeway", [0, 600])
def test_purge_jtis_command_uses_leeway_and_prints_the_count(provider, settings, leeway):
    settings.PRIVATE_KEY_JWT = {**settings.PRIVATE_KEY_JWT, "LEEWAY_SECONDS": leeway}
    # Margins of 30 s either side of now - leeway: the command reads the real clock.
    now = time.time()
    record(provider, "expired-1", now - leeway - 3600)
    record(provider, "expired-2", now - leeway - 30)
    record(provider, "kept-near-boundary", now - leeway + 30)
    record(provider, "kept-unexpired", now + 300)

    output = purge_command()

    assert "2" in output.split()
    assert set(JtiRecord.objects.values_list("jwt_id", flat=True)) == {
        "kept-near-boundary",
        "kept-unexpired",
    }
    assert "0" in purge_command().split()
