"""``prompt=none`` and ``prompt=login`` (OIDC Core 3.1.2.1, 3.1.2.6), both advertised by
discovery, ``max_age`` (3.1.2.1, mandatory for every OP), and ``iss`` (RFC 9207) on every
answer at the redirect URI, errors included."""

from __future__ import annotations

import datetime as dt
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth import SESSION_KEY
from django.utils import timezone
from oauth2_provider.models import get_access_token_model

from tests.oidc.conftest import REDIRECT_URI, authorize, authorize_params, exchange, pkce_pair

pytestmark = pytest.mark.django_db

ISSUER = "http://127.0.0.1:8000"


def silent_params(app, scope: str = "openid", **more):
    _, challenge = pkce_pair()
    params = authorize_params(
        app, scope=scope, state="st-1", nonce="n-1", prompt="none", code_challenge=challenge
    )
    return {**params, "code_challenge_method": "S256", **more}


def at_redirect_uri(response) -> dict[str, list[str]]:
    """The query of a redirect to the registered redirect URI."""
    assert response.status_code == 302, response.content[:300]
    location = response["Location"]
    assert location.startswith(REDIRECT_URI + "?"), location
    return parse_qs(urlsplit(location).query)


def assert_error_at_redirect_uri(response, error: str) -> None:
    query = at_redirect_uri(response)
    assert query["error"] == [error]
    assert query["state"] == ["st-1"]
    assert query["iss"] == [ISSUER]
    assert "code" not in query


def test_anonymous_prompt_none_is_login_required_at_the_redirect_uri(client, secret_client):
    response = client.get("/oauth2/authorize", silent_params(secret_client))
    assert_error_at_redirect_uri(response, "login_required")


def test_signed_in_without_consent_is_consent_required(client, user, secret_client):
    client.force_login(user)
    response = client.get("/oauth2/authorize", silent_params(secret_client))
    assert_error_at_redirect_uri(response, "consent_required")


def test_trusted_application_gets_a_code_silently(client, user, secret_client):
    secret_client.skip_authorization = True
    secret_client.save(update_fields=["skip_authorization"])
    client.force_login(user)
    response = client.get("/oauth2/authorize", silent_params(secret_client))
    query = at_redirect_uri(response)
    assert query["state"] == ["st-1"] and query["iss"] == [ISSUER]
    assert query["code"][0]


def test_earlier_consent_for_the_scopes_gives_a_code_that_works(client, user, secret_client):
    client.force_login(user)
    code, verifier, _ = authorize(client, secret_client, scope="openid email")
    assert exchange(client, secret_client, code, verifier).status_code == 200
    verifier, challenge = pkce_pair()
    params = silent_params(secret_client, scope="openid")
    params["code_challenge"] = challenge
    query = at_redirect_uri(client.get("/oauth2/authorize", params))
    response = exchange(client, secret_client, query["code"][0], verifier)
    assert response.status_code == 200, response.content
    assert response.json()["id_token"]


def test_consent_for_fewer_scopes_is_not_consent(client, user, secret_client):
    client.force_login(user)
    code, verifier, _ = authorize(client, secret_client, scope="openid")
    exchange(client, secret_client, code, verifier)
    response = client.get("/oauth2/authorize", silent_params(secret_client, scope="openid email"))
    assert_error_at_redirect_uri(response, "consent_required")


def test_expired_consent_is_not_consent(client, user, secret_client):
    client.force_login(user)
    code, verifier, _ = authorize(client, secret_client, scope="openid")
    exchange(client, secret_client, code, verifier)
    past = timezone.now() - dt.timedelta(seconds=1)
    get_access_token_model().objects.filter(user=user).update(expires=past)
    response = client.get("/oauth2/authorize", silent_params(secret_client))
    assert_error_at_redirect_uri(response, "consent_required")


def test_another_users_consent_is_not_consent(client, user, secret_client, django_user_model):
    client.force_login(user)
    code, verifier, _ = authorize(client, secret_client, scope="openid")
    exchange(client, secret_client, code, verifier)
    client.force_login(django_user_model.objects.create_user("bob", password="pw"))
    response = client.get("/oauth2/authorize", silent_params(secret_client))
    assert_error_at_redirect_uri(response, "consent_required")


def test_none_with_another_value_is_invalid_request(client, user, secret_client):
    client.force_login(user)
    params = silent_params(secret_client, scope="openid")
    params["prompt"] = "none login"
    assert_error_at_redirect_uri(client.get("/oauth2/authorize", params), "invalid_request")


@pytest.mark.parametrize("signed_in", [False, True])
def test_an_invalid_request_is_refused_before_login_or_consent(
    client, user, secret_client, signed_in
):
    if signed_in:
        client.force_login(user)
    params = silent_params(secret_client)
    del params["code_challenge"]
    assert_error_at_redirect_uri(client.get("/oauth2/authorize", params), "invalid_request")


@pytest.mark.parametrize("signed_in", [False, True])
@pytest.mark.parametrize(
    "change",
    [
        {"client_id": "no-such-client"},
        {"redirect_uri": "https://attacker.example/callback"},
        {"client_id": ""},
    ],
)
def test_prompt_none_never_redirects_for_a_bad_client_or_redirect_uri(
    client, user, secret_client, signed_in, change
):
    """OIDC Core 3.1.2.6 / RFC 6749 4.1.2.1: the error page, never the redirect."""
    if signed_in:
        client.force_login(user)
    response = client.get("/oauth2/authorize", {**silent_params(secret_client), **change})
    assert response.status_code == 400
    assert "Location" not in response


def test_interactive_errors_at_the_redirect_uri_carry_iss(client, user, secret_client):
    client.force_login(user)
    verifier, _ = pkce_pair()
    params = authorize_params(secret_client, state="st-1", code_challenge=verifier)
    params["code_challenge_method"] = "plain"
    assert_error_at_redirect_uri(client.get("/oauth2/authorize", params), "invalid_request")


def test_prompt_login_ends_the_session_and_asks_for_the_password(client, user, secret_client):
    client.force_login(user)
    params = silent_params(secret_client, prompt="login")
    response = client.get("/oauth2/authorize", params)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")
    assert SESSION_KEY not in client.session
    next_url = parse_qs(urlsplit(response["Location"]).query)["next"][0]
    assert "prompt" not in parse_qs(urlsplit(next_url).query)
    # Coming straight back without logging in is the login page again, not consent.
    again = client.get(next_url)
    assert again.status_code == 302 and again["Location"].startswith("/accounts/login/")
    # After a real login the flow goes on to consent, and auth_time is the new login.
    login = client.post("/accounts/login/", {"username": "alice", "password": "pw"})
    assert login.status_code == 302
    page = client.get(next_url)
    assert page.status_code == 200 and page.context["form"]


def test_prompt_login_auth_time_is_the_new_login(client, user, secret_client):
    from tests.oidc.test_authorization_flow import verify_id_token

    user.last_login = timezone.now() - dt.timedelta(days=3)
    user.save(update_fields=["last_login"])
    client.force_login(user)
    before = int(timezone.now().timestamp())
    response = client.get("/oauth2/authorize", silent_params(secret_client, prompt="login"))
    assert response.status_code == 302
    client.post("/accounts/login/", {"username": "alice", "password": "pw"})
    code, verifier, _ = authorize(client, secret_client)
    id_token = exchange(client, secret_client, code, verifier).json()["id_token"]
    assert verify_id_token(client, id_token)[1]["auth_time"] >= before


def test_prompt_login_with_a_bad_redirect_uri_keeps_the_session(client, user, secret_client):
    client.force_login(user)
    params = silent_params(secret_client, prompt="login")
    params["redirect_uri"] = "https://attacker.example/callback"
    response = client.get("/oauth2/authorize", params)
    assert response.status_code == 400
    assert "Location" not in response
    assert client.session[SESSION_KEY] == str(user.pk)


def signed_in_ago(client, user, seconds: int) -> None:
    client.force_login(user)
    user.last_login = timezone.now() - dt.timedelta(seconds=seconds)
    user.save(update_fields=["last_login"])


def test_max_age_exceeded_ends_the_session_and_asks_for_the_password(client, user, secret_client):
    signed_in_ago(client, user, 3600)
    params = silent_params(secret_client)
    del params["prompt"]
    params["max_age"] = "60"
    response = client.get("/oauth2/authorize", params)
    assert response["Location"].startswith("/accounts/login/?next=")
    assert SESSION_KEY not in client.session
    next_url = parse_qs(urlsplit(response["Location"]).query)["next"][0]
    assert not {"prompt", "max_age"} & set(parse_qs(urlsplit(next_url).query))
    client.post("/accounts/login/", {"username": "alice", "password": "pw"})
    page = client.get(next_url)
    assert page.status_code == 200 and page.context["form"]


def test_max_age_not_exceeded_goes_on_to_consent(client, user, secret_client):
    signed_in_ago(client, user, 30)
    params = {**silent_params(secret_client), "max_age": "3600"}
    del params["prompt"]
    page = client.get("/oauth2/authorize", params)
    assert page.status_code == 200 and page.context["form"]


def test_max_age_zero_after_a_login_does_not_loop(client, user, secret_client):
    params = {**silent_params(secret_client), "max_age": "0"}
    del params["prompt"]
    response = client.get("/oauth2/authorize", params)  # anonymous: the login page
    next_url = parse_qs(urlsplit(response["Location"]).query)["next"][0]
    assert "max_age" not in parse_qs(urlsplit(next_url).query)
    client.post("/accounts/login/", {"username": "alice", "password": "pw"})
    assert client.get(next_url).status_code == 200


def test_prompt_none_with_max_age_exceeded_is_login_required(client, user, secret_client):
    secret_client.skip_authorization = True
    secret_client.save(update_fields=["skip_authorization"])
    signed_in_ago(client, user, 3600)
    response = client.get("/oauth2/authorize", {**silent_params(secret_client), "max_age": "60"})
    assert_error_at_redirect_uri(response, "login_required")
    fresh = client.get("/oauth2/authorize", {**silent_params(secret_client), "max_age": "7200"})
    assert at_redirect_uri(fresh)["code"]
