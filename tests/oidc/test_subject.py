"""The ``sub`` claim (OIDC Core 2, 5.3.2, 8): random and stable per user, never the
sequential primary key, and the same in the ID token and at userinfo."""

from __future__ import annotations

import pytest
from oauthlib.common import Request

from authserver.validator import Validator
from oidc.models import Subject
from oidc.subjects import subject_for
from tests.oidc.conftest import authorize, exchange
from tests.oidc.test_authorization_flow import verify_id_token

pytestmark = pytest.mark.django_db


def sign_in(client, user, app) -> tuple[str, str]:
    """A fresh login and code flow; the ID token's ``sub`` and userinfo's ``sub``."""
    client.logout()
    client.force_login(user)
    code, verifier, _ = authorize(client, app, scope="openid email")
    body = exchange(client, app, code, verifier).json()
    id_sub = verify_id_token(client, body["id_token"])[1]["sub"]
    info = client.get("/oauth2/userinfo", HTTP_AUTHORIZATION=f"Bearer {body['access_token']}")
    assert info.status_code == 200
    return id_sub, info.json()["sub"]


def test_subjects_are_opaque_stable_distinct_and_agree_with_userinfo(
    client, user, secret_client, django_user_model
):
    bob = django_user_model.objects.create_user("bob", email="bob@example.org", password="pw")
    alice_first = sign_in(client, user, secret_client)
    bob_first = sign_in(client, bob, secret_client)
    alice_again = sign_in(client, user, secret_client)
    bob_again = sign_in(client, bob, secret_client)

    for id_sub, info_sub in (alice_first, bob_first, alice_again, bob_again):
        assert id_sub == info_sub  # OIDC Core 5.3.2
    assert alice_first == alice_again and bob_first == bob_again
    assert alice_first[0] != bob_first[0]
    for sub, person in ((alice_first[0], user), (bob_first[0], bob)):
        assert sub not in {str(person.pk), str(user.pk), str(bob.pk)}
        assert not sub.isdigit() and len(sub) >= 32


def test_subject_does_not_change_with_the_secret_key(user, settings):
    before = subject_for(user)
    settings.SECRET_KEY = "another-secret-key-after-rotation"
    assert subject_for(user) == before


def test_subjects_are_random_not_derived(django_user_model):
    subs = {
        subject_for(django_user_model.objects.create_user(f"u{i}", password="pw"))
        for i in range(20)
    }
    assert len(subs) == 20
    assert len({sub[:6] for sub in subs}) > 1  # no shared prefix, no counter


def test_an_existing_subject_costs_one_query(user, django_assert_num_queries):
    request = Request("https://op.example/")
    request.user = user
    request.scopes = ["openid"]
    subject_for(user)
    with django_assert_num_queries(1):
        claims = Validator().get_claim_dict(request)
    assert claims["sub"] == Subject.objects.get(user=user).sub


def test_the_first_subject_is_created_once(user):
    assert subject_for(user) == subject_for(user)
    assert Subject.objects.filter(user=user).count() == 1
