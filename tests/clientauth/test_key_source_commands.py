"""``register_app --jwks-uri/--jwks``, ``set_key_source`` and ``show_keys``, run as manage.py
runs them: what is stored, and every refusal one line, non-zero, with nothing written
and no traceback."""

from __future__ import annotations

import json

import pytest
from django.core.management import load_command_class
from django.db import connections

from clientauth.models import ClientJwks, ClientMetadata, ServiceProvider
from keystore.services import import_certificate
from tests import keys
from tests.clientauth.jwks_support import jwk_of, jwks_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def run(capsys, monkeypatch):
    """``run(command, *argv)``: (exit code, stdout, stderr)."""
    monkeypatch.setattr(connections, "close_all", lambda: None)

    def run(name: str, *argv: str) -> tuple[int, str, str]:
        command = load_command_class("clientauth", name)
        capsys.readouterr()
        try:
            command.run_from_argv(["manage.py", name, *argv, "--skip-checks"])
            code = 0
        except SystemExit as exc:
            code = exc.code
        out, err = capsys.readouterr()
        return code, out, err

    return run


@pytest.fixture
def jwks_file(tmp_path, rsa_key):
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps(jwks_of(jwk_of(rsa_key, "k1", use="sig"))))
    return path


def register(run, *argv) -> str:
    code, out, err = run("register_app", "--name", "App", "--grant-types", "client_credentials",
                         *argv, "--json")  # fmt: skip
    assert (code, err) == (0, ""), err
    return json.loads(out)["client_id"]


def assert_one_line_error(result, *fragments):
    code, out, err = result
    assert code != 0
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1, err
    for fragment in fragments:
        assert fragment in err, err


def test_register_with_an_inline_jwks(run, jwks_file, rsa_key):
    client_id = register(run, "--jwks", str(jwks_file))
    metadata = ClientMetadata.objects.get(application__client_id=client_id)
    assert metadata.key_source == "jwks" and metadata.jwks_uri == ""
    stored = ClientJwks.objects.get(application=metadata.application)
    assert stored.sha256 == metadata.jwks_sha256
    assert json.loads(stored.jwks)["keys"][0]["kid"] == "k1"


def test_register_with_a_jwks_uri(run):
    client_id = register(run, "--jwks-uri", "https://rp.example/jwks.json")
    metadata = ClientMetadata.objects.get(application__client_id=client_id)
    assert (metadata.key_source, metadata.jwks_uri) == ("jwks_uri", "https://rp.example/jwks.json")
    assert not ClientJwks.objects.exists()


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ("{not json", "not JSON"),
        (json.dumps({"keys": [{"kty": "oct", "k": "c2VjcmV0", "kid": "s"}]}), "private member"),
    ],
)
def test_register_refuses_a_bad_jwks_file_writing_nothing(run, tmp_path, content, fragment):
    path = tmp_path / "bad.json"
    path.write_text(content)
    assert_one_line_error(
        run(
            "register_app",
            "--name",
            "App",
            "--jwks",
            str(path),
            "--callback",
            "https://a.example/cb",
        ),
        fragment,
    )
    assert not ServiceProvider.objects.exists()


def test_register_refuses_a_missing_file_both_sources_and_http(run, jwks_file, tmp_path):
    base = ("register_app", "--name", "App", "--callback", "https://a.example/cb")
    assert_one_line_error(run(*base, "--jwks", str(tmp_path / "missing.json")), "--jwks")
    assert_one_line_error(
        run(*base, "--jwks", str(jwks_file), "--jwks-uri", "https://a.example/jwks"),
        "not allowed with argument",
    )
    assert_one_line_error(run(*base, "--jwks-uri", "http://a.example/jwks"), "https")
    assert_one_line_error(
        run(*base, "--jwks-uri", "https://a.example/jwks", "--auth-method", "client_secret_basic"),
        "only to private_key_jwt",
    )
    assert not ServiceProvider.objects.exists()


def test_set_key_source_switches_and_back(run, jwks_file, rsa_key, caplog):
    client_id = register(run)
    code, out, err = run("set_key_source", "--client-id", client_id, "--jwks", str(jwks_file))
    assert (code, err) == (0, "")
    assert out.strip() == f"Key source of {client_id}: certificate -> jwks"
    assert "key source changed" in caplog.text and "to=jwks" in caplog.text

    code, out, _ = run(
        "set_key_source", "--client-id", client_id, "--jwks-uri", "https://rp.example/k"
    )
    assert code == 0 and "jwks -> jwks_uri" in out
    metadata = ClientMetadata.objects.get(application__client_id=client_id)
    assert (metadata.jwks_uri, metadata.jwks_sha256) == ("https://rp.example/k", "")
    assert not ClientJwks.objects.exists()

    code, out, _ = run("set_key_source", "--client-id", client_id, "--certificate")
    assert code == 0 and "jwks_uri -> certificate" in out
    metadata.refresh_from_db()
    assert (metadata.key_source, metadata.jwks_uri) == ("certificate", "")


def test_set_key_source_refusals_change_nothing(run, tmp_path):
    client_id = register(run)
    bad = tmp_path / "weak.json"
    bad.write_text(json.dumps(jwks_of(jwk_of(keys.rsa_pair(1024), "weak"))))
    assert_one_line_error(
        run("set_key_source", "--client-id", client_id, "--jwks", str(bad)), "1024 bits"
    )
    assert_one_line_error(run("set_key_source", "--client-id", "nobody", "--certificate"), "nobody")
    assert_one_line_error(run("set_key_source", "--client-id", client_id), "required")
    assert_one_line_error(
        run("set_key_source", "--client-id", client_id, "--jwks-uri", "https://10.0.0.1/jwks"),
        "not a public address",
    )
    metadata = ClientMetadata.objects.get(application__client_id=client_id)
    assert metadata.key_source == "certificate"


def test_show_keys_of_each_source(run, jwks_file, rsa_key):
    client_id = register(run)
    import_certificate(client_id, rsa_key.cert_pem)
    code, out, _ = run("show_keys", "--client-id", client_id)
    assert code == 0 and out.startswith("Source: certificate")
    cert_line = out.strip().splitlines()[-1]
    assert "kty=RSA" in cert_line

    run("set_key_source", "--client-id", client_id, "--jwks", str(jwks_file))
    code, out, _ = run("show_keys", "--client-id", client_id)
    assert "Source: jwks" in out
    jwk_line = out.strip().splitlines()[-1]
    assert jwk_line.startswith("kid=k1 kty=RSA alg=- use=sig sha256=")
    # The same key, the same RFC 7638 thumbprint, whichever source holds it.
    assert jwk_line.split("sha256=")[1] == cert_line.split("sha256=")[1]

    code, out, _ = run("show_keys", "--client-id", client_id, "--json")
    report = json.loads(out)
    assert report["source"] == "jwks" and report["keys"][0]["kid"] == "k1"


def test_show_keys_fetch(run, jwks_settings, jwks_server, fresh_jwks, rsa_key):
    jwks_server.publish(jwk_of(rsa_key, "k1"), max_age=120)
    client_id = register(run, "--jwks-uri", jwks_server.url())
    code, out, _ = run("show_keys", "--client-id", client_id)
    assert code == 0 and "Note: not fetched yet" in out
    code, out, _ = run("show_keys", "--client-id", client_id, "--fetch")
    assert code == 0 and "kid=k1" in out and "Fetched: 20" in out
    assert jwks_server.count() == 1

    jwks_server.stop()
    result = run("show_keys", "--client-id", client_id, "--fetch")
    assert_one_line_error(result, "fetch failed")
    assert "kid=k1" in result[1]  # the keys fetched before are still shown, and used


def test_show_keys_fetch_refuses_other_sources(run):
    client_id = register(run)
    assert_one_line_error(run("show_keys", "--client-id", client_id, "--fetch"), "not a jwks_uri")
