"""Client keys as a JWK Set (RFC 7517 sections 4 and 5), checked once, when set or fetched.

``parse_jwks`` turns the text of a JWK Set into a ``KeySet`` of public keys or refuses
the whole set with one ``JwksError`` line naming the key and the problem: a private
member anywhere (the client must learn it published a secret, not have it stored), a
``kid`` used twice, a key type or curve this server does not verify with (RSA of at
least 2048 bits, EC P-256/384/521, OKP Ed25519), an ``alg`` that does not fit the key,
a member of the wrong form. Every key of a stored set has passed these checks, so the
token path only selects (``clientauth.assertion``). ``thumbprint`` is RFC 7638's.

Pure: no HTTP, no database. Called by ``clientauth.keysources`` (inline sets, fetched
sets, ``current_keys``) and by registration through it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from clientauth.constants import OKP_ALGORITHMS, RSA_ALGORITHMS

MIN_RSA_BITS = 2048
MAX_RSA_BITS = 16384
# A client needs two or three keys during a rotation; a set this large is a mistake,
# and every key costs a parse.
MAX_KEYS = 50
MAX_KID_CHARS = 255
# RFC 7517 section 4 and RFC 7518 section 6: members that only a private or symmetric
# key has.
PRIVATE_MEMBERS = ("d", "p", "q", "dp", "dq", "qi", "oth", "k")

_CURVES = {"P-256": (ec.SECP256R1, "ES256"), "P-384": (ec.SECP384R1, "ES384"),
           "P-521": (ec.SECP521R1, "ES512")}  # fmt: skip
_B64URL = re.compile(r"[A-Za-z0-9_-]+")


class JwksError(ValueError):
    """A JWK Set refused; ``str()`` is one line naming the key and the problem."""


@dataclass(frozen=True, slots=True)
class JwkKey:
    """One checked public key of a client's JWK Set."""

    kid: str | None
    kty: str
    alg: str  # "" when the JWK names none
    use: str  # "" when the JWK names none
    key_ops: tuple[str, ...] | None
    key: Any  # a cryptography public key
    thumbprint: str  # RFC 7638, SHA-256, base64url

    def usable_for(self, alg: str) -> str | None:
        """Why this key may not verify an ``alg`` signature (RFC 7517 sections 4.2-4.4),
        or None when it may."""
        if self.use and self.use != "sig":
            return f"key {self.label} is for use {self.use!r}, not sig"
        if self.key_ops is not None and "verify" not in self.key_ops:
            return f"key {self.label} key_ops do not include verify"
        if self.alg and self.alg != alg:
            return f"key {self.label} is for alg {self.alg}, not {alg}"
        return None

    @property
    def label(self) -> str:
        return repr(self.kid) if self.kid is not None else f"#{self.thumbprint[:12]}"


@dataclass(frozen=True, slots=True)
class KeySet:
    keys: tuple[JwkKey, ...]
    text: str  # the set as stored: compact JSON, public members only
    digest: str  # SHA-256 of ``text``, hex: names the set in caches

    def by_kid(self, kid: str) -> JwkKey | None:
        for key in self.keys:
            if key.kid == kid:
                return key
        return None


def _b64(value: object, member: str, label: str) -> bytes:
    if not isinstance(value, str) or not _B64URL.fullmatch(value) or len(value) % 4 == 1:
        raise JwksError(f"key {label}: {member} is not base64url")
    try:
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError):
        raise JwksError(f"key {label}: {member} is not base64url") from None


def _uint(value: object, member: str, label: str) -> int:
    # RFC 7518 asks for no leading zero octets; sets that have one exist, and the
    # value is the same.
    return int.from_bytes(_b64(value, member, label), "big")


def thumbprint(members: dict[str, str]) -> str:
    """RFC 7638: SHA-256 of the required members in lexicographic order, base64url."""
    canonical = json.dumps(members, sort_keys=True, separators=(",", ":"))
    digest = hashlib.sha256(canonical.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _rsa(jwk: dict, label: str) -> tuple[Any, dict, tuple[str, ...]]:
    n, e = _uint(jwk.get("n"), "n", label), _uint(jwk.get("e"), "e", label)
    if n.bit_length() < MIN_RSA_BITS:
        raise JwksError(f"key {label}: RSA key of {n.bit_length()} bits (at least {MIN_RSA_BITS})")
    if n.bit_length() > MAX_RSA_BITS or e < 3 or e % 2 == 0 or e >= n:
        raise JwksError(f"key {label}: not a usable RSA public key")
    key = rsa.RSAPublicNumbers(e, n).public_key()
    return key, {"e": jwk["e"], "kty": "RSA", "n": jwk["n"]}, RSA_ALGORITHMS


def _ec(jwk: dict, label: str) -> tuple[Any, dict, tuple[str, ...]]:
    crv = jwk.get("crv")
    if crv not in _CURVES:
        raise JwksError(f"key {label}: EC curve {str(crv)[:16]!r} (use P-256, P-384 or P-521)")
    curve, alg = _CURVES[crv]
    size = (curve.key_size + 7) // 8
    x, y = _b64(jwk.get("x"), "x", label), _b64(jwk.get("y"), "y", label)
    if len(x) != size or len(y) != size:
        raise JwksError(f"key {label}: x and y must be {size} bytes for {crv}")
    try:
        key = ec.EllipticCurvePublicKey.from_encoded_point(curve(), b"\x04" + x + y)
    except ValueError:
        raise JwksError(f"key {label}: the point is not on {crv}") from None
    return key, {"crv": crv, "kty": "EC", "x": jwk["x"], "y": jwk["y"]}, (alg,)


def _okp(jwk: dict, label: str) -> tuple[Any, dict, tuple[str, ...]]:
    if jwk.get("crv") != "Ed25519":
        raise JwksError(f"key {label}: OKP curve {str(jwk.get('crv'))[:16]!r} (use Ed25519)")
    x = _b64(jwk.get("x"), "x", label)
    if len(x) != 32:
        raise JwksError(f"key {label}: x must be 32 bytes for Ed25519")
    key = ed25519.Ed25519PublicKey.from_public_bytes(x)
    return key, {"crv": "Ed25519", "kty": "OKP", "x": jwk["x"]}, OKP_ALGORITHMS


_KEY_TYPES = {"RSA": _rsa, "EC": _ec, "OKP": _okp}


def _optional_str(jwk: dict, member: str, label: str) -> str:
    value = jwk.get(member, "")
    if not isinstance(value, str):
        raise JwksError(f"key {label}: {member} is not a string")
    return value


def _key(jwk: object, index: int) -> JwkKey:
    if not isinstance(jwk, dict):
        raise JwksError(f"key #{index} is not a JSON object")
    kid = jwk.get("kid")
    if "kid" in jwk and (not isinstance(kid, str) or not 0 < len(kid) <= MAX_KID_CHARS):
        raise JwksError(f"key #{index}: kid must be a string of 1 to {MAX_KID_CHARS} characters")
    label = repr(kid) if kid is not None else f"#{index}"
    kty = jwk.get("kty")
    if kty not in _KEY_TYPES:
        raise JwksError(f"key {label}: kty {str(kty)[:16]!r} is not RSA, EC or OKP")
    key, required, algorithms = _KEY_TYPES[kty](jwk, label)
    alg = _optional_str(jwk, "alg", label)
    if alg and alg not in algorithms:
        raise JwksError(f"key {label}: alg {alg[:16]!r} does not fit a {kty} key")
    use = _optional_str(jwk, "use", label)
    key_ops = jwk.get("key_ops")
    if key_ops is not None:
        if not isinstance(key_ops, list) or not all(isinstance(op, str) for op in key_ops):
            raise JwksError(f"key {label}: key_ops is not a list of strings")
        key_ops = tuple(key_ops)
    return JwkKey(kid, kty, alg, use, key_ops, key, thumbprint(required))


def _decode(text: str | bytes) -> object:
    def no_duplicates(pairs):
        result = dict(pairs)
        if len(result) != len(pairs):
            raise JwksError("the JWK Set has a member name twice")
        return result

    def no_constants(name):
        raise JwksError(f"the JWK Set is not JSON ({name})")

    try:
        if isinstance(text, bytes):
            text = text.decode("utf-8")
        return json.loads(text, object_pairs_hook=no_duplicates, parse_constant=no_constants)
    except JwksError:
        raise
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise JwksError("the JWK Set is not JSON") from None


def parse_jwks(text: str | bytes) -> KeySet:
    """The checked public keys of a JWK Set's text, or ``JwksError`` for the whole set."""
    document = _decode(text)
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        raise JwksError('a JWK Set is a JSON object with a "keys" array (RFC 7517 section 5)')
    entries = document["keys"]
    if not entries:
        raise JwksError("the JWK Set has no keys")
    if len(entries) > MAX_KEYS:
        raise JwksError(f"the JWK Set has {len(entries)} keys (at most {MAX_KEYS})")
    for index, jwk in enumerate(entries):
        private = [m for m in PRIVATE_MEMBERS if isinstance(jwk, dict) and m in jwk]
        if private:
            kid = jwk.get("kid")
            label = repr(kid)[:40] if isinstance(kid, str) else f"#{index}"
            raise JwksError(
                f"key {label} has private member(s) {', '.join(private)}: publish public keys "
                "only, and replace this key, which is no longer secret"
            )
    keys = tuple(_key(jwk, index) for index, jwk in enumerate(entries))
    kids = [key.kid for key in keys if key.kid is not None]
    duplicates = sorted({kid for kid in kids if kids.count(kid) > 1})
    if duplicates:
        raise JwksError(f"kid {duplicates[0][:40]!r} names more than one key")
    stored = json.dumps(document, separators=(",", ":"), ensure_ascii=True)
    return KeySet(keys, stored, hashlib.sha256(stored.encode()).hexdigest())


def _b64uint(value: int) -> str:
    data = value.to_bytes(max(1, (value.bit_length() + 7) // 8), "big")
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def public_members(key: Any) -> dict[str, str]:
    """The RFC 7638 required members of a cryptography public key (for thumbprints of
    keys that come from certificates)."""
    if isinstance(key, rsa.RSAPublicKey):
        numbers = key.public_numbers()
        return {"e": _b64uint(numbers.e), "kty": "RSA", "n": _b64uint(numbers.n)}
    if isinstance(key, ec.EllipticCurvePublicKey):
        names = {curve: name for name, (curve, _) in _CURVES.items()}
        size = (key.curve.key_size + 7) // 8
        numbers = key.public_numbers()

        def coordinate(value: int) -> str:
            return base64.urlsafe_b64encode(value.to_bytes(size, "big")).rstrip(b"=").decode()

        return {"crv": names.get(type(key.curve), key.curve.name), "kty": "EC",
                "x": coordinate(numbers.x), "y": coordinate(numbers.y)}  # fmt: skip
    from cryptography.hazmat.primitives import serialization

    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    crv = "Ed25519" if isinstance(key, ed25519.Ed25519PublicKey) else "Ed448"
    return {"crv": crv, "kty": "OKP", "x": base64.urlsafe_b64encode(raw).rstrip(b"=").decode()}
