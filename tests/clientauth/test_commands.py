"""``client_assertion`` mints what the token endpoint accepts; bad input is one line."""

from __future__ import annotations

import io
from urllib.parse import urlencode

import pytest
from django.core.management import CommandError, call_command

from clientauth.constants import JWT_BEARER_CLIENT_ASSERTION_TYPE
from clientauth.registration import register_service_provider
from keystore.services import import_certificate

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
    response = client.post(
        "/oauth2/token",
        urlencode(
            {
                "grant_type": "client_credentials",
                "client_assertion_type": JWT_BEARER_CLIENT_ASSERTION_TYPE,
                "client_assertion": token,
            }
        ),
        content_type="application/x-www-form-urlencoded",
    )
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
            "client_assertion", "--client-id", "x", "--key", str(key_file), "--alg", "ES256"
        )
