"""Shared helpers of the hostile-input corpus: posting forms and reading refusals.

Every case goes through the real endpoints with a form-urlencoded body, as a client
would send it, and asserts the contract's exact answer (CONTRACT.md, "Failed client
authentication") plus the database rows a refusal must not leave behind.
"""

from __future__ import annotations

import json
from urllib.parse import urlencode

from clientauth.constants import JWT_BEARER_CLIENT_ASSERTION_TYPE
from clientauth.errors import GENERIC_DESCRIPTION
from clientauth.models import JtiRecord
from tests.keys import b64url

FORM = "application/x-www-form-urlencoded"
TOKEN = "/oauth2/token"
INTROSPECT = "/oauth2/introspect"
REVOKE = "/oauth2/revoke"
ASSERTION_ENDPOINTS = (TOKEN, INTROSPECT, REVOKE)

__all__ = ["GENERIC_DESCRIPTION", "JWT_BEARER_CLIENT_ASSERTION_TYPE"]


def form(assertion: str | None, **extra: str) -> dict[str, str]:
    """A client_credentials request authenticated by ``assertion``."""
    data = {"grant_type": "client_credentials"}
    if assertion is not None:
        data["client_assertion_type"] = JWT_BEARER_CLIENT_ASSERTION_TYPE
        data["client_assertion"] = assertion
    data.update(extra)
    return data


def post(client, data, path: str = TOKEN, **headers):
    """POST ``data`` (a dict, or a list of pairs for repeated names) form-encoded."""
    return client.post(path, urlencode(data), content_type=FORM, **headers)


def body(response) -> dict:
    assert response["Content-Type"].startswith("application/json"), response.content[:200]
    return json.loads(response.content)


def assert_refused(response, status: int, error: str, description: str | None = None) -> dict:
    """The contract's error answer: status, JSON body, ``no-store``; ``description`` exact."""
    assert response.status_code == status, response.content[:300]
    payload = body(response)
    assert payload["error"] == error, payload
    if description is not None:
        assert payload["error_description"] == description, payload
    assert response["Cache-Control"] == "no-store"
    return payload


def assert_generic_401(response) -> None:
    """A refusal before the signature verified: nothing hints at why or at the client."""
    assert_refused(response, 401, "invalid_client", GENERIC_DESCRIPTION)


def assert_token(response) -> dict:
    assert response.status_code == 200, response.content[:300]
    payload = body(response)
    assert payload["token_type"].lower() == "bearer" and payload["access_token"]
    return payload


def jti_rows(client_id: str | None = None) -> int:
    rows = JtiRecord.objects.all()
    if client_id is not None:
        rows = rows.filter(client_id=client_id)
    return rows.count()


def segment(value) -> str:
    """base64url of ``value``: bytes as they are, anything else as compact JSON."""
    raw = value if isinstance(value, bytes) else json.dumps(value, separators=(",", ":")).encode()
    return b64url(raw)


def compact(header, claims, signature: bytes = b"") -> str:
    """A compact JWS of any header, claims and signature bytes, however wrong."""
    return f"{segment(header)}.{segment(claims)}.{b64url(signature)}"


def sign_raw(pair, header, claims) -> str:
    """Sign arbitrary header/claims segments (dicts or raw bytes) with ``pair``'s key."""
    import jwt

    signing_input = f"{segment(header)}.{segment(claims)}"
    alg = header["alg"] if isinstance(header, dict) else pair.alg
    algorithm = jwt.get_algorithm_by_name("EdDSA" if alg == "Ed25519" else alg)
    return f"{signing_input}.{b64url(algorithm.sign(signing_input.encode(), pair.private_key))}"
