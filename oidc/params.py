"""Bounds on the authorization request's parameters, checked before consent.

Values a client sends to ``/oauth2/authorize`` travel through the consent form into
DOT's ``Grant`` row and back out in redirects; a value too long for its column
(``nonce`` 255, ``code_challenge`` 128) is a 500 on PostgreSQL and silently kept on
SQLite, and a NUL is a 500 on PostgreSQL. Each parameter is therefore held to its
spec's form and to a length the database and a redirect URL can carry:

- ``code_challenge``: 43 to 128 characters of the unreserved set (RFC 7636
  section 4.1's form for the verifier, which the challenge's column shares);
- ``state``: VSCHAR (RFC 6749 appendix A.5), at most ``MAX_STATE``;
- ``nonce``: VSCHAR as ``state`` (OIDC Core 3.1.2.1 gives no grammar), at most the
  column's 255;
- ``scope``: NQCHAR tokens (RFC 6749 appendix A.4), at most ``MAX_SCOPE``;
- ``claims``: at most ``MAX_CLAIMS`` (the parameter is not supported, but DOT keeps it);
- ``response_mode``: ``query`` only, the one discovery advertises;
- ``max_age``: a non-negative integer of at most ``MAX_AGE_DIGITS`` digits (OIDC Core
  3.1.2.1).

``redirect_uri`` and ``client_id`` are not here: they must match the registration
exactly before anything is checked, and a mismatch is never redirected to (OIDC Core
3.1.2.6). ``check`` is pure; ``oidc.validator`` calls it after oauthlib has validated
the client and the redirect URI, so a refusal goes to the redirect URI as
``invalid_request``.
"""

from __future__ import annotations

import re
from collections.abc import Callable

UNRESERVED = re.compile(r"[A-Za-z0-9\-._~]*")  # RFC 3986 section 2.3
VSCHAR = re.compile(r"[\x20-\x7e]*")  # RFC 6749 appendix A
NQCHAR = re.compile(r"[\x21\x23-\x5b\x5d-\x7e]+")  # RFC 6749 appendix A.4 scope-token

MIN_CODE_CHALLENGE = 43  # RFC 7636 section 4.1
MAX_CODE_CHALLENGE = 128  # RFC 7636 section 4.1; DOT's Grant.code_challenge
MAX_NONCE = 255  # DOT's Grant.nonce
MAX_STATE = 1024  # echoed in the redirect: keeps the Location header well under 8 KiB
MAX_SCOPE = 1024  # every scope this server knows fits many times over
MAX_CLAIMS = 4096  # DOT keeps an unsupported ``claims`` value on the grant
RESPONSE_MODES = ("query",)
MAX_AGE_DIGITS = 10  # over 300 years of seconds


class InvalidParameter(ValueError):
    """An authorization request parameter outside its bounds; ``name`` says which."""

    def __init__(self, name: str, reason: str):
        super().__init__(f"{name} {reason}")
        self.name = name
        self.reason = reason


def _code_challenge(value: str) -> str | None:
    if not MIN_CODE_CHALLENGE <= len(value) <= MAX_CODE_CHALLENGE:
        return f"must be {MIN_CODE_CHALLENGE} to {MAX_CODE_CHALLENGE} characters"
    if not UNRESERVED.fullmatch(value):
        return "must use only the characters A-Z a-z 0-9 - . _ ~"
    return None


def _text(maximum: int) -> Callable[[str], str | None]:
    def check(value: str) -> str | None:
        if len(value) > maximum:
            return f"must be at most {maximum} characters"
        if not VSCHAR.fullmatch(value):
            return "must be printable ASCII"
        if value != value.strip():
            # DOT's consent form strips them: the value would come back changed.
            return "must not begin or end with a space"
        return None

    return check


def _scope(value: str) -> str | None:
    if len(value) > MAX_SCOPE:
        return f"must be at most {MAX_SCOPE} characters"
    if not all(NQCHAR.fullmatch(token) for token in value.split(" ") if token):
        return "must be space-separated printable ASCII tokens"
    return None


def _claims(value: str) -> str | None:
    return f"must be at most {MAX_CLAIMS} characters" if len(value) > MAX_CLAIMS else None


def _response_mode(value: str) -> str | None:
    return None if value in RESPONSE_MODES else f"must be one of {', '.join(RESPONSE_MODES)}"


def is_max_age(value: str) -> bool:
    return len(value) <= MAX_AGE_DIGITS and value.isascii() and value.isdigit()


def _max_age(value: str) -> str | None:
    if not is_max_age(value):
        return f"must be a non-negative integer of at most {MAX_AGE_DIGITS} digits"
    return None


CHECKS: dict[str, Callable[[str], str | None]] = {
    "code_challenge": _code_challenge,
    "state": _text(MAX_STATE),
    "nonce": _text(MAX_NONCE),
    "scope": _scope,
    "claims": _claims,
    "response_mode": _response_mode,
    "max_age": _max_age,
}


def check(values: dict[str, object]) -> None:
    """Raise ``InvalidParameter`` for the first value (in ``CHECKS`` order) out of bounds.

    ``values`` maps parameter names to what the request carried; ``None`` or an empty
    string means absent (DOT's consent form posts an absent ``state`` as empty).
    """
    for name, rule in CHECKS.items():
        value = values.get(name)
        if value is None or value == "":
            continue
        if not isinstance(value, str):
            raise InvalidParameter(name, "must be a string")
        reason = rule(value)
        if reason:
            raise InvalidParameter(name, reason)
