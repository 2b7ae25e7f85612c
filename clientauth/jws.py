"""Compact JWS mechanics for client assertions (RFC 7515 sections 3.1, 5.2 and 7.1).

Splitting and decoding without trusting (strict base64url, JSON objects only, no
duplicate member names, no NaN), and which key type each algorithm needs (RFC 7518
section 3, RFC 8037, RFC 9864). Signatures are checked with PyJWT's algorithm objects,
the project's one JOSE library. Used by ``clientauth.assertion``; knows nothing of
clients or claims.
"""

from __future__ import annotations

import binascii
import json
import re
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa

from clientauth import errors
from clientauth.constants import EC_ALGORITHMS, RSA_ALGORITHMS

_B64URL = re.compile(r"[A-Za-z0-9_-]*")
_EC_CURVES = {"ES256": ec.SECP256R1, "ES384": ec.SECP384R1, "ES512": ec.SECP521R1}
# RFC 9864 names Ed25519 explicitly; its signature is EdDSA's over the same bytes.
VERIFIERS = {name: jwt.get_algorithm_by_name(name) for name in (*RSA_ALGORITHMS, *EC_ALGORITHMS)}
VERIFIERS["EdDSA"] = VERIFIERS["Ed25519"] = jwt.get_algorithm_by_name("EdDSA")


@dataclass(frozen=True, slots=True)
class ParsedAssertion:
    header: dict
    claims: dict
    signing_input: bytes
    signature: bytes


# base64url's two letters of its own mapped to standard base64's, for binascii.
_TO_STANDARD = bytes.maketrans(b"-_", b"+/")


def _b64decode(segment: str, what: str) -> bytes:
    """``urlsafe_b64decode`` of the padded segment, once the segment is known to hold
    only base64url characters, without its checks and conversions of any input."""
    if not _B64URL.fullmatch(segment) or len(segment) % 4 == 1:
        raise errors.MalformedAssertion(f"{what} is not base64url")
    padded = segment.encode("ascii").translate(_TO_STANDARD) + b"=" * (-len(segment) % 4)
    try:
        return binascii.a2b_base64(padded)
    except (binascii.Error, ValueError):
        raise errors.MalformedAssertion(f"{what} is not base64url") from None


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise ValueError("duplicate member name")
    return result


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


# One decoder for every call: json.loads with hooks would build a new one each time.
_DECODER = json.JSONDecoder(object_pairs_hook=_no_duplicates, parse_constant=_reject_constant)


def _json_object(data: bytes, what: str) -> dict:
    try:
        value = _DECODER.decode(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise errors.MalformedAssertion(f"{what} is not a JSON object") from None
    if not isinstance(value, dict):
        raise errors.MalformedAssertion(f"{what} is not a JSON object")
    return value


def parse(assertion: str) -> ParsedAssertion:
    """Split and decode a compact JWS (RFC 7515 section 7.1) without trusting it."""
    if not assertion.isascii():
        raise errors.MalformedAssertion("client_assertion is not a compact JWS")
    parts = assertion.split(".")
    if len(parts) != 3:
        raise errors.MalformedAssertion("client_assertion is not a compact JWS (3 segments)")
    header = _json_object(_b64decode(parts[0], "JOSE header"), "JOSE header")
    claims = _json_object(_b64decode(parts[1], "claims"), "claims")
    signature = _b64decode(parts[2], "signature")
    if "crit" in header:
        raise errors.MalformedAssertion("crit header extensions are not supported")
    return ParsedAssertion(header, claims, f"{parts[0]}.{parts[1]}".encode(), signature)


def key_fits(alg: str, key: Any) -> bool:
    """Whether ``key`` is of the type ``alg`` needs: RS/PS with RSA, ES with its curve."""
    if alg in RSA_ALGORITHMS:
        return isinstance(key, rsa.RSAPublicKey)
    if alg in _EC_CURVES:
        return isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, _EC_CURVES[alg])
    if alg == "Ed25519":
        return isinstance(key, ed25519.Ed25519PublicKey)
    return isinstance(key, ed25519.Ed25519PublicKey | ed448.Ed448PublicKey)
