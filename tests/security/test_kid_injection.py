"""``kid`` injection (RFC 7515 section 4.1.4, RFC 8725 section 3.10): the header's ``kid``
never selects a key, a file or a query. The client's keys come from the keystore by
its client ID, and every one of them is tried.

Hostile ``kid`` values with the attacker's signature are refused generically; the same
values on the client's genuine signature are accepted, which shows that ``kid`` is not
looked up anywhere (and that no value of it breaks the request).
"""

from __future__ import annotations

import pytest

from keystore.models import Certificate
from tests.security.support import assert_generic_401, assert_token, form, jti_rows, post, sign_raw

KIDS = [
    "../../../../etc/passwd",
    "/dev/null",
    "..\\..\\windows\\win.ini",
    "' OR '1'='1",
    'x\'; DROP TABLE "IDN_OIDC_JTI"; --',
    "1 UNION SELECT pem FROM keystore_certificate",
    "sec-rsa-client",
    "k" * 4000,  # long, yet within MAX_ASSERTION_BYTES
    "\u202egnp.exe",
    "null\x00byte",
    "%00%2e%2e%2f",
    "http://127.0.0.1:9/jwks",
    "",
]
NON_STRING_KIDS = [None, 0, -1, 2**64, ["a"], {"$ne": ""}, True]


@pytest.mark.parametrize("kid", KIDS + NON_STRING_KIDS, ids=lambda k: repr(k)[:20])
def test_hostile_kid_with_attacker_signature_is_refused(
    client, rsa_client, attacker_key, claims, kid
):
    assertion = sign_raw(attacker_key, {"alg": "RS256", "typ": "JWT", "kid": kid}, claims())
    assert_generic_401(post(client, form(assertion)))
    assert jti_rows() == 0


@pytest.mark.parametrize("kid", KIDS + NON_STRING_KIDS, ids=lambda k: repr(k)[:20])
def test_hostile_kid_on_a_genuine_assertion_changes_nothing(
    client, rsa_key, rsa_client, claims, kid
):
    assertion = sign_raw(rsa_key, {"alg": "RS256", "typ": "JWT", "kid": kid}, claims())
    assert_token(post(client, form(assertion)))
    assert jti_rows(rsa_client.client_id) == 1
    assert Certificate.objects.filter(alias=rsa_client.client_id).count() == 1
