"""Secrets stay out of the logs (CONTRACT.md and STYLE.md: "the log gets the reason, with the
client ID, never the assertion"; RFC 7523 section 5 treats an assertion as a credential).

One representative run of the corpus, every logger captured at DEBUG with Django's
DEBUG on (so SQL statements and their parameters are logged too), then every captured
line, and every recorded failure row, is scanned for: any assertion sent (whole, its
signing input, or its signature segment), the client secret, and private-key material.
"""

from __future__ import annotations

import base64
import logging
import uuid

import pytest
from cryptography.hazmat.primitives import serialization
from django.core.management import CommandError, call_command

from clientauth.constants import CLIENT_SECRET_POST
from clientauth.models import AuthFailure
from keystore.errors import KeystoreError
from keystore.services import import_certificate
from tests.clients import create_application
from tests.security.support import compact, form, post, sign_raw

SECRET = "s3cret-" + uuid.uuid4().hex


@pytest.fixture
def secret_client(db):
    """A client_secret_post client; its secret is stored hashed, before capture starts."""
    from clientauth.models import ServiceProvider

    return create_application(
        client_id="sec-secret-client",
        name="secret client",
        client_secret=SECRET,
        client_type=ServiceProvider.CLIENT_CONFIDENTIAL,
        authorization_grant_type=ServiceProvider.GRANT_CLIENT_CREDENTIALS,
        grant_types="client_credentials",
        token_endpoint_auth_method=CLIENT_SECRET_POST,
    )


@pytest.fixture
def all_loggers_at_debug(secret_client, rsa_client, caplog, settings):
    settings.DEBUG = True
    names = [""] + list(logging.root.manager.loggerDict)
    for name in names:
        caplog.set_level(logging.DEBUG, logger=name or None)
    return caplog


def run_corpus(client, rsa_key, attacker_key, claims, issuer, tmp_path):
    """Send one case of each attack class; return the assertions sent in bodies and the
    one sent in a URL."""
    sent: list[str] = []

    def send(assertion: str, **extra) -> None:
        sent.append(assertion)
        post(client, form(assertion, **extra))

    valid = rsa_key.sign(claims())
    send(valid)
    send(valid)  # replay
    send(compact({"alg": "none"}, claims()))
    send(attacker_key.sign(claims()))
    send(rsa_key.sign(claims(aud=issuer + "/evil")))
    send(rsa_key.sign(claims(exp=1)))
    send(rsa_key.sign(claims(jti="")))
    send(rsa_key.sign(claims(), headers={"jku": "http://127.0.0.1:9/jwks", "kid": "../../x"}))
    send(sign_raw(attacker_key, {"alg": "RS256", "x5c": ["AAAA"]}, claims()))
    send(rsa_key.sign(claims(pad="p" * 9000)))
    send(valid + "tail")
    send(rsa_key.sign(claims(iss="someone-else")))
    send(rsa_key.sign(claims(), headers={"typ": "at+jwt"}))
    send(rsa_key.sign(claims()), client_id="other-client")
    bad_shape = rsa_key.sign(claims())
    sent.append(bad_shape)
    post(client, list(form(bad_shape).items()) + [("client_assertion", bad_shape)])
    post(client, form(bad_shape, client_secret=SECRET))
    post(
        client,
        form(bad_shape),
        HTTP_AUTHORIZATION="Basic "
        + base64.b64encode(f"sec-secret-client:{SECRET}".encode()).decode(),
    )
    in_url = rsa_key.sign(claims())
    client.post(
        "/oauth2/token?client_assertion=" + in_url,
        "grant_type=client_credentials",
        content_type="application/x-www-form-urlencoded",
    )
    for endpoint in ("/oauth2/introspect", "/oauth2/revoke"):
        other = rsa_key.sign(claims())
        sent.append(other)
        post(client, {**form(other), "token": "t"}, endpoint)
    # Secret clients: right and wrong secret, by both secret methods.
    post(
        client,
        {
            "grant_type": "client_credentials",
            "client_id": "sec-secret-client",
            "client_secret": SECRET,
        },
    )
    post(
        client,
        {
            "grant_type": "client_credentials",
            "client_id": "sec-secret-client",
            "client_secret": SECRET + "x",
        },
    )
    post(
        client,
        {"grant_type": "client_credentials"},
        HTTP_AUTHORIZATION="Basic "
        + base64.b64encode(f"sec-secret-client:{SECRET}".encode()).decode(),
    )
    # Certificate files carrying private keys.
    key_pem = private_pem(rsa_key)
    import_certificate("sec-log-cert", key_pem + rsa_key.cert_pem)
    with pytest.raises(KeystoreError):
        import_certificate("sec-log-cert-2", key_pem)
    path = tmp_path / "key.pem"
    path.write_bytes(key_pem)
    with pytest.raises(CommandError):
        call_command("import_cert", "--alias", "sec-log-cert-3", str(path))
    return sent, in_url


def private_pem(pair) -> bytes:
    return pair.private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def line_of(record: logging.LogRecord) -> str:
    """What a handler writes: the message, its arguments, any traceback."""
    parts = [record.getMessage(), repr(record.args), record.exc_text or ""]
    if record.exc_info:
        parts.append(logging.Formatter().formatException(record.exc_info))
    return "\n".join(parts)


def extras_of(record: logging.LogRecord) -> str:
    """Every other attribute, such as the request object django.request attaches."""
    return "\n".join(repr(v) for k, v in vars(record).items() if k not in ("msg", "args"))


def test_no_assertion_secret_or_private_key_in_any_log_line(
    client, all_loggers_at_debug, rsa_key, attacker_key, rsa_client, claims, issuer, tmp_path
):
    sent, in_url = run_corpus(client, rsa_key, attacker_key, claims, issuer, tmp_path)
    records = all_loggers_at_debug.records
    assert len(records) > 30, "the run must actually log (refusals, SQL) for the scan to mean much"
    assert any(r.name == "django.db.backends" for r in records), "SQL logging was not captured"
    assert any("reason=replayed_jti" in r.getMessage() for r in records)
    assert any("reason=bad_client_secret" in r.getMessage() for r in records)

    needles = {"the client secret": SECRET, "private key": "PRIVATE KEY"}
    key_body = "".join(private_pem(rsa_key).decode().splitlines()[1:-1])
    needles["private key body"] = key_body[64:128]
    for index, assertion in enumerate(sent):
        parts = assertion.split(".")
        needles[f"assertion {index}"] = assertion
        if len(parts) == 3 and len(parts[2]) >= 16:
            needles[f"signature {index}"] = parts[2]
            needles[f"signing input {index}"] = f"{parts[0]}.{parts[1]}"

    for record in records:
        text = line_of(record)
        assert in_url not in text and in_url.split(".")[2] not in text
        extras = extras_of(record)
        for what, needle in needles.items():
            assert needle not in text, f"{what} leaked in a {record.name} log line"
            # The request object django.request attaches holds the body's values nowhere
            # in its repr; only a URL (refused above as such) would show there.
            assert needle not in extras, f"{what} leaked in a {record.name} log record"
    for row in AuthFailure.objects.values_list("detail", "client_id"):
        for what, needle in needles.items():
            assert all(needle not in value for value in row), f"{what} in an AuthFailure row"
