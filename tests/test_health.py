"""/healthz and /readyz: liveness touches nothing; readiness is the database, with the
cache reported but never decisive (CONTRACT: "Redis down is `degraded`, still 200")."""

from __future__ import annotations

from unittest import mock

import pytest
from django.db import OperationalError


def test_healthz_answers_without_the_database(client):
    # No django_db mark: any query would raise "Database access not allowed".
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]


@pytest.mark.django_db
def test_readyz_ok_with_database_and_cache(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "cache": "ok"}


@pytest.mark.django_db
def test_readyz_is_503_when_the_database_does_not_answer(client):
    with mock.patch("authserver.health.connection") as connection:
        connection.cursor.side_effect = OperationalError("connection refused")
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"


@pytest.mark.django_db
def test_readyz_is_degraded_but_200_when_the_cache_does_not_answer(client, settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens there
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.1, "SOCKET_TIMEOUT": 0.1},
        }
    }
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "degraded", "database": "ok", "cache": "unavailable"}


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_probes_are_get_only(client, path):
    assert client.post(path).status_code == 405
