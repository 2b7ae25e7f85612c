"""Authorization request parameters out of bounds (``oidc.params``): refused before
consent as ``invalid_request`` at the redirect URI, with ``state`` and ``iss``, never a
500 (a 300-character ``nonce`` or a 200-character ``code_challenge`` overflowed DOT's
``Grant`` columns on PostgreSQL); boundary values accepted. An unknown client or an
unregistered redirect URI is never redirected to, whatever its length (RFC 6749 4.1.2.1).
"""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import pytest
from oauth2_provider.models import get_grant_model

from oidc import params as bounds
from tests.oidc.conftest import (
    REDIRECT_URI,
    authorize_params,
    exchange,
    pkce_pair,
)
from tests.oidc.test_authorization_flow import verify_id_token

pytestmark = pytest.mark.django_db


ISSUER = "http://127.0.0.1:8000"
STATE = "st-1"
UNRESERVED = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"


def request_params(app, **changes):
    verifier, challenge = pkce_pair()
    base = authorize_params(app, scope="openid email", state=STATE, nonce="n-1")
    return {**base, "code_challenge": challenge, "code_challenge_method": "S256", **changes}


def assert_invalid_request(response, state: str = STATE) -> dict:
    assert response.status_code == 302, response.content[:300]
    location = response["Location"]
    assert location.startswith(REDIRECT_URI + "?"), location
    query = parse_qs(urlsplit(location).query)
    assert query["error"] == ["invalid_request"], query
    assert query["state"] == [state]
    assert query["iss"] == [ISSUER]
    assert "code" not in query
    assert get_grant_model().objects.count() == 0
    return query


def consent(client, params: dict, **tampered):
    """The consent page for ``params``, then its form posted back (with ``tampered``)."""
    page = client.get("/oauth2/authorize", params)
    assert page.status_code == 200, page.content[:300]
    data = {k: v for k, v in page.context["form"].initial.items() if v is not None}
    return client.post("/oauth2/authorize", {**data, **tampered, "allow": "Authorize"})


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("nonce", "n" * 300),
        ("nonce", "n" * (bounds.MAX_NONCE + 1)),
        ("nonce", "bad\x00nonce"),
        ("nonce", "line\nbreak"),
        ("nonce", "caf\u00e9"),
        ("code_challenge", "c" * 200),
        ("code_challenge", "c" * 42),
        ("code_challenge", "c" * 129),
        ("code_challenge", "+" * 43),
        ("code_challenge", "a/b=" * 11),
        ("code_challenge", "\u00e9" * 43),
        ("code_challenge", "a" * 42 + "\x00"),
        ("state", "s" * (bounds.MAX_STATE + 1)),
        ("state", "tab\tstate"),
        ("scope", " ".join(["openid"] * 200)),
        ("scope", "openid em\x00ail"),
        ("claims", json.dumps({"userinfo": {"x" * bounds.MAX_CLAIMS: None}})),
        ("response_mode", "fragment"),
        ("response_mode", "form_post"),
        ("max_age", "-1"),
        ("max_age", "1.5"),
        ("max_age", "\u0661"),
        ("max_age", "9" * 11),
    ],
)
def test_out_of_bounds_parameter_is_invalid_request(client, user, secret_client, name, value):
    client.force_login(user)
    response = client.get("/oauth2/authorize", request_params(secret_client, **{name: value}))
    assert_invalid_request(response, state=value if name == "state" else STATE)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("nonce", "n" * 300),
        ("nonce", "bad\x01nonce"),
        ("code_challenge", "c" * 200),
        ("code_challenge", "c" * 42),
        ("state", "s" * (bounds.MAX_STATE + 1)),
        ("scope", " ".join(["openid"] * 200)),
        ("claims", "{" + '"a": 1,' * 1000 + '"b": 2}'),
    ],
)
def test_a_tampered_consent_form_is_invalid_request(client, user, secret_client, name, value):
    """The consent form's hidden fields are the client's too: checked again on POST."""
    client.force_login(user)
    response = consent(client, request_params(secret_client), **{name: value})
    assert_invalid_request(response, state=value if name == "state" else STATE)


def test_a_nul_in_the_consent_form_is_refused_by_the_form(client, user, secret_client):
    """Django's form refuses NUL before anything is stored (the page again, no grant)."""
    client.force_login(user)
    response = consent(client, request_params(secret_client), nonce="bad\x00nonce")
    assert response.status_code == 200
    assert get_grant_model().objects.count() == 0


@pytest.mark.parametrize("prompt", [None, "none"])
def test_a_trusted_application_without_consent_page_is_checked_too(
    client, user, secret_client, prompt
):
    """``skip_authorization`` (and ``prompt=none``) issue the code on the GET itself."""
    secret_client.skip_authorization = True
    secret_client.save(update_fields=["skip_authorization"])
    client.force_login(user)
    params = request_params(secret_client, nonce="n" * 300, code_challenge="c" * 200)
    if prompt:
        params["prompt"] = prompt
    assert_invalid_request(client.get("/oauth2/authorize", params))


def test_anonymous_silent_request_is_checked_too(client, secret_client):
    params = request_params(secret_client, prompt="none", nonce="n" * 300)
    assert_invalid_request(client.get("/oauth2/authorize", params))


@pytest.mark.parametrize(
    "change",
    [
        {"redirect_uri": REDIRECT_URI + "?" + "x" * 5000},
        {"redirect_uri": "https://rp.example/" + "x" * 5000},
        {"client_id": "c" * 5000},
    ],
)
def test_long_client_or_redirect_uri_is_never_redirected_to(client, user, secret_client, change):
    client.force_login(user)
    params = request_params(secret_client, nonce="n" * 300, **change)
    response = client.get("/oauth2/authorize", params)
    assert response.status_code == 400
    assert "Location" not in response
    assert get_grant_model().objects.count() == 0


def test_boundary_values_are_accepted_and_stored(client, user, secret_client):
    client.force_login(user)
    challenge = "".join(UNRESERVED[i % len(UNRESERVED)] for i in range(128))
    # Every VSCHAR but a leading or trailing space (DOT's form strips those).
    nonce = "".join(chr(0x21 + i % 94) for i in range(bounds.MAX_NONCE - 2))
    nonce = nonce[:100] + " " + nonce[100:] + "~"
    state = "s" * bounds.MAX_STATE
    params = request_params(secret_client, code_challenge=challenge, nonce=nonce, state=state)
    response = consent(client, params)
    assert response.status_code == 302
    query = parse_qs(urlsplit(response["Location"]).query)
    assert query["state"] == [state] and query["code"]
    grant = get_grant_model().objects.get()
    assert (grant.code_challenge, grant.nonce) == (challenge, nonce)


def test_a_43_character_challenge_and_255_character_nonce_complete_the_flow(
    client, user, secret_client
):
    client.force_login(user)
    verifier, challenge = pkce_pair()
    assert len(challenge) == bounds.MIN_CODE_CHALLENGE
    nonce = "N" * bounds.MAX_NONCE
    response = consent(client, request_params(secret_client, code_challenge=challenge, nonce=nonce))
    code = parse_qs(urlsplit(response["Location"]).query)["code"][0]
    tokens = exchange(client, secret_client, code, verifier)
    assert tokens.status_code == 200, tokens.content
    assert verify_id_token(client, tokens.json()["id_token"])[1]["nonce"] == nonce


def test_response_mode_query_is_accepted(client, user, secret_client):
    client.force_login(user)
    response = consent(client, request_params(secret_client, response_mode="query"))
    assert parse_qs(urlsplit(response["Location"]).query)["code"]


@pytest.mark.parametrize(
    ("values", "name"),
    [
        ({"code_challenge": "a" * 43}, None),
        ({"code_challenge": "a" * 128}, None),
        ({"code_challenge": "a" * 42}, "code_challenge"),
        ({"nonce": "n" * 255, "state": "s" * 1024}, None),
        ({"nonce": "n" * 256}, "nonce"),
        ({"state": ""}, None),
        ({"scope": "openid email"}, None),
        ({"scope": "openid\u00a0email"}, "scope"),
        ({"claims": {"userinfo": {}}}, "claims"),
        ({"max_age": "0", "response_mode": "query"}, None),
        ({"max_age": "9" * 10}, None),
    ],
)
def test_check_is_a_pure_function(values, name):
    if name is None:
        bounds.check(values)
    else:
        with pytest.raises(bounds.InvalidParameter) as caught:
            bounds.check(values)
        assert caught.value.name == name


@pytest.mark.parametrize("name", ["state", "nonce"])
def test_a_value_the_consent_form_would_strip_is_refused(name):
    from oidc import params

    with pytest.raises(params.InvalidParameter):
        params.check({name: " padded "})
    params.check({name: "not padded"})


def test_registration_bounds_callback_urls():
    from clientauth.registration import (
        MAX_CALLBACK_CHARS,
        MAX_CALLBACKS,
        InvalidRedirectUri,
        _callbacks,
    )

    long_url = "https://rp.example/cb?" + "a" * MAX_CALLBACK_CHARS
    with pytest.raises(InvalidRedirectUri, match="over"):
        _callbacks([long_url], ["authorization_code"])
    many = [f"https://rp.example/cb{i}" for i in range(MAX_CALLBACKS + 1)]
    with pytest.raises(InvalidRedirectUri, match="at most"):
        _callbacks(many, ["authorization_code"])
    assert _callbacks(many[:MAX_CALLBACKS], ["authorization_code"]) == many[:MAX_CALLBACKS]
