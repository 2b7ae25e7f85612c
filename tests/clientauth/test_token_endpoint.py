"""POST /oauth2/token (and introspect/revoke) with Django's test client: the contract's
status codes, bodies and headers for every rule, the jti table, and the logged reason.
"""

from __future__ import annotations

import logging
import time
from urllib.parse import urlencode

import pytest
from django.core.cache import cache
from oauth2_provider.models import get_access_token_model

from clientauth.constants import JWT_BEARER_CLIENT_ASSERTION_TYPE
from clientauth.errors import GENERIC_DESCRIPTION
from clientauth.models import AuthFailure, JtiRecord
from keystore.services import import_certificate
from tests import keys
from tests.clientauth.support import register

pytestmark = pytest.mark.django_db
FORM = "application/x-www-form-urlencoded"
ISSUER = "http://127.0.0.1:8000"


@pytest.fixture(autouse=True)
def _fresh(fresh_caches):
    pass


def post(client, data, path="/oauth2/token", **extra):
    return client.post(path, urlencode(data, doseq=True), content_type=FORM, **extra)


def assertion_form(assertion, **extra):
    return {
        "grant_type": "client_credentials",
        "client_assertion_type": JWT_BEARER_CLIENT_ASSERTION_TYPE,
        "client_assertion": assertion,
        **extra,
    }


def fresh(pair, client_id, **overrides):
    return pair.sign(keys.claims_for(client_id, now=time.time(), **overrides))


def assert_error(response, status, error, description=None):
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    assert body["error"] == error
    if description is not None:
        assert body["error_description"] == description
    return body


# --- success -----------------------------------------------------------------------------


def test_token_issued_and_jti_recorded(client, pk_client, rsa_key):
    token = fresh(rsa_key, pk_client.client_id)
    response = post(client, assertion_form(token))
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["token_type"] == "Bearer" and body["access_token"]
    assert response["Cache-Control"] == "no-store"
    row = JtiRecord.objects.get()
    assert row.client_id == pk_client.client_id
    assert get_access_token_model().objects.filter(application=pk_client).count() == 1


def test_client_id_parameter_is_optional_and_checked(client, pk_client, rsa_key):
    ok = post(
        client, assertion_form(fresh(rsa_key, pk_client.client_id), client_id=pk_client.client_id)
    )
    assert ok.status_code == 200
    other, _ = register(cert=rsa_key)
    bad = post(
        client, assertion_form(fresh(rsa_key, pk_client.client_id), client_id=other.client_id)
    )
    assert_error(
        bad, 401, "invalid_client", "client_id parameter does not match the assertion's sub"
    )


def test_trailing_slash_path(client, pk_client, rsa_key):
    response = post(
        client, assertion_form(fresh(rsa_key, pk_client.client_id)), path="/oauth2/token/"
    )
    assert response.status_code == 200


# --- replay --------------------------------------------------------------------------------


def test_replay_is_refused_and_named(client, pk_client, rsa_key, caplog):
    form = assertion_form(fresh(rsa_key, pk_client.client_id))
    assert post(client, form).status_code == 200
    with caplog.at_level(logging.WARNING, logger="clientauth"):
        replay = post(client, form)
    assert_error(replay, 401, "invalid_client", "jti has been used already")
    assert JtiRecord.objects.count() == 1
    assert "reason=replayed_jti" in caplog.text and pk_client.client_id in caplog.text
    assert form["client_assertion"] not in caplog.text


def test_replay_is_refused_by_the_database_without_the_cache(client, pk_client, rsa_key):
    form = assertion_form(fresh(rsa_key, pk_client.client_id))
    assert post(client, form).status_code == 200
    cache.clear()
    assert_error(post(client, form), 401, "invalid_client", "jti has been used already")


def test_replay_refused_with_cache_disabled(client, pk_client, rsa_key, settings):
    settings.PRIVATE_KEY_JWT = {"CACHE_ENABLED": False}
    form = assertion_form(fresh(rsa_key, pk_client.client_id))
    assert post(client, form).status_code == 200
    assert_error(post(client, form), 401, "invalid_client", "jti has been used already")


def test_prevent_token_reuse_off_allows_and_logs_reuse(
    client, pk_client, rsa_key, settings, caplog
):
    settings.PRIVATE_KEY_JWT = {"PREVENT_TOKEN_REUSE": False}
    form = assertion_form(fresh(rsa_key, pk_client.client_id))
    assert post(client, form).status_code == 200
    with caplog.at_level(logging.INFO, logger="clientauth"):
        assert post(client, form).status_code == 200
    assert "jti reused" in caplog.text
    assert JtiRecord.objects.count() == 1


def test_prevent_token_reuse_off_still_requires_jti(client, pk_client, rsa_key, settings):
    settings.PRIVATE_KEY_JWT = {"PREVENT_TOKEN_REUSE": False}
    response = post(client, assertion_form(fresh(rsa_key, pk_client.client_id, jti=None)))
    assert_error(response, 401, "invalid_client", "missing required claim(s): jti")


def test_same_jti_for_two_clients_is_not_a_replay(client, pk_client, rsa_key):
    other, _ = register(cert=rsa_key)
    assert (
        post(client, assertion_form(fresh(rsa_key, pk_client.client_id, jti="shared"))).status_code
        == 200
    )
    assert (
        post(client, assertion_form(fresh(rsa_key, other.client_id, jti="shared"))).status_code
        == 200
    )
    assert JtiRecord.objects.count() == 2


def test_refused_assertion_never_consumes_its_jti(client, pk_client, rsa_key, attacker_key):
    forged = attacker_key.sign(keys.claims_for(pk_client.client_id, now=time.time(), jti="j1"))
    assert_error(post(client, assertion_form(forged)), 401, "invalid_client", GENERIC_DESCRIPTION)
    wrong_aud = fresh(rsa_key, pk_client.client_id, jti="j1", aud="https://elsewhere")
    assert post(client, assertion_form(wrong_aud)).status_code == 401
    assert not JtiRecord.objects.exists()
    assert (
        post(client, assertion_form(fresh(rsa_key, pk_client.client_id, jti="j1"))).status_code
        == 200
    )


def test_an_assertion_that_passed_every_check_is_consumed_whatever_the_grant(
    client, pk_client, rsa_key
):
    """The rule of the README: the jti is recorded once the assertion passed every
    check, before the grant is judged; a refused grant does not give it back."""
    form = assertion_form(fresh(rsa_key, pk_client.client_id), scope="no-such-scope")
    response = post(client, form)
    assert response.status_code == 400 and response.json()["error"] == "invalid_scope"
    assert JtiRecord.objects.filter(client_id=pk_client.client_id).count() == 1
    again = post(client, {**form, "scope": "read"})
    assert_error(again, 401, "invalid_client", "jti has been used already")


def test_a_refused_assertion_consumes_no_jti(client, pk_client, rsa_key):
    expired = fresh(rsa_key, pk_client.client_id, exp=time.time() - 3600, iat=time.time() - 3700)
    assert post(client, assertion_form(expired)).status_code == 401
    assert not JtiRecord.objects.exists()


# --- what the client is told ---------------------------------------------------------------


def test_bad_signature_is_generic_and_logged(client, pk_client, attacker_key, caplog):
    forged = attacker_key.sign(keys.claims_for(pk_client.client_id, now=time.time()))
    with caplog.at_level(logging.WARNING, logger="clientauth"):
        response = post(client, assertion_form(forged))
    assert_error(response, 401, "invalid_client", GENERIC_DESCRIPTION)
    assert "reason=bad_signature" in caplog.text and pk_client.client_id in caplog.text
    failure = AuthFailure.objects.get()
    assert (failure.client_id, failure.reason, failure.endpoint) == (
        pk_client.client_id,
        "bad_signature",
        "token",
    )


def test_unknown_client_looks_like_any_other_failure(client, rsa_key):
    token = fresh(rsa_key, "no-such-client")
    assert_error(post(client, assertion_form(token)), 401, "invalid_client", GENERIC_DESCRIPTION)


@pytest.mark.parametrize(
    "overrides, description",
    [
        ({"aud": "https://elsewhere"}, None),
        (
            {"exp": int(time.time()) - 3600, "iat": int(time.time()) - 3700},
            "assertion has expired (exp)",
        ),
        ({"iss": "someone-else"}, "iss is not the client ID"),
        ({"nbf": int(time.time()) + 3600}, "assertion is not valid yet (nbf)"),
    ],
)
def test_claim_failures_are_named(client, pk_client, rsa_key, overrides, description):
    response = post(client, assertion_form(fresh(rsa_key, pk_client.client_id, **overrides)))
    body = assert_error(response, 401, "invalid_client")
    assert body["error_description"] != GENERIC_DESCRIPTION
    if description:
        assert body["error_description"] == description


def test_oversized_assertion_is_refused_before_parsing(client, pk_client):
    response = post(client, assertion_form("a" * 8193))
    assert_error(response, 401, "invalid_client", GENERIC_DESCRIPTION)
    assert AuthFailure.objects.get().reason == "assertion_too_large"


def test_max_assertion_bytes_setting(client, pk_client, rsa_key, settings):
    token = fresh(rsa_key, pk_client.client_id)
    settings.PRIVATE_KEY_JWT = {"MAX_ASSERTION_BYTES": len(token) - 1}
    assert post(client, assertion_form(token)).status_code == 401
    settings.PRIVATE_KEY_JWT = {"MAX_ASSERTION_BYTES": len(token)}
    assert post(client, assertion_form(token)).status_code == 200


# --- request shape: 400 invalid_request ------------------------------------------------------


@pytest.mark.parametrize(
    "mutate",
    [
        lambda f: f.pop("client_assertion_type"),
        lambda f: f.update(
            client_assertion_type="urn:ietf:params:oauth:client-assertion-type:saml2-bearer"
        ),
        lambda f: f.update(client_assertion_type=""),
        lambda f: f.pop("client_assertion"),
    ],
)
def test_missing_or_wrong_assertion_type(client, pk_client, rsa_key, mutate):
    form = assertion_form(fresh(rsa_key, pk_client.client_id))
    mutate(form)
    assert_error(post(client, form), 400, "invalid_request")
    assert not JtiRecord.objects.exists()


def test_duplicate_parameter(client, pk_client, rsa_key):
    token = fresh(rsa_key, pk_client.client_id)
    form = assertion_form([token, token])
    assert_error(
        post(client, form),
        400,
        "invalid_request",
        "parameter client_assertion is given more than once",
    )
    form = assertion_form(token, grant_type=["client_credentials", "client_credentials"])
    assert_error(post(client, form), 400, "invalid_request")


def test_two_methods_basic_and_assertion(client, pk_client, rsa_key):
    import base64

    basic = base64.b64encode(f"{pk_client.client_id}:x".encode()).decode()
    response = post(
        client,
        assertion_form(fresh(rsa_key, pk_client.client_id)),
        HTTP_AUTHORIZATION=f"Basic {basic}",
    )
    assert_error(response, 400, "invalid_request")
    assert not JtiRecord.objects.exists()


def test_two_methods_secret_and_assertion(client, pk_client, rsa_key):
    form = assertion_form(fresh(rsa_key, pk_client.client_id), client_secret="x")
    assert_error(post(client, form), 400, "invalid_request")


def test_json_and_multipart_bodies_are_refused(client, pk_client, rsa_key):
    form = assertion_form(fresh(rsa_key, pk_client.client_id))
    assert_error(
        client.post("/oauth2/token", form, content_type="application/json"), 400, "invalid_request"
    )
    assert_error(client.post("/oauth2/token", form), 400, "invalid_request")  # multipart


def test_credentials_in_the_query_string_are_refused(client, pk_client, rsa_key):
    token = fresh(rsa_key, pk_client.client_id)
    response = client.post(
        f"/oauth2/token?client_assertion={token}",
        urlencode(assertion_form(token)),
        content_type=FORM,
    )
    assert_error(response, 400, "invalid_request")


def test_get_is_not_allowed(client):
    assert client.get("/oauth2/token").status_code == 405


def test_no_client_authentication(client):
    response = post(client, {"grant_type": "client_credentials"})
    assert_error(response, 401, "invalid_client", GENERIC_DESCRIPTION)


# --- methods are exclusive ---------------------------------------------------------------------


def test_private_key_jwt_client_cannot_use_its_secret(client, rsa_key):
    sp, secret = register(cert=rsa_key)
    response = post(
        client,
        {"grant_type": "client_credentials", "client_id": sp.client_id, "client_secret": secret},
    )
    assert_error(response, 401, "invalid_client", GENERIC_DESCRIPTION)
    assert AuthFailure.objects.get().reason == "auth_method_not_registered"


def test_secret_client_cannot_use_an_assertion(client, rsa_key):
    sp, _ = register(auth_method="client_secret_basic", cert=rsa_key)
    response = post(client, assertion_form(fresh(rsa_key, sp.client_id)))
    assert_error(response, 401, "invalid_client", GENERIC_DESCRIPTION)
    assert not JtiRecord.objects.exists()


def test_secret_basic_client(client):
    import base64

    sp, secret = register(auth_method="client_secret_basic")
    basic = base64.b64encode(f"{sp.client_id}:{secret}".encode()).decode()
    ok = post(client, {"grant_type": "client_credentials"}, HTTP_AUTHORIZATION=f"Basic {basic}")
    assert ok.status_code == 200, ok.content
    as_post = post(
        client,
        {"grant_type": "client_credentials", "client_id": sp.client_id, "client_secret": secret},
    )
    assert_error(as_post, 401, "invalid_client", GENERIC_DESCRIPTION)
    wrong = base64.b64encode(f"{sp.client_id}:wrong".encode()).decode()
    assert_error(
        post(client, {"grant_type": "client_credentials"}, HTTP_AUTHORIZATION=f"Basic {wrong}"),
        401,
        "invalid_client",
    )


def test_secret_post_client(client):
    sp, secret = register(auth_method="client_secret_post")
    ok = post(
        client,
        {"grant_type": "client_credentials", "client_id": sp.client_id, "client_secret": secret},
    )
    assert ok.status_code == 200, ok.content


# --- keys come from the keystore, at once ------------------------------------------------------


def test_deleted_certificate_is_refused_on_the_next_request(client, pk_client, rsa_key):
    from keystore.services import delete_certificate

    assert post(client, assertion_form(fresh(rsa_key, pk_client.client_id))).status_code == 200
    delete_certificate(pk_client.client_id)
    response = post(client, assertion_form(fresh(rsa_key, pk_client.client_id)))
    assert_error(response, 401, "invalid_client", GENERIC_DESCRIPTION)
    assert AuthFailure.objects.get().reason == "no_client_key"


def test_replaced_certificate_takes_effect_at_once(client, pk_client, rsa_key, ec_key):
    assert post(client, assertion_form(fresh(rsa_key, pk_client.client_id))).status_code == 200
    import_certificate(pk_client.client_id, ec_key.cert_pem, replace=True)
    assert post(client, assertion_form(fresh(rsa_key, pk_client.client_id))).status_code == 401
    assert post(client, assertion_form(fresh(ec_key, pk_client.client_id))).status_code == 200


def test_pinned_signing_algorithm(client, rsa_key):
    sp, _ = register(signing_alg="PS256", cert=rsa_key)
    rs = rsa_key.sign(keys.claims_for(sp.client_id, now=time.time()), alg="RS256")
    ps = rsa_key.sign(keys.claims_for(sp.client_id, now=time.time()), alg="PS256")
    assert post(client, assertion_form(rs)).status_code == 401
    assert post(client, assertion_form(ps)).status_code == 200


# --- settings reach the endpoint ------------------------------------------------------------------


def test_token_endpoint_alias_setting(client, pk_client, rsa_key, settings):
    alias = "https://gateway.example/oauth2/token"
    assert (
        post(client, assertion_form(fresh(rsa_key, pk_client.client_id, aud=alias))).status_code
        == 401
    )
    settings.PRIVATE_KEY_JWT = {"TOKEN_ENDPOINT_ALIAS": alias}
    assert (
        post(client, assertion_form(fresh(rsa_key, pk_client.client_id, aud=alias))).status_code
        == 200
    )


def test_strict_audience_setting(client, pk_client, rsa_key, settings):
    settings.PRIVATE_KEY_JWT = {"STRICT_AUDIENCE": True}
    response = post(client, assertion_form(fresh(rsa_key, pk_client.client_id)))
    assert_error(response, 401, "invalid_client")
    assert (
        post(client, assertion_form(fresh(rsa_key, pk_client.client_id, aud=ISSUER))).status_code
        == 200
    )


def test_allowed_algorithms_setting(client, pk_client, rsa_key, settings):
    settings.PRIVATE_KEY_JWT = {"ALLOWED_ALGORITHMS": ["ES256"]}
    assert post(client, assertion_form(fresh(rsa_key, pk_client.client_id))).status_code == 401
    settings.PRIVATE_KEY_JWT = {"ALLOWED_ALGORITHMS": ["RS256"]}
    assert post(client, assertion_form(fresh(rsa_key, pk_client.client_id))).status_code == 200


def test_reject_before_in_minutes_setting(client, pk_client, rsa_key, settings):
    now = int(time.time())
    old = {"iat": now - 600, "exp": now + 300}
    settings.PRIVATE_KEY_JWT = {"REJECT_BEFORE_IN_MINUTES": 5, "LEEWAY_SECONDS": 0}
    response = post(client, assertion_form(fresh(rsa_key, pk_client.client_id, **old)))
    assert_error(response, 401, "invalid_client", "iat is older than 5 minutes")
    settings.PRIVATE_KEY_JWT = {"REJECT_BEFORE_IN_MINUTES": 11, "LEEWAY_SECONDS": 0}
    assert (
        post(client, assertion_form(fresh(rsa_key, pk_client.client_id, **old))).status_code == 200
    )


def test_leeway_and_lifetime_settings(client, pk_client, rsa_key, settings):
    now = int(time.time())
    just_expired = {"iat": now - 100, "exp": now - 30}
    settings.PRIVATE_KEY_JWT = {"LEEWAY_SECONDS": 5}
    assert (
        post(
            client, assertion_form(fresh(rsa_key, pk_client.client_id, **just_expired))
        ).status_code
        == 401
    )
    settings.PRIVATE_KEY_JWT = {"LEEWAY_SECONDS": 120}
    assert (
        post(
            client, assertion_form(fresh(rsa_key, pk_client.client_id, **just_expired))
        ).status_code
        == 200
    )
    long_lived = {"iat": now, "exp": now + 600}
    settings.PRIVATE_KEY_JWT = {"MAX_ASSERTION_LIFETIME_SECONDS": 300}
    response = post(client, assertion_form(fresh(rsa_key, pk_client.client_id, **long_lived)))
    assert_error(response, 401, "invalid_client", "exp is more than 300 s after iat")
    settings.PRIVATE_KEY_JWT = {"MAX_ASSERTION_LIFETIME_SECONDS": 600}
    assert (
        post(client, assertion_form(fresh(rsa_key, pk_client.client_id, **long_lived))).status_code
        == 200
    )


# --- introspection and revocation authenticate the same way ---


def _issue(client, sp, pair):
    response = post(client, assertion_form(fresh(pair, sp.client_id)))
    assert response.status_code == 200
    return response.json()["access_token"]


def test_introspect_and_revoke_with_assertions(client, pk_client, rsa_key):
    access = _issue(client, pk_client, rsa_key)
    form = assertion_form(fresh(rsa_key, pk_client.client_id), token=access)
    form.pop("grant_type")
    info = post(client, form, path="/oauth2/introspect")
    assert info.status_code == 200, info.content
    assert info.json()["active"] is True
    assert_error(
        post(client, form, path="/oauth2/introspect"),
        401,
        "invalid_client",
        "jti has been used already",
    )
    revoke = assertion_form(fresh(rsa_key, pk_client.client_id), token=access)
    revoke.pop("grant_type")
    assert post(client, revoke, path="/oauth2/revoke").status_code == 200
    again = assertion_form(fresh(rsa_key, pk_client.client_id), token=access)
    again.pop("grant_type")
    assert post(client, again, path="/oauth2/introspect").json()["active"] is False


@pytest.mark.parametrize("path", ["/oauth2/introspect", "/oauth2/revoke"])
def test_other_endpoints_refuse_like_the_token_endpoint(
    client, pk_client, rsa_key, attacker_key, path
):
    forged = attacker_key.sign(keys.claims_for(pk_client.client_id, now=time.time()))
    form = {
        "token": "x",
        "client_assertion_type": JWT_BEARER_CLIENT_ASSERTION_TYPE,
        "client_assertion": forged,
    }
    assert_error(post(client, form, path=path), 401, "invalid_client", GENERIC_DESCRIPTION)
    form["client_assertion"] = "a" * 9000
    assert_error(post(client, form, path=path), 401, "invalid_client", GENERIC_DESCRIPTION)
    form.pop("client_assertion_type")
    assert_error(post(client, form, path=path), 400, "invalid_request")
    assert AuthFailure.objects.filter(endpoint=path.rsplit("/", 1)[1]).count() == 3


def test_cache_capacity_bounds_the_parsed_key_cache(client, rsa_key, ec_key, settings):
    from keystore import services

    settings.PRIVATE_KEY_JWT = {"CACHE_CAPACITY": 1}
    first, _ = register(cert=rsa_key)
    second, _ = register(cert=ec_key)
    assert post(client, assertion_form(fresh(rsa_key, first.client_id))).status_code == 200
    assert post(client, assertion_form(fresh(ec_key, second.client_id))).status_code == 200
    assert len(services._keys) == 1
    settings.PRIVATE_KEY_JWT = {"CACHE_ENABLED": False}
    assert post(client, assertion_form(fresh(rsa_key, first.client_id))).status_code == 200
    assert len(services._keys) == 0


@pytest.mark.parametrize("path", ["/oauth2/token", "/oauth2/introspect", "/oauth2/revoke"])
def test_a_refused_basic_client_is_challenged_with_basic(client, path):
    """RFC 6749 section 5.2: a client that tried HTTP Basic gets 401 with a Basic
    challenge; one that sent its secret in the body gets none naming Basic."""
    import base64

    sp, secret = register(auth_method="client_secret_basic")
    wrong = base64.b64encode(f"{sp.client_id}:not-{secret}".encode()).decode()
    data = {"grant_type": "client_credentials", "token": "x"}
    response = post(client, data, path=path, HTTP_AUTHORIZATION=f"Basic {wrong}")
    assert_error(response, 401, "invalid_client", GENERIC_DESCRIPTION)
    assert response["WWW-Authenticate"] == 'Basic realm="oauth2"'
    malformed = post(client, data, path=path, HTTP_AUTHORIZATION="Basic !!not-base64!!")
    assert_error(malformed, 401, "invalid_client", GENERIC_DESCRIPTION)
    assert malformed["WWW-Authenticate"] == 'Basic realm="oauth2"'
    in_body = post(client, {**data, "client_id": sp.client_id, "client_secret": "nope"}, path=path)
    assert_error(in_body, 401, "invalid_client", GENERIC_DESCRIPTION)
    assert not in_body.get("WWW-Authenticate", "").startswith("Basic")
