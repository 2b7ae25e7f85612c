"""Discovery and JWKS: URLs from AUTHSERVER_ISSUER whatever the Host header says."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import pytest

from clientauth import conf

ISSUER = "https://login.example.com"
PATHS = ["/.well-known/openid-configuration", "/oauth2/token/.well-known/openid-configuration"]


@pytest.fixture
def hostile(settings):
    settings.AUTHSERVER_ISSUER = ISSUER
    settings.ALLOWED_HOSTS = ["evil.example"]
    return {"HTTP_HOST": "evil.example", "HTTP_X_FORWARDED_HOST": "evil.example"}


@pytest.mark.django_db
@pytest.mark.parametrize("path", PATHS)
def test_every_url_comes_from_the_issuer(client, hostile, path):
    response = client.get(path, **hostile)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert "max-age" in response["Cache-Control"]
    doc = json.loads(response.content)
    assert doc["issuer"] == ISSUER
    urls = {k: v for k, v in doc.items() if k == "jwks_uri" or k.endswith("_endpoint")}
    assert len(urls) == 6
    for name, url in urls.items():
        parts = urlsplit(url)
        assert (parts.scheme, parts.netloc) == ("https", "login.example.com"), name
        assert "evil" not in url
    assert doc["token_endpoint"] == f"{ISSUER}/oauth2/token"
    assert doc["jwks_uri"] == f"{ISSUER}/oauth2/jwks"


@pytest.mark.django_db
def test_fields_of_a_certified_provider(client):
    doc = client.get(PATHS[0]).json()
    assert doc["response_types_supported"] == ["code"]
    assert doc["grant_types_supported"] == [
        "authorization_code",
        "refresh_token",
        "client_credentials",
    ]
    assert doc["subject_types_supported"] == ["public"]
    assert doc["id_token_signing_alg_values_supported"] == ["RS256"]
    assert doc["code_challenge_methods_supported"] == ["S256"]
    assert "openid" in doc["scopes_supported"]
    assert {"sub", "email", "preferred_username", "name"} <= set(doc["claims_supported"])
    assert doc["request_parameter_supported"] is False
    assert doc["claims_parameter_supported"] is False
    methods = ["private_key_jwt", "client_secret_basic", "client_secret_post"]
    algorithms = [a for a in conf.merged()["ALLOWED_ALGORITHMS"]]
    for endpoint in ("token", "introspection", "revocation"):
        assert doc[f"{endpoint}_endpoint_auth_methods_supported"] == methods
        assert doc[f"{endpoint}_endpoint_auth_signing_alg_values_supported"] == algorithms


@pytest.mark.django_db
def test_signing_algorithms_are_exactly_the_policy(client, settings):
    settings.PRIVATE_KEY_JWT = {"ALLOWED_ALGORITHMS": ["PS256", "ES256"]}
    doc = client.get(PATHS[0]).json()
    assert doc["token_endpoint_auth_signing_alg_values_supported"] == ["PS256", "ES256"]
    assert doc["revocation_endpoint_auth_signing_alg_values_supported"] == ["PS256", "ES256"]


@pytest.mark.django_db
def test_jwks_publishes_public_keys_only(client):
    response = client.get("/oauth2/jwks")
    assert response.status_code == 200
    assert "max-age" in response["Cache-Control"]
    (key,) = response.json()["keys"]
    assert (key["alg"], key["use"], key["kty"]) == ("RS256", "sig", "RSA")
    assert key["kid"] and "d" not in key
