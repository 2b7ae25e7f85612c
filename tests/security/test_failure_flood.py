"""A flood of refusals cannot push real entries out of the failure log (security review
11b). Anyone may post to the client endpoints and claim any client ID: a forged
assertion under a real client's ID, or made-up IDs varied on every request. Each is
counted on one row per client, reason and endpoint (``clientauth.failures``), so the
earlier failures of real clients stay, with their counts, however long the flood.

The store is scaled down (``MAX_ROWS``) so that the flood is larger than the store, as
a flood of more than 10,000 refusals would be against the real one.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid

import pytest

from clientauth import failures
from clientauth.models import AuthFailure
from tests import keys
from tests.security.support import assert_generic_401, assert_refused, compact, form, post

FLOOD = 100  # refusals of each kind: together more than the scaled-down store holds


@pytest.fixture
def small_store(monkeypatch):
    monkeypatch.setattr(failures, "MAX_ROWS", 50)
    monkeypatch.setattr(failures, "_PRUNE_EVERY", 10)


def made_up_assertion(client_id: str, token_url: str) -> str:
    """An assertion naming a client that does not exist: refused before any signature
    is checked, so the attacker need not sign it."""
    claims = keys.claims_for(client_id, now=time.time(), aud=token_url)
    return compact({"alg": "RS256", "typ": "JWT"}, claims, b"\x00" * 256)


def rows():
    return sorted((r.client_id, r.reason, r.endpoint, r.count) for r in AuthFailure.objects.all())


def test_a_flood_leaves_real_clients_earlier_failures_in_place(
    client, small_store, rsa_key, attacker_key, rsa_client, ec_client, ec_key, claims, token_url
):
    now = int(time.time())
    expired = claims(exp=now - 3600, iat=now - 3700)
    assert_refused(post(client, form(rsa_key.sign(expired))), 401, "invalid_client")
    wrong_aud = keys.claims_for(ec_client.client_id, now=now, aud="https://elsewhere.example")
    assert_refused(post(client, form(ec_key.sign(wrong_aud))), 401, "invalid_client")
    earlier = list(AuthFailure.objects.values_list("pk", flat=True))
    assert len(earlier) == 2

    forged = attacker_key.sign(claims())
    for _ in range(FLOOD):
        assert_generic_401(post(client, form(forged)))
    secret = {"grant_type": "client_credentials", "client_secret": "guess"}
    for i in range(5):
        assert_generic_401(post(client, {**secret, "client_id": f"made-up-secret-{i}"}))
    for _ in range(FLOOD):
        made_up = f"made-up-{uuid.uuid4().hex}"
        assert_generic_401(post(client, form(made_up_assertion(made_up, token_url))))

    kept = AuthFailure.objects.filter(pk__in=earlier).count()
    assert kept == 2, "the flood pushed the real clients' earlier failures out"
    assert rows() == [
        ("", "unknown_client", "token", FLOOD + 5),
        (ec_client.client_id, "audience_mismatch", "token", 1),
        (rsa_client.client_id, "bad_signature", "token", FLOOD),
        (rsa_client.client_id, "expired", "token", 1),
    ]
    flood = AuthFailure.objects.get(reason="bad_signature")
    assert flood.last_seen > flood.created_at and flood.remote_addr == "127.0.0.1"
    # Made-up IDs are not filed under themselves; the detail names the latest claimed
    # one, for an integrator looking for a mistyped ID.
    unknown = AuthFailure.objects.get(reason="unknown_client")
    assert unknown.detail == f"no client with this ID: {made_up!r}"


def test_a_burst_after_a_quiet_window_gets_its_own_row(client, attacker_key, claims):
    forged = attacker_key.sign(claims())
    for _ in range(3):
        assert_generic_401(post(client, form(forged)))
    quiet = failures.QUIET + dt.timedelta(seconds=1)
    earlier = AuthFailure.objects.get()
    AuthFailure.objects.filter(pk=earlier.pk).update(
        created_at=earlier.created_at - quiet, last_seen=earlier.last_seen - quiet
    )
    assert_generic_401(post(client, form(forged)))
    assert [r.count for r in AuthFailure.objects.order_by("id")] == [3, 1]
