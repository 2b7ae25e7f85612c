"""The committed migrations describe the models: a model change without its migration
would leave a new database and an upgraded one with different schemas."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command


@pytest.mark.django_db
def test_no_model_change_lacks_a_migration():
    out = io.StringIO()
    try:
        call_command("makemigrations", "--check", "--dry-run", stdout=out, stderr=out)
    except SystemExit:  # --check exits 1 when a migration is missing
        pytest.fail(f"models and migrations differ:\n{out.getvalue()}")


@pytest.mark.django_db
def test_jti_table_indexes_only_its_unique_pair():
    """Every index on IDN_OIDC_JTI is written once per token issued: only the unique
    (CLIENT_ID, JWT_ID) pair that refuses replays, and the primary key, are kept."""
    from django.db import connection

    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, "IDN_OIDC_JTI")
    indexed = sorted(
        tuple(c["columns"])
        for c in constraints.values()
        if (c["index"] or c["unique"] or c["primary_key"]) and c["columns"]
    )
    assert indexed == [("CLIENT_ID", "JWT_ID"), ("id",)]
