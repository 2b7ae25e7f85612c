"""The certificate commands as an admin runs them: the same certificate from every
format, each refusal a non-zero exit with one line on stderr and nothing written, an
alias that is no client refused unless ``--force``, and no expiry warnings before a
command's own line."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes
from django.core.management import load_command_class
from django.db import connections
from oauth2_provider.models import get_application_model

from keystore.models import Certificate
from tests import keys

pytestmark = pytest.mark.django_db

PASSWORD = "changeit"
ROOT = Path(__file__).resolve().parents[2]
# The aliases these tests import under, registered as clients (import_cert refuses
# an alias that is no client ID unless --force).
CLIENT_IDS = ["client", "client-0", "client-1", "client-2", "client-3", "a", "b", "c"]


@pytest.fixture(autouse=True)
def clients():
    application = get_application_model()
    for client_id in CLIENT_IDS:
        application.objects.create(
            client_id=client_id,
            name=client_id,
            client_type=application.CLIENT_CONFIDENTIAL,
            authorization_grant_type=application.GRANT_CLIENT_CREDENTIALS,
        )


@pytest.fixture
def run(capsys, monkeypatch):
    """Run a command the way manage.py does (argv parsing, CommandError to stderr,
    sys.exit), returning (exit code, stdout, stderr)."""
    # run_from_argv closes every connection when done; the test's transaction must stay.
    monkeypatch.setattr(connections, "close_all", lambda: None)

    def run(name: str, *argv: str) -> tuple[int, str, str]:
        app = "clientauth" if name == "register_app" else "keystore"
        command = load_command_class(app, name)
        capsys.readouterr()
        try:
            command.run_from_argv(["manage.py", name, *argv, "--skip-checks"])
            code = 0
        except SystemExit as exc:
            code = exc.code
        out, err = capsys.readouterr()
        return code, out, err

    return run


def write(tmp_path: Path, name: str, data: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


def snapshot() -> list[tuple]:
    return list(Certificate.objects.order_by("alias").values_list())


def test_same_certificate_from_every_format(run, tmp_path, rsa_key):
    expected = rsa_key.certificate.fingerprint(hashes.SHA256()).hex()
    files = {
        "client.pem": (rsa_key.cert_pem, []),
        "client.der": (rsa_key.cert_der, []),
        "client.p12": (keys.pkcs12_bytes(rsa_key, PASSWORD), ["--storepass", PASSWORD]),
        "client.jks": (
            keys.jks_bytes(PASSWORD, ("client", rsa_key)),
            ["--storepass", PASSWORD],
        ),
    }
    for index, (name, (data, extra)) in enumerate(files.items()):
        alias = f"client-{index}"
        code, out, err = run("import_cert", "--alias", alias, write(tmp_path, name, data), *extra)
        assert code == 0, name
        assert out.count("\n") == 1 and expected in out
        # The same certificate under another alias: imported, with one warning naming them.
        earlier = ", ".join(repr(f"client-{i}") for i in range(index))
        assert err == (
            f"warning: the same certificate is also imported under alias {earlier}: "
            "its key authenticates each of them\n"
            if index
            else ""
        ), name
        assert Certificate.objects.get(alias=alias).thumbprint_sha256 == expected
    assert set(Certificate.objects.values_list("thumbprint_sha256", flat=True)) == {expected}


def test_pem_with_a_private_key_stores_only_the_certificate(run, tmp_path, rsa_key):
    path = write(tmp_path, "both.pem", rsa_key.private_pem + rsa_key.cert_pem)
    assert run("import_cert", "--alias", "client", path)[0] == 0
    stored = Certificate.objects.get(alias="client").pem
    assert "PRIVATE KEY" not in stored
    assert stored == rsa_key.cert_pem.decode()


def test_multi_entry_jks_with_keystore_alias(run, tmp_path, rsa_key, ec_key):
    path = write(tmp_path, "two.jks", keys.jks_bytes(PASSWORD, ("one", rsa_key), ("two", ec_key)))
    argv = ["--alias", "client", path, "--storepass", PASSWORD, "--keystore-alias", "two"]
    assert run("import_cert", *argv)[0] == 0
    assert Certificate.objects.get().key_type == "EC"


@pytest.fixture
def refused_files(tmp_path, rsa_key, ec_key, rsa1024_key, dsa_key, expired_key):
    p12 = keys.pkcs12_bytes(rsa_key, PASSWORD)
    jks_file = keys.jks_bytes(PASSWORD, ("client", rsa_key))
    two = keys.jks_bytes(PASSWORD, ("one", rsa_key), ("two", ec_key))
    cases = {
        "no certificate": ("key.pem", rsa_key.private_pem, []),
        "garbage": ("garbage.bin", os.urandom(300), []),
        "truncated der": ("cut.der", rsa_key.cert_der[:100], []),
        "truncated p12": ("cut.p12", p12[:-300], ["--storepass", PASSWORD]),
        "truncated jks": ("cut.jks", jks_file[:-30], ["--storepass", PASSWORD]),
        "p12 wrong password": ("client.p12", p12, ["--storepass", "wrong"]),
        "jks wrong password": ("client.jks", jks_file, ["--storepass", "wrong"]),
        "expired": ("expired.pem", expired_key.cert_pem, []),
        "rsa 1024": ("weak.pem", rsa1024_key.cert_pem, []),
        "dsa": ("dsa.pem", dsa_key.cert_pem, []),
        "multi-entry jks": ("two.jks", two, ["--storepass", PASSWORD]),
        "unknown keystore alias": (
            "two.jks",
            two,
            ["--storepass", PASSWORD, "--keystore-alias", "three"],
        ),
        "too large": ("big.pem", rsa_key.cert_pem + b"\n" * (1024 * 1024), []),
        "alias exists": ("other.pem", ec_key.cert_pem, []),
    }
    return {
        case: (write(tmp_path, name, data), extra) for case, (name, data, extra) in cases.items()
    }


REFUSALS = [
    "no certificate", "garbage", "truncated der", "truncated p12", "truncated jks",
    "p12 wrong password", "jks wrong password", "expired", "rsa 1024", "dsa",
    "multi-entry jks", "unknown keystore alias", "too large", "alias exists",
]  # fmt: skip


@pytest.mark.parametrize("case", REFUSALS)
def test_refusals_exit_non_zero_with_one_line_and_write_nothing(
    run, refused_files, rsa_key, tmp_path, case
):
    assert sorted(refused_files) == sorted(REFUSALS)
    # An existing certificate under the alias: "alias exists" needs it, and every other
    # refusal must leave it exactly as it was, even with --replace.
    existing = write(tmp_path, "existing.pem", rsa_key.cert_pem)
    assert run("import_cert", "--alias", "client", existing)[0] == 0
    before = snapshot()
    path, extra = refused_files[case]
    replace = [] if case == "alias exists" else ["--replace"]
    code, out, err = run("import_cert", "--alias", "client", path, *extra, *replace)
    assert code != 0
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("CommandError: "), err
    assert "Traceback" not in err
    assert snapshot() == before


def test_refusal_names_the_option(run, refused_files):
    _, _, err = run("import_cert", "--alias", "c", *_args(refused_files["multi-entry jks"]))
    assert "--keystore-alias" in err


def _args(entry):
    path, extra = entry
    return [path, *extra]


def test_unreadable_file(run, tmp_path):
    code, _, err = run("import_cert", "--alias", "c", str(tmp_path / "missing.pem"))
    assert code != 0 and err.count("\n") == 1 and "missing.pem" in err
    code, _, err = run("import_cert", "--alias", "c", str(tmp_path))  # a directory
    assert code != 0 and err.count("\n") == 1
    assert not Certificate.objects.exists()


@pytest.mark.parametrize("name", ["show_cert", "delete_cert", "export_cert"])
def test_unknown_alias_exits_non_zero(run, name):
    code, out, err = run(name, "--alias", "nobody")
    assert code != 0 and out == ""
    assert err.count("\n") == 1 and "nobody" in err


def test_list_show_export_delete(run, tmp_path, rsa_key, ec_key):
    run("import_cert", "--alias", "a", write(tmp_path, "a.pem", rsa_key.cert_pem))
    run("import_cert", "--alias", "b", write(tmp_path, "b.der", ec_key.cert_der))

    code, out, _ = run("list_certs")
    assert code == 0 and [line.split("\t")[0] for line in out.splitlines()] == ["a", "b"]

    code, out, _ = run("show_cert", "--alias", "b")
    assert code == 0 and "EC 256" in out and "CN=ec-client" in out

    code, out, _ = run("export_cert", "--alias", "a")
    assert code == 0 and out == rsa_key.cert_pem.decode()
    target = tmp_path / "out.pem"
    code, out, _ = run("export_cert", "--alias", "a", "--out", str(target))
    assert code == 0 and out.count("\n") == 1
    assert target.read_bytes() == rsa_key.cert_pem

    code, out, _ = run("delete_cert", "--alias", "a")
    assert code == 0 and out.count("\n") == 1
    assert list(Certificate.objects.values_list("alias", flat=True)) == ["b"]


# --- the real thing: manage.py in a process of its own ------------------------------


@pytest.fixture(scope="module")
def migrated_db(tmp_path_factory):
    path = tmp_path_factory.mktemp("db") / "authserver.sqlite3"
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("REDIS_URL",)},
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": f"sqlite:///{path}",
    }
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--skip-checks", "-v", "0"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    return path, env


def manage(env: dict, *argv: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *argv],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def register(env: dict, name: str = "client") -> str:
    result = manage(
        env, "register_app", "--name", name, "--callback", "https://c.example/cb", "--json"
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)["client_id"]


def test_manage_py_import_cert(migrated_db, tmp_path, rsa_key, ec_key):
    path, env = migrated_db
    client_id = register(env)
    pem = write(tmp_path, "c.pem", rsa_key.cert_pem)
    ok = manage(env, "import_cert", "--alias", client_id, pem)
    assert ok.returncode == 0, ok.stderr

    refusals = [
        ["--alias", client_id, write(tmp_path, "e.pem", ec_key.cert_pem)],  # alias exists
        ["--alias", "other", write(tmp_path, "g.bin", b"\x30\x82garbage")],
        ["--alias", "other", str(tmp_path / "missing.pem")],
        ["--alias", "no-such-client", write(tmp_path, "e2.pem", ec_key.cert_pem)],
    ]
    for argv in refusals:
        result = manage(env, "import_cert", *argv)
        assert result.returncode != 0
        assert result.stdout == ""
        lines = result.stderr.splitlines()
        assert len(lines) == 1 and lines[0].startswith("CommandError: "), result.stderr
        assert "Traceback" not in result.stderr

    with sqlite3.connect(path) as db:
        stored = db.execute("SELECT alias, pem FROM keystore_certificate").fetchall()
    assert stored == [(client_id, rsa_key.cert_pem.decode())]


@pytest.fixture(scope="module")
def expiring_soon(tmp_path_factory):
    """A database of its own with two certificates expiring within 30 days (W001)."""
    folder = tmp_path_factory.mktemp("expiring")
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("REDIS_URL",)},
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": f"sqlite:///{folder / 'authserver.sqlite3'}",
    }
    assert manage(env, "migrate", "--skip-checks", "-v", "0").returncode == 0
    for name in ("soon-1", "soon-2"):
        key = keys.rsa_pair(name=name).private_key
        pem = keys.KeyPair(key, keys.make_certificate(key, days=10), "RS256").cert_pem
        result = manage(env, "import_cert", "--alias", name, "--force", write(folder, name, pem))
        assert result.returncode == 0, result.stderr
    return env


def test_a_missing_file_is_one_line_on_stderr_and_nothing_else(expiring_soon, tmp_path):
    result = manage(expiring_soon, "import_cert", "--alias", "x", str(tmp_path / "missing.pem"))
    assert result.returncode == 1
    assert result.stdout == ""
    missing = str(tmp_path / "missing.pem")
    assert result.stderr == f"CommandError: cannot read {missing!r}: No such file or directory\n"


def test_a_bad_flag_is_one_line_on_stderr_and_nothing_else(expiring_soon):
    result = manage(expiring_soon, "register_app", "--name", "x", "--no-such-flag")
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr == (
        "manage.py register_app: error: unrecognized arguments: --no-such-flag (see --help)\n"
    )


def test_expiry_warnings_only_where_asked(expiring_soon):
    """Database checks run on request (check --database), and list_certs warns."""
    assert "keystore.W001" not in manage(expiring_soon, "check").stderr
    asked = manage(expiring_soon, "check", "--database", "default")
    assert asked.stderr.count("keystore.W001") == 2, asked.stderr
    listed = manage(expiring_soon, "list_certs")
    assert listed.returncode == 0 and listed.stdout.count("\n") == 2
    assert [line.split(": ", 1)[0] for line in listed.stderr.splitlines()] == ["warning"] * 2


def test_an_alias_that_is_no_client_needs_force(run, tmp_path, rsa_key):
    pem = write(tmp_path, "c.pem", rsa_key.cert_pem)
    code, out, err = run("import_cert", "--alias", "typo-client", pem)
    assert (code, out) == (1, "")
    assert err == (
        f"CommandError: {pem}: alias 'typo-client' is not a registered client ID "
        "(register the client first, or use --force to import anyway)\n"
    )
    assert not Certificate.objects.exists()
    code, out, err = run("import_cert", "--alias", "typo-client", pem, "--force")
    assert (code, err) == (0, "") and "typo-client" in out
    assert Certificate.objects.get().alias == "typo-client"
