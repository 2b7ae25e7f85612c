"""The failure store counts bursts (``clientauth.failures``): one row per client, reason
and endpoint while refusals keep coming, both sides of each window, unknown clients
under one key, pruning by last seen, and a database error costing the row only."""

from __future__ import annotations

import datetime as dt
import logging
import threading

import pytest
from django.db import OperationalError, connection
from django.db.models import QuerySet, Sum

from clientauth import errors, failures
from clientauth.models import AuthFailure

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
TICK = dt.timedelta(microseconds=1)


def refuse(exc, now, *, endpoint="token", addr="192.0.2.1"):
    failures.record_failure(exc, endpoint=endpoint, meta={"REMOTE_ADDR": addr}, now=now)


def rows():
    return list(AuthFailure.objects.order_by("id"))


def test_a_repeat_counts_on_the_open_row():
    refuse(errors.BadSignature("first", client_id="app"), T0, addr="192.0.2.1")
    refuse(errors.BadSignature("second", client_id="app"), T0 + dt.timedelta(minutes=5))
    refuse(
        errors.BadSignature("third", client_id="app"),
        T0 + dt.timedelta(minutes=9),
        addr="198.51.100.9",
    )
    [row] = rows()
    assert (row.client_id, row.reason, row.endpoint, row.count) == (
        "app",
        "bad_signature",
        "token",
        3,
    )
    assert row.created_at == T0 and row.last_seen == T0 + dt.timedelta(minutes=9)
    assert (row.detail, row.remote_addr) == ("third", "198.51.100.9")


def test_each_client_reason_and_endpoint_has_its_row():
    refuse(errors.BadSignature(client_id="app"), T0)
    refuse(errors.BadSignature(client_id="other"), T0)
    refuse(errors.Expired(client_id="app"), T0)
    refuse(errors.BadSignature(client_id="app"), T0, endpoint="introspect")
    refuse(errors.BadSignature(client_id="app"), T0)
    keys = sorted((r.client_id, r.reason, r.endpoint, r.count) for r in rows())
    assert keys == [
        ("app", "bad_signature", "introspect", 1),
        ("app", "bad_signature", "token", 2),
        ("app", "expired", "token", 1),
        ("other", "bad_signature", "token", 1),
    ]


@pytest.mark.parametrize("gap, counted", [(failures.QUIET, True), (failures.QUIET + TICK, False)])
def test_a_quiet_gap_ends_the_burst(gap, counted):
    refuse(errors.BadSecret(client_id="app"), T0)
    refuse(errors.BadSecret(client_id="app"), T0 + gap)
    expected = [(T0, T0 + gap, 2)] if counted else [(T0, T0, 1), (T0 + gap, T0 + gap, 1)]
    assert [(r.created_at, r.last_seen, r.count) for r in rows()] == expected


@pytest.mark.parametrize("age, counted", [(failures.SPAN, True), (failures.SPAN + TICK, False)])
def test_a_burst_is_cut_after_its_span(age, counted):
    """A flood that never pauses still opens a row a ``SPAN``: its count stays bounded
    and the log shows how it went on."""
    now = T0 + age
    AuthFailure.objects.create(
        client_id="app",
        reason="bad_signature",
        endpoint="token",
        created_at=T0,
        last_seen=now - dt.timedelta(minutes=1),
        count=500,
    )
    refuse(errors.BadSignature(client_id="app"), now)
    assert [r.count for r in rows()] == ([501] if counted else [500, 1])


def test_unknown_client_ids_share_one_row_per_reason_with_the_latest_claimed_id():
    for i in range(50):
        refuse(errors.UnknownClient("no client with this ID", client_id=f"made-up-{i}"), T0)
    [row] = rows()
    assert (row.client_id, row.reason, row.count) == ("", "unknown_client", 50)
    assert row.detail == "no client with this ID: 'made-up-49'"
    # The secret path names no ID: the same key, the plain detail.
    refuse(errors.UnknownClient("no client with this ID"), T0)
    [row] = rows()
    assert (row.count, row.detail) == (51, "no client with this ID")


def test_the_claimed_id_is_kept_as_text_the_database_can_hold():
    claimed = "x\x00\ud800" + "y" * 300
    refuse(errors.UnknownClient("no client with this ID", client_id=claimed), T0)
    [row] = rows()
    assert row.detail.startswith("no client with this ID: 'x\\x00\\ud800yyy")
    assert len(row.detail) == 255


def test_the_log_line_names_the_claimed_id_for_every_refusal(caplog):
    with caplog.at_level(logging.WARNING, logger="clientauth"):
        for i in range(3):
            refuse(errors.UnknownClient("no client with this ID", client_id=f"typo-{i}"), T0)
    refused = [r.getMessage() for r in caplog.records if "refused" in r.getMessage()]
    assert len(refused) == 3
    assert all(f"client_id='typo-{i}'" in line for i, line in enumerate(refused))


def test_pruning_keeps_the_rows_seen_last(monkeypatch):
    monkeypatch.setattr(failures, "MAX_ROWS", 3)
    monkeypatch.setattr(failures, "_PRUNE_EVERY", 1)
    minute = dt.timedelta(minutes=1)
    refuse(errors.Expired(client_id="a"), T0)
    refuse(errors.Expired(client_id="b"), T0 + minute)
    refuse(errors.Expired(client_id="c"), T0 + 2 * minute)
    refuse(errors.Expired(client_id="a"), T0 + 3 * minute)  # counted: the oldest row, seen again
    refuse(errors.Expired(client_id="d"), T0 + 4 * minute)  # opened: prunes
    assert sorted((r.client_id, r.count) for r in rows()) == [("a", 2), ("c", 1), ("d", 1)]


def test_a_database_error_costs_the_row_only(monkeypatch, caplog):
    def broken(self, **kwargs):
        raise OperationalError("database is locked")

    with monkeypatch.context() as patched:
        patched.setattr(QuerySet, "update", broken)
        with caplog.at_level(logging.WARNING, logger="clientauth"):
            refuse(errors.BadSignature(client_id="app"), T0)
    assert "could not record the failure" in caplog.text
    refuse(errors.BadSignature(client_id="app"), T0)
    assert [r.count for r in rows()] == [1]


@pytest.mark.django_db(transaction=True)
def test_refusals_recorded_at_once_are_all_counted():
    """Threads on their own connections, released together: on PostgreSQL two may open
    a row each; none is lost."""
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serializes the writers; threads would share one test database")
    threads, each = 6, 20
    barrier = threading.Barrier(threads)

    def work():
        try:
            barrier.wait()
            for _ in range(each):
                refuse(errors.BadSignature(client_id="app"), T0)
        finally:
            connection.close()

    workers = [threading.Thread(target=work) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert AuthFailure.objects.aggregate(total=Sum("count"))["total"] == threads * each
    assert AuthFailure.objects.count() <= threads
