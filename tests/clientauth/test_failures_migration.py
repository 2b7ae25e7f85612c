"""Migration 0007 turns each existing failure row into a burst of one, last seen when it
was made."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = ("clientauth", "0006_client_scope_resource_server")
AFTER = ("clientauth", "0007_authfailure_count_last_seen")


@pytest.mark.django_db(transaction=True)
def test_existing_rows_become_bursts_of_one():
    executor = MigrationExecutor(connection)
    executor.migrate([BEFORE])
    old = executor.loader.project_state([BEFORE]).apps.get_model("clientauth", "AuthFailure")
    made = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    old.objects.create(client_id="app", reason="expired", created_at=made)
    try:
        executor = MigrationExecutor(connection)
        executor.migrate([AFTER])
        new = executor.loader.project_state([AFTER]).apps.get_model("clientauth", "AuthFailure")
        row = new.objects.get()
        assert (row.created_at, row.last_seen, row.count) == (made, made, 1)
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
