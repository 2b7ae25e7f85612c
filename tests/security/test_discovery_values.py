"""Every value discovery advertises is used in a real request here and works.

``test_every_advertised_value_has_an_exercise`` reads the served document: a list
field this module does not know, a value of a known field it cannot exercise, or a
boolean turned on fails it, so a newly advertised value needs a test before it ships
(OIDC Discovery 1.0 section 3; the class: advertised but not implemented, as
``prompt=none`` was, a 500). Scopes and claims are exercised from the document itself:
each advertised scope is requested and granted, each advertised claim appears in an ID
token or at userinfo for a user who has the data. Client authentication is used once
per method and per signing algorithm at each endpoint; its refusals are the other
modules' business.
"""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from clientauth.constants import PRIVATE_KEY_JWT
from tests import keys
from tests.clients import create_application
from tests.oidc.conftest import (
    REDIRECT_URI,
    authorize,
    authorize_params,
    basic,
    exchange,
    form_post,
    make_secret_client,
    pkce_pair,
)
from tests.oidc.test_authorization_flow import verify_id_token
from tests.security.conftest import register
from tests.security.support import JWT_BEARER_CLIENT_ASSERTION_TYPE, assert_token, body

pytestmark = pytest.mark.django_db


DISCOVERY = "/.well-known/openid-configuration"
ENDPOINTS = {
    "token": "/oauth2/token",
    "introspection": "/oauth2/introspect",
    "revocation": "/oauth2/revoke",
}


def doc(client) -> dict:
    return client.get(DISCOVERY).json()


def query_of(response) -> dict[str, list[str]]:
    assert response.status_code == 302, response.content[:300]
    assert response["Location"].startswith(REDIRECT_URI + "?"), response["Location"]
    return parse_qs(urlsplit(response["Location"]).query)


def code_flow(client, user, app, scope="openid profile email", **extra) -> dict:
    client.force_login(user)
    code, verifier, _ = authorize(client, app, scope=scope, extra=extra or None)
    response = exchange(client, app, code, verifier)
    assert response.status_code == 200, response.content
    return response.json()


# --- prompt_values_supported ---------------------------------------------------------


def prompt_none(client, user, app):
    client.force_login(user)
    _, challenge = pkce_pair()
    params = authorize_params(app, state="s", prompt="none", code_challenge=challenge)
    params["code_challenge_method"] = "S256"
    assert query_of(client.get("/oauth2/authorize", params))["error"] == ["consent_required"]
    app.skip_authorization = True
    app.save(update_fields=["skip_authorization"])
    assert query_of(client.get("/oauth2/authorize", params))["code"]
    client.logout()
    assert query_of(client.get("/oauth2/authorize", params))["error"] == ["login_required"]


def prompt_login(client, user, app):
    client.force_login(user)
    _, challenge = pkce_pair()
    params = authorize_params(app, prompt="login", code_challenge=challenge)
    params["code_challenge_method"] = "S256"
    response = client.get("/oauth2/authorize", params)
    assert response["Location"].startswith("/accounts/login/")
    next_url = parse_qs(urlsplit(response["Location"]).query)["next"][0]
    assert client.get(next_url)["Location"].startswith("/accounts/login/")


# --- flows -----------------------------------------------------------------------------


def response_type_code(client, user, app):
    assert code_flow(client, user, app)["id_token"]


def response_mode_query(client, user, app):
    client.force_login(user)
    code, verifier, _ = authorize(client, app, extra={"response_mode": "query"})
    assert exchange(client, app, code, verifier).status_code == 200


def grant_authorization_code(client, user, app):
    assert code_flow(client, user, app)["access_token"]


def grant_refresh_token(client, user, app):
    tokens = code_flow(client, user, app)
    response = form_post(
        client,
        "/oauth2/token",
        {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        HTTP_AUTHORIZATION=basic(app.client_id),
    )
    refreshed = assert_token(response)
    assert refreshed["access_token"] != tokens["access_token"] and refreshed["id_token"]


def grant_client_credentials(client, user, app):
    service = secret_service("client_secret_basic")
    response = form_post(
        client,
        "/oauth2/token",
        {"grant_type": "client_credentials"},
        HTTP_AUTHORIZATION=basic(service.client_id, SERVICE_SECRET),
    )
    assert_token(response)


def pkce_s256(client, user, app):
    client.force_login(user)
    code, _, _ = authorize(client, app)
    wrong, _ = pkce_pair()
    assert body(exchange(client, app, code, wrong))["error"] == "invalid_grant"
    code, verifier, _ = authorize(client, app)
    assert exchange(client, app, code, verifier).status_code == 200


def subject_public(client, user, app):
    other = make_secret_client("Second RP")
    first = verify_id_token(client, code_flow(client, user, app)["id_token"])[1]
    second = verify_id_token(client, code_flow(client, user, other)["id_token"])[1]
    assert first["sub"] == second["sub"] and first["aud"] != second["aud"]


def id_token_rs256(client, user, app):
    header, _ = verify_id_token(client, code_flow(client, user, app)["id_token"])
    assert header["alg"] == "RS256"


def normal_claims(client, user, app):
    tokens = code_flow(client, user, app)
    _, claims = verify_id_token(client, tokens["id_token"])
    info = client.get("/oauth2/userinfo", HTTP_AUTHORIZATION=f"Bearer {tokens['access_token']}")
    for answer in (claims, info.json()):
        assert "_claim_names" not in answer and "_claim_sources" not in answer


EXERCISES = {
    "prompt_values_supported": {"none": prompt_none, "login": prompt_login},
    "response_types_supported": {"code": response_type_code},
    "response_modes_supported": {"query": response_mode_query},
    "grant_types_supported": {
        "authorization_code": grant_authorization_code,
        "refresh_token": grant_refresh_token,
        "client_credentials": grant_client_credentials,
    },
    "code_challenge_methods_supported": {"S256": pkce_s256},
    "subject_types_supported": {"public": subject_public},
    "id_token_signing_alg_values_supported": {"RS256": id_token_rs256},
    "claim_types_supported": {"normal": normal_claims},
}

# --- client authentication -------------------------------------------------------------

SERVICE_SECRET = "service-secret-for-tests-only"


def secret_service(method: str):
    return create_application(
        client_id=f"svc-{method}",
        name=method,
        client_type="confidential",
        authorization_grant_type="client-credentials",
        client_secret=SERVICE_SECRET,
        token_endpoint_auth_method=method,
        grant_types="client_credentials",
    )


def secret_credentials(method: str, client_id: str) -> tuple[dict, dict]:
    """(form fields, headers) authenticating ``client_id`` by ``method``."""
    if method == "client_secret_basic":
        return {}, {"HTTP_AUTHORIZATION": basic(client_id, SERVICE_SECRET)}
    return {"client_id": client_id, "client_secret": SERVICE_SECRET}, {}


KEY_FOR_ALG = {
    **dict.fromkeys(("RS256", "RS384", "RS512", "PS256", "PS384", "PS512"), "rsa"),
    "ES256": "p256",
    "ES384": "p384",
    "ES512": "p521",
    "EdDSA": "ed25519",
    "Ed25519": "ed25519",
}


@pytest.fixture(scope="module")
def key_pairs() -> dict[str, keys.KeyPair]:
    return {
        "rsa": keys.rsa_pair(),
        "p256": keys.ec_pair(ec.SECP256R1, "ES256", "p256"),
        "p384": keys.ec_pair(ec.SECP384R1, "ES384", "p384"),
        "p521": keys.ec_pair(ec.SECP521R1, "ES512", "p521"),
        "ed25519": keys.ed25519_pair(),
    }


def assertion_credentials(pair: keys.KeyPair, alg: str, client_id: str, aud: str) -> dict:
    assertion = pair.sign(keys.claims_for(client_id, now=time.time(), aud=aud), alg=alg)
    return {
        "client_assertion_type": JWT_BEARER_CLIENT_ASSERTION_TYPE,
        "client_assertion": assertion,
    }


def use_at_every_endpoint(client, credentials) -> None:
    """A token, introspected by its own client and revoked: each authenticated anew."""
    fields, headers = credentials()
    grant = {"grant_type": "client_credentials", **fields}
    answer = form_post(client, ENDPOINTS["token"], grant, **headers)
    token = assert_token(answer)["access_token"]
    fields, headers = credentials()
    answer = form_post(client, ENDPOINTS["introspection"], {"token": token, **fields}, **headers)
    assert answer.status_code == 200 and body(answer)["active"] is True, answer.content
    fields, headers = credentials()
    answer = form_post(client, ENDPOINTS["revocation"], {"token": token, **fields}, **headers)
    assert answer.status_code == 200, answer.content


# --- the walk --------------------------------------------------------------------------

GENERIC_FIELDS = {"scopes_supported", "claims_supported"}
AUTH_METHOD_FIELDS = {f"{name}_endpoint_auth_methods_supported" for name in ENDPOINTS}
AUTH_ALG_FIELDS = {f"{name}_endpoint_auth_signing_alg_values_supported" for name in ENDPOINTS}
AUTH_METHODS = {"client_secret_basic", "client_secret_post", PRIVATE_KEY_JWT}
FALSE_FLAGS = {
    "request_parameter_supported",
    "request_uri_parameter_supported",
    "claims_parameter_supported",
}


def test_every_advertised_value_has_an_exercise(client):
    for field, value in doc(client).items():
        if isinstance(value, bool):
            assert field in FALSE_FLAGS and value is False, f"{field}: {value} is untested"
        elif isinstance(value, list):
            if field in GENERIC_FIELDS:
                continue
            if field in AUTH_METHOD_FIELDS:
                known = AUTH_METHODS
            elif field in AUTH_ALG_FIELDS:
                known = set(KEY_FOR_ALG)
            else:
                assert field in EXERCISES, f"{field} has no exercise in this module"
                known = set(EXERCISES[field])
            assert set(value) <= known, f"{field}: {set(value) - known} has no exercise"
        else:
            assert isinstance(value, str), f"{field}: {value!r}"


@pytest.mark.parametrize(
    ("field", "value"), [(field, value) for field, table in EXERCISES.items() for value in table]
)
def test_advertised_value_works(client, user, secret_client, field, value):
    assert value in doc(client)[field], f"{value} is no longer advertised in {field}"
    EXERCISES[field][value](client, user, secret_client)


def test_every_advertised_scope_is_granted(client, user):
    """Each scope, requested by a client registered for all of them, is granted; the
    reserved ``introspection`` scope's token also introspects as a bearer token."""
    scopes = doc(client)["scopes_supported"]
    app = make_secret_client("Every scope", scope=" ".join(scopes))
    for scope in scopes:
        requested = "openid" if scope == "openid" else f"openid {scope}"
        tokens = code_flow(client, user, app, scope=requested)
        assert scope in tokens["scope"].split(), (scope, tokens["scope"])
        if scope == "introspection":
            answer = form_post(
                client,
                ENDPOINTS["introspection"],
                {"token": tokens["access_token"]},
                HTTP_AUTHORIZATION=f"Bearer {tokens['access_token']}",
            )
            assert body(answer)["active"] is True, answer.content


def test_every_advertised_claim_is_supplied(client, user, secret_client):
    tokens = code_flow(client, user, secret_client)  # authorize() sends a nonce
    _, id_claims = verify_id_token(client, tokens["id_token"])
    info = client.get("/oauth2/userinfo", HTTP_AUTHORIZATION=f"Bearer {tokens['access_token']}")
    supplied = set(id_claims) | set(info.json())
    missing = set(doc(client)["claims_supported"]) - supplied
    assert not missing, f"advertised but never supplied: {missing}"


@pytest.mark.parametrize("method", ["client_secret_basic", "client_secret_post"])
def test_advertised_secret_method_works_at_every_endpoint(client, method):
    meta = doc(client)
    for name in ENDPOINTS:
        assert method in meta[f"{name}_endpoint_auth_methods_supported"]
    service = secret_service(method)
    use_at_every_endpoint(client, lambda: secret_credentials(method, service.client_id))


def test_every_advertised_signing_algorithm_works_at_every_endpoint(client, key_pairs):
    """private_key_jwt, once per advertised algorithm, at each endpoint advertising it."""
    meta = doc(client)
    for name in ENDPOINTS:
        assert PRIVATE_KEY_JWT in meta[f"{name}_endpoint_auth_methods_supported"]
    algorithms = set()
    for name in ENDPOINTS:
        algorithms |= set(meta[f"{name}_endpoint_auth_signing_alg_values_supported"])
    assert algorithms
    for alg in sorted(algorithms):
        pair = key_pairs[KEY_FOR_ALG[alg]]
        client_id = f"walk-{alg.lower()}"
        register(client_id, pair, signing_alg=alg)
        use_at_every_endpoint(
            client,
            lambda: (assertion_credentials(pair, alg, client_id, meta["issuer"]), {}),  # noqa: B023
        )
