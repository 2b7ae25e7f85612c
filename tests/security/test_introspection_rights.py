"""Who may introspect what (security review, defect 1; RFC 7662 sections 2.1 and 4).

The attack: a client_credentials client posted another client's access token to
``/oauth2/introspect`` with its own valid credentials and learned that token's client,
user and scope. Now a client learns about its own tokens, a client registered as a
resource server about every client's, and anyone else gets ``{"active": false}``,
the answer for a token that does not exist. The same holds for a caller that
authenticates with a bearer token carrying the ``introspection`` scope.
"""

from __future__ import annotations

import json

import pytest
from django.core.management import call_command

from clientauth.models import ClientMetadata
from clientauth.registration import register_service_provider
from tests.oidc.conftest import basic, form_post

pytestmark = pytest.mark.django_db


def _client(name: str, **extra):
    app, secret = register_service_provider(
        name=name,
        callbacks=[],
        grant_types=["client_credentials"],
        auth_method="client_secret_basic",
        **extra,
    )
    return app, secret


def _token(client, app, secret, scope: str = "read") -> str:
    response = form_post(
        client,
        "/oauth2/token",
        {"grant_type": "client_credentials", "scope": scope},
        HTTP_AUTHORIZATION=basic(app.client_id, secret),
    )
    assert response.status_code == 200, response.content
    return response.json()["access_token"]


def _introspect(client, token: str, **auth) -> dict:
    response = form_post(client, "/oauth2/introspect", {"token": token}, **auth)
    assert response.status_code == 200, response.content
    return response.json()


@pytest.fixture
def owner(client):
    app, secret = _client("Owner")
    return app, secret, _token(client, app, secret)


def test_another_client_learns_nothing_of_a_token(client, owner):
    app, _, token = owner
    other, other_secret = _client("Curious")
    answer = _introspect(client, token, HTTP_AUTHORIZATION=basic(other.client_id, other_secret))
    assert answer == {"active": False}
    # The same answer as for a token that does not exist.
    assert _introspect(
        client, "no-such-token", HTTP_AUTHORIZATION=basic(other.client_id, other_secret)
    ) == {"active": False}


def test_a_client_introspects_its_own_token(client, owner):
    app, secret, token = owner
    answer = _introspect(client, token, HTTP_AUTHORIZATION=basic(app.client_id, secret))
    assert answer["active"] is True and answer["client_id"] == app.client_id


def test_a_resource_server_introspects_every_token(client, owner):
    app, _, token = owner
    rs, rs_secret = _client("API", resource_server=True)
    answer = _introspect(client, token, HTTP_AUTHORIZATION=basic(rs.client_id, rs_secret))
    assert answer["active"] is True and answer["client_id"] == app.client_id
    assert answer["scope"] == "read"


def test_a_bearer_token_with_the_introspection_scope_follows_the_same_rule(client, owner):
    app, _, token = owner
    plain, plain_secret = _client("Scoped", scopes=["read", "introspection"])
    rs, rs_secret = _client("Scoped API", scopes=["introspection"], resource_server=True)
    plain_bearer = _token(client, plain, plain_secret, scope="introspection")
    rs_bearer = _token(client, rs, rs_secret, scope="introspection")
    assert _introspect(client, token, HTTP_AUTHORIZATION=f"Bearer {plain_bearer}") == {
        "active": False
    }
    answer = _introspect(client, token, HTTP_AUTHORIZATION=f"Bearer {rs_bearer}")
    assert answer["active"] is True and answer["client_id"] == app.client_id


def test_register_app_sets_the_resource_server_flag_and_scopes(capsys):
    call_command(
        "register_app",
        "--name",
        "Registered API",
        "--grant-types",
        "client_credentials",
        "--resource-server",
        "--scopes",
        "read,introspection",
        "--json",
    )
    client_id = json.loads(capsys.readouterr().out)["client_id"]
    metadata = ClientMetadata.objects.get(application__client_id=client_id)
    assert metadata.resource_server is True
    assert metadata.scope == "read introspection"

    call_command("register_app", "--name", "Plain", "--grant-types", "client_credentials", "--json")
    client_id = json.loads(capsys.readouterr().out)["client_id"]
    metadata = ClientMetadata.objects.get(application__client_id=client_id)
    assert metadata.resource_server is False and metadata.scope == ""
