"""register_app and clientauth.registration: what is stored, the secret hashed, every
refusal one line with nothing written, and the grants DOT then allows."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
from django.contrib.auth.hashers import check_password, identify_hasher
from django.core.management import load_command_class
from django.db import connections
from oauth2_provider.settings import oauth2_settings

from clientauth.models import ServiceProvider
from clientauth.registration import RegistrationError, register_service_provider

pytestmark = pytest.mark.django_db

CALLBACK = "https://app.example/callback"


@pytest.fixture
def run(capsys, monkeypatch):
    """register_app as manage.py runs it: (exit code, stdout, stderr)."""
    monkeypatch.setattr(connections, "close_all", lambda: None)

    def run(*argv: str) -> tuple[int, str, str]:
        command = load_command_class("clientauth", "register_app")
        capsys.readouterr()
        try:
            command.run_from_argv(["manage.py", "register_app", *argv, "--skip-checks"])
            code = 0
        except SystemExit as exc:
            code = exc.code
        out, err = capsys.readouterr()
        return code, out, err

    return run


def test_json_prints_one_object_and_stores_the_secret_hashed(run):
    code, out, err = run("--name", "Shop", "--callback", CALLBACK, "--json")
    assert (code, err) == (0, "")
    credentials = json.loads(out)
    assert set(credentials) == {"client_id", "client_secret"}
    provider = ServiceProvider.objects.get(client_id=credentials["client_id"])
    assert provider.client_secret != credentials["client_secret"]
    identify_hasher(provider.client_secret)  # a Django password hash
    assert check_password(credentials["client_secret"], provider.client_secret)
    assert not check_password("not-the-secret", provider.client_secret)
    # The defaults the contract names.
    assert provider.name == "Shop"
    assert provider.redirect_uris == CALLBACK
    assert provider.client_type == ServiceProvider.CLIENT_CONFIDENTIAL
    metadata = provider.client_metadata
    assert metadata.token_endpoint_auth_method == "private_key_jwt"
    assert metadata.token_endpoint_auth_signing_alg == ""
    assert metadata.grant_type_list == ["authorization_code", "refresh_token", "client_credentials"]
    assert provider.authorization_grant_type == ServiceProvider.GRANT_AUTHORIZATION_CODE


def test_plain_output_like_wso2(run):
    code, out, _ = run(
        "--name", "Batch", "--grant-types", "client_credentials", "--auth-method",
        "client_secret_basic",
    )  # fmt: skip
    assert code == 0
    key_line, secret_line = out.splitlines()
    assert key_line.startswith("OAuth Client Key: ")
    assert secret_line.startswith("OAuth Client Secret: ")
    provider = ServiceProvider.objects.get(client_id=key_line.split(": ", 1)[1])
    assert check_password(secret_line.split(": ", 1)[1], provider.client_secret)
    assert provider.authorization_grant_type == ServiceProvider.GRANT_CLIENT_CREDENTIALS
    assert provider.redirect_uris == ""


def test_options_are_stored(run):
    code, out, _ = run(
        "--name", "Pinned", "--callback", CALLBACK, "--callback", "http://localhost:8080/cb",
        "--grant-types", "authorization_code, refresh_token", "--signing-alg", "ES256", "--json",
    )  # fmt: skip
    assert code == 0
    provider = ServiceProvider.objects.get(client_id=json.loads(out)["client_id"])
    assert provider.redirect_uris.split() == [CALLBACK, "http://localhost:8080/cb"]
    assert provider.client_metadata.grant_type_list == ["authorization_code", "refresh_token"]
    assert provider.client_metadata.token_endpoint_auth_signing_alg == "ES256"


REFUSALS = {
    "relative callback": ["--callback", "/callback"],
    "ftp callback": ["--callback", "ftp://app.example/cb"],
    "callback with fragment": ["--callback", "https://app.example/cb#x"],
    "broken callback": ["--callback", "http://[::1"],
    "code without callback": ["--grant-types", "authorization_code"],
    "unknown grant": ["--callback", CALLBACK, "--grant-types", "authorization_code,password"],
    "implicit": ["--callback", CALLBACK, "--grant-types", "implicit"],
    "empty grants": ["--callback", CALLBACK, "--grant-types", ","],
    "refresh alone": ["--callback", CALLBACK, "--grant-types", "refresh_token"],
    "unknown auth method": ["--callback", CALLBACK, "--auth-method", "tls_client_auth"],
    "hmac alg": ["--callback", CALLBACK, "--signing-alg", "HS256"],
    "none alg": ["--callback", CALLBACK, "--signing-alg", "none"],
    "alg with a secret": [
        "--callback", CALLBACK, "--auth-method", "client_secret_post", "--signing-alg", "RS256",
    ],
    "missing name": ["--callback", CALLBACK],
    "blank name": ["--name", "  ", "--callback", CALLBACK],
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(REFUSALS))
def test_refusals_exit_non_zero_with_one_line_and_write_nothing(run, case):
    argv = REFUSALS[case]
    if "--name" not in argv and case != "missing name":
        argv = ["--name", "App", *argv]
    code, out, err = run(*argv, "--json")
    assert code != 0
    assert out == ""
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert not ServiceProvider.objects.exists()


def test_registration_error_is_a_value_error():
    with pytest.raises(RegistrationError) as caught:
        register_service_provider(
            name="App", callbacks=["nope"], grant_types=["authorization_code"],
            auth_method="private_key_jwt",
        )  # fmt: skip
    assert isinstance(caught.value, ValueError)
    assert caught.value.reason == "invalid_redirect_uri"


# --- the grants DOT allows afterwards -------------------------------------------------


def allowed(provider: ServiceProvider, grant_type: str) -> bool:
    request = SimpleNamespace(client=provider)
    return oauth2_settings.OAUTH2_VALIDATOR_CLASS().validate_grant_type(
        provider.client_id, grant_type, provider, request
    )


def register(grant_types: list[str]) -> ServiceProvider:
    provider, _ = register_service_provider(
        name="App", callbacks=[CALLBACK], grant_types=grant_types, auth_method="private_key_jwt"
    )
    return ServiceProvider.objects.get(pk=provider.pk)


@pytest.mark.parametrize(
    ("grants", "expected"),
    [
        (
            ["authorization_code", "refresh_token", "client_credentials"],
            {"authorization_code", "refresh_token", "client_credentials"},
        ),
        (["authorization_code"], {"authorization_code"}),
        (["authorization_code", "refresh_token"], {"authorization_code", "refresh_token"}),
        (["client_credentials"], {"client_credentials"}),
    ],
)
def test_dot_allows_exactly_the_registered_grants(grants, expected):
    provider = register(grants)
    wire = ("authorization_code", "refresh_token", "client_credentials", "password")
    assert {g for g in wire if allowed(provider, g)} == expected


def test_rows_without_a_grant_list_keep_dots_behaviour():
    provider = ServiceProvider.objects.create(
        name="Legacy",
        client_type=ServiceProvider.CLIENT_CONFIDENTIAL,
        authorization_grant_type=ServiceProvider.GRANT_CLIENT_CREDENTIALS,
    )
    assert allowed(provider, "client_credentials")
    assert not allowed(provider, "authorization_code")


def test_update_keeps_credentials_and_validates_the_same_way():
    from clientauth.registration import grant_types_of, update_service_provider

    provider, secret = register_service_provider(
        name="App", callbacks=[CALLBACK], grant_types=["authorization_code"],
        auth_method="private_key_jwt",
    )  # fmt: skip
    client_id, stored_secret = provider.client_id, provider.client_secret
    update_service_provider(
        provider, name="Batch", callbacks=[], grant_types=["client_credentials"],
        auth_method="client_secret_basic",
    )  # fmt: skip
    provider = ServiceProvider.objects.get(pk=provider.pk)
    assert (provider.client_id, provider.client_secret) == (client_id, stored_secret)
    assert check_password(secret, provider.client_secret)
    assert grant_types_of(provider) == ["client_credentials"]
    assert allowed(provider, "client_credentials") and not allowed(provider, "authorization_code")
    with pytest.raises(RegistrationError):
        update_service_provider(
            provider, name="Renamed", callbacks=[], grant_types=["authorization_code"],
            auth_method="private_key_jwt",
        )  # fmt: skip
    assert provider.name == "Batch"  # untouched in memory too
    assert ServiceProvider.objects.get(pk=provider.pk).name == "Batch"
