"""Algorithm attacks on the assertion's ``alg`` (RFC 8725 sections 2.1 and 3.1, RFC 7523
section 3 item 9, CONTRACT.md: never ``none``, never HMAC, the client's pinned alg).

Each refusal comes before the signature is trusted, so the answer is the generic 401
and no ``jti`` row is written.
"""

from __future__ import annotations

import hashlib
import hmac
import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization

from tests import keys
from tests.keys import b64url
from tests.security.support import (
    assert_generic_401,
    assert_token,
    compact,
    form,
    jti_rows,
    post,
    segment,
    sign_raw,
)


def hmac_jws(header: dict, claims: dict, secret: bytes) -> str:
    digest = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}
    signing_input = f"{segment(header)}.{segment(claims)}"
    mac = hmac.new(secret, signing_input.encode(), digest[header["alg"]]).digest()
    return f"{signing_input}.{b64url(mac)}"


def test_control_a_correct_assertion_gets_a_token(client, rsa_key, claims):
    """The fixture works: the refusals below are about the attack, not the setup."""
    assert_token(post(client, form(rsa_key.sign(claims()))))
    assert jti_rows() == 1


@pytest.mark.parametrize("alg", ["none", "None", "NONE", "nOnE"])
@pytest.mark.parametrize("signature", [b"", b"\x00"])
def test_alg_none_is_refused(client, rsa_client, claims, alg, signature):
    assertion = compact({"alg": alg, "typ": "JWT"}, claims(), signature)
    assert_generic_401(post(client, form(assertion)))
    assert jti_rows() == 0


@pytest.mark.parametrize("alg", ["HS256", "HS384", "HS512"])
@pytest.mark.parametrize("material", ["public_pem", "certificate_pem", "public_der"])
def test_hmac_keyed_with_the_public_key_is_refused(client, rsa_key, claims, alg, material):
    """The classic key-confusion: an HMAC whose secret is the client's public key."""
    public = rsa_key.private_key.public_key()
    secret = {
        "public_pem": public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ),
        "certificate_pem": rsa_key.cert_pem,
        "public_der": public.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        ),
    }[material]
    assertion = hmac_jws({"alg": alg, "typ": "JWT"}, claims(), secret)
    assert_generic_401(post(client, form(assertion)))
    assert jti_rows() == 0


@pytest.mark.parametrize(
    "alg, signer",
    [("ES256", "ec_key"), ("EdDSA", "ed_key"), ("Ed25519", "ed_key"), ("ES384", "ec384_key")],
)
def test_header_alg_of_another_key_type_is_refused(
    client, rsa_client, claims, alg, signer, request
):
    """An RSA client's assertion signed by an attacker's key of the type the header names."""
    pair = request.getfixturevalue(signer)
    assertion = sign_raw(pair, {"alg": alg, "typ": "JWT"}, claims())
    assert_generic_401(post(client, form(assertion)))
    assert jti_rows() == 0


def test_es256_header_over_an_rsa_signature_is_refused(client, rsa_key, claims):
    """The client's own RSA signature bytes, relabelled ES256."""
    genuine = rsa_key.sign(claims())
    header, payload, signature = genuine.split(".")
    relabelled = f"{segment({'alg': 'ES256', 'typ': 'JWT'})}.{payload}.{signature}"
    assert_generic_401(post(client, form(relabelled)))
    assert jti_rows() == 0


def test_rs256_on_a_ps256_pinned_client_is_refused(client, ps_key, pinned_ps_client, token_url):
    """Signed with the client's real key, but not with the algorithm it registered."""
    claims = keys.claims_for(pinned_ps_client.client_id, now=time.time(), aud=token_url)
    assert_generic_401(post(client, form(ps_key.sign(claims, alg="RS256"))))
    assert_generic_401(post(client, form(ps_key.sign(claims, alg="PS384"))))
    assert jti_rows() == 0
    assert_token(post(client, form(ps_key.sign(claims, alg="PS256"))))


def test_ps_and_rs_swap_of_the_same_signature_is_refused(client, rsa_key, claims):
    """An RS256 signature relabelled PS256 (and back) does not verify as the other."""
    genuine = rsa_key.sign(claims())
    _, payload, signature = genuine.split(".")
    swapped = f"{segment({'alg': 'PS256', 'typ': 'JWT'})}.{payload}.{signature}"
    assert_generic_401(post(client, form(swapped)))
    assert jti_rows() == 0


@pytest.mark.parametrize(
    "alg",
    [None, 256, ["RS256"], {"alg": "RS256"}, "", "rs256", "RS256 ", "ES256K", "RSA-OAEP", "dir"],
)
def test_alg_that_is_not_an_allowed_name_is_refused(client, rsa_key, claims, alg):
    header = {"typ": "JWT"} if alg is None else {"alg": alg, "typ": "JWT"}
    signing_input = f"{segment(header)}.{segment(claims())}"
    signature = jwt.get_algorithm_by_name("RS256").sign(signing_input.encode(), rsa_key.private_key)
    assert_generic_401(post(client, form(f"{signing_input}.{b64url(signature)}")))
    assert jti_rows() == 0


def test_alg_outside_allowed_algorithms_is_refused(client, rsa_key, claims, settings):
    settings.PRIVATE_KEY_JWT = {"ALLOWED_ALGORITHMS": ["PS256"]}
    assert_generic_401(post(client, form(rsa_key.sign(claims(), alg="RS256"))))
    assert jti_rows() == 0
    assert_token(post(client, form(rsa_key.sign(claims(), alg="PS256"))))
