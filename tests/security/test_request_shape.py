"""Request-shape attacks (RFC 6749 sections 2.3, 3.2 and 5.2; RFC 7523 section 2.2;
CONTRACT.md: a parameter twice, two methods, or a missing or wrong
``client_assertion_type`` is 400 ``invalid_request``; credentials never in the URL).

Each refusal names the problem (it says nothing about any client), and leaves no
``jti`` row; the genuine assertion used in the attack is still usable afterwards.
"""

from __future__ import annotations

import base64
import json
from urllib.parse import urlencode

import pytest

from tests.security.support import (
    FORM,
    JWT_BEARER_CLIENT_ASSERTION_TYPE,
    TOKEN,
    assert_generic_401,
    assert_refused,
    assert_token,
    form,
    jti_rows,
    post,
)

TWO_METHODS = "the request uses more than one client authentication method"
WRONG_TYPE = f"client_assertion_type must be {JWT_BEARER_CLIENT_ASSERTION_TYPE}"
NOT_FORM = "the request body must be application/x-www-form-urlencoded"


@pytest.fixture
def assertion(rsa_key, claims):
    return rsa_key.sign(claims())


def invalid_request(response, description: str) -> None:
    assert_refused(response, 400, "invalid_request", description)
    assert jti_rows() == 0


@pytest.mark.parametrize(
    "name", ["client_assertion", "client_assertion_type", "grant_type", "client_id", "scope"]
)
def test_duplicate_parameter(client, assertion, rsa_client, name):
    pairs = list(form(assertion, client_id=rsa_client.client_id, scope="read").items())
    value = dict(pairs)[name]
    pairs.append((name, value))
    invalid_request(post(client, pairs), f"parameter {name} is given more than once")
    assert_token(post(client, form(assertion)))


def test_duplicate_assertion_with_a_different_second_value(client, assertion, attacker_key, claims):
    pairs = list(form(assertion).items()) + [("client_assertion", attacker_key.sign(claims()))]
    invalid_request(post(client, pairs), "parameter client_assertion is given more than once")


def test_basic_and_assertion(client, assertion, rsa_client):
    basic = base64.b64encode(f"{rsa_client.client_id}:whatever".encode()).decode()
    invalid_request(post(client, form(assertion), HTTP_AUTHORIZATION=f"Basic {basic}"), TWO_METHODS)
    invalid_request(
        post(client, form(assertion), HTTP_AUTHORIZATION="basic Zm9vOmJhcg=="), TWO_METHODS
    )


def test_secret_and_assertion(client, assertion):
    invalid_request(post(client, form(assertion, client_secret="s")), TWO_METHODS)
    invalid_request(post(client, form(assertion, client_secret="")), TWO_METHODS)


def test_basic_and_secret(client, rsa_client):
    basic = base64.b64encode(b"a:b").decode()
    data = {"grant_type": "client_credentials", "client_secret": "s"}
    invalid_request(post(client, data, HTTP_AUTHORIZATION=f"Basic {basic}"), TWO_METHODS)


@pytest.mark.parametrize(
    "assertion_type",
    [
        None,
        "",
        "urn:ietf:params:oauth:client-assertion-type:saml2-bearer",
        JWT_BEARER_CLIENT_ASSERTION_TYPE.upper(),
        JWT_BEARER_CLIENT_ASSERTION_TYPE + " ",
        "jwt-bearer",
    ],
)
def test_missing_or_wrong_assertion_type(client, assertion, assertion_type):
    data = form(assertion)
    if assertion_type is None:
        del data["client_assertion_type"]
    else:
        data["client_assertion_type"] = assertion_type
    invalid_request(post(client, data), WRONG_TYPE)
    assert_token(post(client, form(assertion)))


def test_assertion_type_without_assertion(client, rsa_client):
    data = form("x")
    del data["client_assertion"]
    invalid_request(post(client, data), "client_assertion is missing")


def test_empty_assertion_is_a_generic_401(client, rsa_client):
    assert_generic_401(post(client, form("")))


def test_no_credentials_at_all(client, rsa_client):
    assert_generic_401(
        post(client, {"grant_type": "client_credentials", "client_id": rsa_client.client_id})
    )


def test_json_body(client, assertion):
    response = client.post(TOKEN, json.dumps(form(assertion)), content_type="application/json")
    invalid_request(response, NOT_FORM)


def test_multipart_body(client, assertion):
    response = client.post(TOKEN, form(assertion))  # the test client's default: multipart
    invalid_request(response, NOT_FORM)


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/xml", "", "application/x-www-form-urlencoded-x"]
)
def test_other_content_types(client, assertion, content_type):
    response = client.post(TOKEN, urlencode(form(assertion)), content_type=content_type)
    invalid_request(response, NOT_FORM)


def test_form_with_charset_is_accepted(client, assertion):
    response = client.post(TOKEN, urlencode(form(assertion)), content_type=FORM + "; charset=UTF-8")
    assert_token(response)


@pytest.mark.parametrize("method", ["get", "put", "patch", "delete"])
def test_other_methods_are_not_allowed(client, assertion, method):
    response = getattr(client, method)(TOKEN + "?" + urlencode(form(assertion)))
    assert response.status_code == 405
    assert "POST" in response["Allow"]
    assert jti_rows() == 0
    assert_token(post(client, form(assertion)))


@pytest.mark.parametrize(
    "name",
    ["client_assertion", "client_assertion_type", "client_id", "client_secret", "grant_type"],
)
def test_credentials_in_the_query_string(client, assertion, rsa_client, name):
    data = form(assertion, client_id=rsa_client.client_id, client_secret="s")
    query = urlencode({name: data.pop(name)})
    if name != "client_secret":
        data.pop("client_secret")
    response = client.post(f"{TOKEN}?{query}", urlencode(data), content_type=FORM)
    invalid_request(response, f"parameter {name} must be sent in the request body")


def test_same_parameter_in_query_and_body(client, assertion):
    response = client.post(
        f"{TOKEN}?scope=read", urlencode(form(assertion, scope="write")), content_type=FORM
    )
    invalid_request(response, "parameter scope is given more than once")


def test_client_id_parameter_must_match_the_assertion(client, assertion, ec_client):
    response = post(client, form(assertion, client_id=ec_client.client_id))
    assert_refused(
        response, 401, "invalid_client", "client_id parameter does not match the assertion's sub"
    )
    assert jti_rows() == 0


@pytest.mark.parametrize("endpoint", ["/oauth2/introspect", "/oauth2/revoke"])
def test_shape_rules_hold_at_the_other_endpoints(client, assertion, endpoint):
    data = form(assertion, token="t")
    del data["grant_type"]
    pairs = list(data.items()) + [("client_assertion", assertion)]
    invalid_request(
        post(client, pairs, endpoint), "parameter client_assertion is given more than once"
    )
    bad_type = {**data, "client_assertion_type": "x"}
    invalid_request(post(client, bad_type, endpoint), WRONG_TYPE)
    response = client.post(endpoint, json.dumps(data), content_type="application/json")
    invalid_request(response, NOT_FORM)


@pytest.mark.parametrize("charset", ["latin-1", "utf-16", "cp1252"])
def test_non_utf8_charset_is_a_json_400(client, assertion, charset):
    response = client.generic(
        "POST",
        TOKEN,
        urlencode(form(assertion)).encode(),
        content_type=f"{FORM}; charset={charset}",
    )
    assert_refused(response, 400, "invalid_request")
    assert jti_rows() == 0


@pytest.mark.parametrize(
    "data, headers",
    [
        ({"client_secret": "guess"}, {}),
        ({"client_id": "nobody", "client_secret": "guess"}, {}),
        ({}, {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(b"nobody:guess").decode()}),
    ],
    ids=["secret-no-id", "secret-unknown-id", "basic-unknown-id"],
)
@pytest.mark.parametrize("endpoint", [TOKEN, "/oauth2/introspect", "/oauth2/revoke"])
def test_secret_for_an_unknown_client_is_a_generic_401(client, rsa_client, data, headers, endpoint):
    data = {"grant_type": "client_credentials", "token": "t", **data}
    assert_generic_401(post(client, data, endpoint, **headers))


@pytest.mark.parametrize("bearer", ["", "not-a-token"])
def test_bad_bearer_at_introspection_is_a_json_401(client, rsa_client, bearer):
    response = post(
        client, {"token": "t"}, "/oauth2/introspect", HTTP_AUTHORIZATION=f"Bearer {bearer}"
    )
    assert_refused(response, 401, "invalid_token")
