"""``client_assertion`` mints what the token endpoint accepts, refuses in one line a key
the client could not authenticate with, and mints anything with ``--no-check``; bad
input is one line."""

from __future__ import annotations

import io
import json
from urllib.parse import urlencode

import jwt
import pytest
from django.core.management import CommandError, call_command

from clientauth import jwk
from clientauth.constants import JWT_BEARER_CLIENT_ASSERTION_TYPE
from clientauth.registration import register_service_provider
from keystore.services import import_certificate


def _token_request(client, assertion: str):
    """A client_credentials request authenticated by ``assertion``."""
    return client.post(
        "/oauth2/token",
        urlencode(
            {
                "grant_type": "client_credentials",
                "client_assertion_type": JWT_BEARER_CLIENT_ASSERTION_TYPE,
                "client_assertion": assertion,
            }
        ),
        content_type="application/x-www-form-urlencoded",
    )


pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "fixture, alg",
    [
        ("rsa_key", None),
        ("ec_key", None),
        ("ed_key", None),
        ("ed_key", "Ed25519"),
        ("rsa_key", "PS256"),
    ],
)
def test_minted_assertion_is_accepted(client, tmp_path, request, fixture, alg):
    pair = request.getfixturevalue(fixture)
    sp, _ = register_service_provider(
        name="c",
        callbacks=["https://c.example/cb"],
        grant_types=["client_credentials"],
        auth_method="private_key_jwt",
    )
    import_certificate(sp.client_id, pair.cert_pem)
    key_file = tmp_path / "key.pem"
    key_file.write_bytes(pair.private_pem)
    out = io.StringIO()
    args = ["client_assertion", "--client-id", sp.client_id, "--key", str(key_file)]
    call_command(*args, *(["--alg", alg] if alg else []), stdout=out)
    token = out.getvalue().strip()
    response = _token_request(client, token)
    assert response.status_code == 200, response.content


def test_bad_key_file(tmp_path):
    bad = tmp_path / "bad.pem"
    bad.write_text("not a key")
    with pytest.raises(CommandError, match="--key"):
        call_command("client_assertion", "--client-id", "x", "--key", str(bad))
    with pytest.raises(CommandError, match="cannot read"):
        call_command("client_assertion", "--client-id", "x", "--key", str(tmp_path / "none"))


def test_alg_that_does_not_fit_the_key(tmp_path, rsa_key):
    key_file = tmp_path / "key.pem"
    key_file.write_bytes(rsa_key.private_pem)
    with pytest.raises(CommandError, match="does not fit"):
        call_command(
            "client_assertion",
            *("--client-id", "x", "--key", str(key_file), "--alg", "ES256", "--no-check"),
        )


def _register(auth_method="private_key_jwt", signing_alg="", jwks=None):
    sp, _ = register_service_provider(
        name="c",
        callbacks=["https://c.example/cb"],
        grant_types=["client_credentials"],
        auth_method=auth_method,
        signing_alg=signing_alg,
        jwks=jwks,
    )
    return sp


def _mint(tmp_path, pair, client_id, *extra) -> str:
    key_file = tmp_path / "key.pem"
    key_file.write_bytes(pair.private_pem)
    out = io.StringIO()
    call_command(
        "client_assertion", "--client-id", client_id, "--key", str(key_file), *extra, stdout=out
    )
    return out.getvalue().strip()


def _thumbprint(pair) -> str:
    return jwk.thumbprint(jwk.public_members(pair.private_key.public_key()))


def test_a_key_that_is_not_the_clients_is_refused_naming_both(tmp_path, rsa_key, attacker_key):
    sp = _register()
    import_certificate(sp.client_id, rsa_key.cert_pem)
    with pytest.raises(CommandError) as refused:
        _mint(tmp_path, attacker_key, sp.client_id)
    assert str(refused.value) == (
        f"--key: the key is not one of client {sp.client_id!r}'s keys (certificate): "
        f"key thumbprint {_thumbprint(attacker_key)}, registered {_thumbprint(rsa_key)} "
        "(--no-check to mint anyway)"
    )


@pytest.mark.parametrize(
    "case, expected",
    [
        ("unknown client", "no registered client has the ID 'nobody'"),
        ("no certificate", "has no valid certificate under its client ID"),
        ("secret client", "authenticates with client_secret_basic, not private_key_jwt"),
        ("pinned algorithm", "signs with PS256 only, not RS256 (use --alg)"),
    ],
)
def test_what_the_server_would_refuse_is_refused_in_one_line(tmp_path, rsa_key, case, expected):
    client_id = "nobody"
    if case != "unknown client":
        sp = _register(
            auth_method="client_secret_basic" if case == "secret client" else "private_key_jwt",
            signing_alg="PS256" if case == "pinned algorithm" else "",
        )
        client_id = sp.client_id
        if case != "no certificate":
            import_certificate(sp.client_id, rsa_key.cert_pem)
    with pytest.raises(CommandError) as refused:
        _mint(tmp_path, rsa_key, client_id)
    message = str(refused.value)
    assert expected in message and message.endswith("(--no-check to mint anyway)")
    assert "\n" not in message


def test_no_check_mints_without_the_database(tmp_path, rsa_key, django_assert_num_queries):
    with django_assert_num_queries(0):
        token = _mint(tmp_path, rsa_key, "not-registered-anywhere", "--no-check")
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["iss"] == claims["sub"] == "not-registered-anywhere"


def test_a_jwk_set_clients_key_is_found_and_its_kid_sent(tmp_path, client, rsa_key, ec_key):
    keyset = {
        "keys": [
            {**jwk.public_members(pair.private_key.public_key()), "kid": kid}
            for kid, pair in (("one", rsa_key), ("two", ec_key))
        ]
    }
    sp = _register(jwks=json.dumps(keyset))
    token = _mint(tmp_path, ec_key, sp.client_id)
    assert jwt.get_unverified_header(token)["kid"] == "two"
    response = _token_request(client, token)
    assert response.status_code == 200, response.content
