"""``clientauth.jws``: segments decode exactly as ``base64.urlsafe_b64decode`` decodes
them once padded, and anything that is not base64url is refused as malformed."""

from __future__ import annotations

import base64
import itertools
import random

import pytest

from clientauth import errors, jws

ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def _segments():
    rnd = random.Random(7523)
    short = ["".join(p) for n in range(4) for p in itertools.product("A_-9", repeat=n)]
    longer = [
        "".join(rnd.choice(ALPHABET) for _ in range(rnd.randrange(4, 40))) for _ in range(300)
    ]
    return short + longer


def test_segments_decode_as_urlsafe_b64decode_does():
    for segment in _segments():
        if len(segment) % 4 == 1:
            with pytest.raises(errors.MalformedAssertion):
                jws._b64decode(segment, "claims")
            continue
        expected = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
        assert jws._b64decode(segment, "claims") == expected, segment


@pytest.mark.parametrize("segment", ["ab+c", "ab/c", "abc=", "ab c", "ab.c", "ab\nc", "abcé"])
def test_characters_outside_base64url_are_refused(segment):
    with pytest.raises(errors.MalformedAssertion, match="claims is not base64url"):
        jws._b64decode(segment, "claims")
