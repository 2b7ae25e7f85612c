"""Every refusal reason has its plain words (``clientauth.reasons``), for the console."""

from __future__ import annotations

from clientauth import errors
from clientauth.reasons import TEXT, describe


def _reasons(cls) -> set[str]:
    found = {cls.reason}
    for sub in cls.__subclasses__():
        found |= _reasons(sub)
    return found


def test_every_reason_has_plain_words():
    reasons = _reasons(errors.ClientAuthError) | {errors.ServiceUnavailable.reason}
    assert reasons - set(TEXT) == set()
    assert all(TEXT[r].endswith(".") and "\n" not in TEXT[r] for r in reasons)


def test_key_refusals_say_what_happened():
    assert describe("unknown_kid").startswith("Unknown key ID")
    assert "jwks_uri" in describe("jwks_fetch_failed")
    assert describe("no_such_reason") == ""
