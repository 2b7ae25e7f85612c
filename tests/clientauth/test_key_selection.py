"""Choosing among a JWK Set's keys (``clientauth.assertion.select_keys``): pure, no database.

With a ``kid``, only that key; without, every key for signatures whose type fits the
algorithm, at most ``MAX_KEYS_WITHOUT_KID``. Every refusal is generic to the client.
"""

from __future__ import annotations

import json

import pytest

from clientauth import conf, errors
from clientauth.assertion import MAX_KEYS_WITHOUT_KID, ClientInfo, verify_client_assertion
from clientauth.jwk import parse_jwks
from tests import keys
from tests.clientauth.jwks_support import jwk_of, jwks_of

CLIENT = ClientInfo(client_id="jwks-client", auth_method="private_key_jwt")
NOW = 1_800_000_000.0


def policy(**overrides):
    return conf.build_policy({**conf.DEFAULTS, **overrides}, keys.ISSUER)


def keyset(*entries):
    return parse_jwks(json.dumps(jwks_of(*entries))).keys


def verify(assertion, key_entries, client=CLIENT, seen_kids=None):
    def find_keys(info, kid):
        if seen_kids is not None:
            seen_kids.append(kid)
        return key_entries

    return verify_client_assertion(
        assertion,
        find_client=lambda cid: client if cid == client.client_id else None,
        find_keys=find_keys,
        policy=policy(),
        now=NOW,
    )


def sign(pair, kid=None, **kwargs):
    headers = {"kid": kid} if kid is not None else {}
    return pair.sign(keys.claims_for(CLIENT.client_id, now=NOW), headers=headers, **kwargs)


def test_kid_selects_its_key_and_reaches_the_lookup(rsa_key, attacker_key):
    entries = keyset(jwk_of(attacker_key, "k0"), jwk_of(rsa_key, "k1"))
    seen = []
    assert verify(sign(rsa_key, "k1"), entries, seen_kids=seen).alg == "RS256"
    assert seen == ["k1"]


def test_kid_naming_another_key_is_a_bad_signature(rsa_key, attacker_key):
    entries = keyset(jwk_of(attacker_key, "k0"), jwk_of(rsa_key, "k1"))
    with pytest.raises(errors.BadSignature) as caught:
        verify(sign(rsa_key, "k0"), entries)
    assert caught.value.public_description == errors.GENERIC_DESCRIPTION


@pytest.mark.parametrize("kid", ["k9", "", 7, None, ["k1"]])
def test_unknown_kid_is_refused_generically(rsa_key, kid):
    entries = keyset(jwk_of(rsa_key, "k1"))
    assertion = rsa_key.sign(keys.claims_for(CLIENT.client_id, now=NOW), headers={"kid": kid})
    with pytest.raises(errors.UnknownKid) as caught:
        verify(assertion, entries)
    assert caught.value.reason == "unknown_kid"
    assert caught.value.public_description == errors.GENERIC_DESCRIPTION


def test_key_for_encryption_is_not_used_for_signatures(rsa_key):
    entries = keyset(jwk_of(rsa_key, "enc", use="enc"))
    with pytest.raises(errors.KeyNotUsable, match="use 'enc'"):
        verify(sign(rsa_key, "enc"), entries)
    with pytest.raises(errors.AlgorithmNotAllowed):  # nor tried without a kid
        verify(sign(rsa_key), entries)


def test_key_ops_without_verify_is_not_used(rsa_key):
    entries = keyset(jwk_of(rsa_key, "k", key_ops=["encrypt"]))
    with pytest.raises(errors.KeyNotUsable, match="key_ops"):
        verify(sign(rsa_key, "k"), entries)


def test_key_alg_must_equal_the_header_alg(rsa_key):
    entries = keyset(jwk_of(rsa_key, "k", alg="PS256"))
    with pytest.raises(errors.KeyNotUsable, match="for alg PS256, not RS256"):
        verify(sign(rsa_key, "k"), entries)
    assert verify(sign(rsa_key, "k", alg="PS256"), entries).alg == "PS256"


def test_kid_of_a_key_of_another_type_is_refused(rsa_key, ec_key):
    entries = keyset(jwk_of(ec_key, "ec"))
    with pytest.raises(errors.AlgorithmNotAllowed):
        verify(sign(rsa_key, "ec"), entries)


def test_pinned_algorithm_still_applies(rsa_key):
    pinned = ClientInfo(CLIENT.client_id, auth_method="private_key_jwt", signing_alg="PS256")
    entries = keyset(jwk_of(rsa_key, "k"))
    with pytest.raises(errors.AlgorithmNotAllowed):
        verify(sign(rsa_key, "k"), entries, client=pinned)


def test_without_kid_every_fitting_key_is_tried(rsa_key, ec_key, attacker_key):
    entries = keyset(jwk_of(ec_key, "ec"), jwk_of(attacker_key, "a"), jwk_of(rsa_key, "r"))
    assert verify(sign(rsa_key), entries).alg == "RS256"
    assert verify(sign(ec_key), entries).alg == "ES256"


def test_without_kid_too_many_fitting_keys_need_a_kid(rsa_key):
    others = [keys.rsa_pair(name=f"o{i}") for i in range(MAX_KEYS_WITHOUT_KID)]
    entries = keyset(*[jwk_of(p, f"o{i}") for i, p in enumerate(others)], jwk_of(rsa_key, "r"))
    with pytest.raises(errors.KidRequired):
        verify(sign(rsa_key), entries)
    assert verify(sign(rsa_key, "r"), entries).alg == "RS256"


def test_certificate_keys_ignore_kid(rsa_key):
    # A keystore certificate's keys are plain public keys: kid selects nothing.
    assert verify(sign(rsa_key, "anything"), [rsa_key.private_key.public_key()]).alg == "RS256"
