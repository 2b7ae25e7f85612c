"""The Private Key JWT verifier: RFC 7523 sections 2.2 and 3, OIDC Core section 9.

A pure function. The assertion, a client lookup, a key lookup, the policy (with its
accepted audiences) and ``now`` come in; verified claims come out, or a typed
``clientauth.errors`` exception is raised. No HTTP, no oauthlib, no ORM: the lookups
are callables, and recording the ``jti`` is a separate step (``clientauth.jti``)
that runs only after every check here has passed.

The checks run in the order of ``CHECKS``: parse without trusting, find the client
from ``sub`` (the only use of unverified data), the client's registered method, the
algorithm, the signature, then the claims. Until the signature is verified every
error is one the caller reports generically (``ClientAuthError.verified`` is False).

Keys come from the client's registered source only. The key lookup is given the
header's ``kid`` (untrusted; the lookup uses it only to decide whether a client's
``jwks_uri`` is worth fetching again) and answers either the public keys of the
client's keystore certificate, every one of which is tried (``kid`` selects nothing
there), or the checked keys of its JWK Set (``clientauth.jwk.JwkKey``), among which
``select_keys`` chooses (OIDC Core section 10.1.1).

Deliberately not here: key material from the token's own headers (``jwk``, ``jku``,
``x5u``, ``x5c`` are never fetched or used), nested or encrypted JWTs, and ``crit``
extensions (refused).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from clientauth import errors, jws
from clientauth.conf import Policy
from clientauth.constants import (
    ALLOWED_TYPES,
    FORBIDDEN_ALGORITHMS,
    MAX_JTI_LENGTH,
    PRIVATE_KEY_JWT,
    REQUIRED_CLAIMS,
)
from clientauth.jwk import JwkKey

# (name, title) of every check, in the order they run; the console's checker shows them.
CHECKS: tuple[tuple[str, str], ...] = (
    ("size", "Assertion size within MAX_ASSERTION_BYTES"),
    ("parse", "Compact JWS with JSON header and claims"),
    ("client", "Client found from sub"),
    ("method", "Client registered for private_key_jwt"),
    ("algorithm", "Algorithm allowed for this client and key"),
    ("signature", "Signature verified with the client's registered key"),
    ("required", "Required claims present (iss, sub, aud, exp, jti)"),
    ("issuer", "iss and sub equal the client ID"),
    ("audience", "aud names this server"),
    ("expiry", "exp not past and lifetime within MAX_ASSERTION_LIFETIME_SECONDS"),
    ("not_before", "nbf not in the future"),
    ("issued_at", "iat not in the future nor older than REJECT_BEFORE_IN_MINUTES"),
    ("type", "typ header, when present, is JWT or client-authentication+jwt"),
    ("jti", "jti is a usable identifier"),
)


@dataclass(frozen=True, slots=True)
class ClientInfo:
    """What the verifier needs to know of a registered client."""

    client_id: str
    auth_method: str  # the registered token_endpoint_auth_method; "" for none
    signing_alg: str = ""
    instance: Any = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class VerifiedAssertion:
    client: ClientInfo
    claims: dict
    alg: str
    jti: str
    exp: float


ClientLookup = Callable[[str], "ClientInfo | None"]
# (client, the header's kid or None) -> public keys, or JwkKey entries of a JWK Set.
KeyLookup = Callable[[ClientInfo, Any], Sequence[Any]]

# Without a kid, at most this many keys of a JWK Set are tried: a signature check each.
MAX_KEYS_WITHOUT_KID = 4


def verify_client_assertion(
    assertion: str,
    *,
    find_client: ClientLookup,
    find_keys: KeyLookup,
    policy: Policy,
    now: float,
    client_id: str | None = None,
    on_pass: Callable[[str], None] | None = None,
) -> VerifiedAssertion:
    """Run every check of ``CHECKS`` in order; ``on_pass(name)`` follows each one passed."""
    passed = on_pass or (lambda name: None)
    check_size(assertion, policy)
    passed("size")
    parsed = jws.parse(assertion)
    passed("parse")
    client = check_client(parsed.claims, find_client)
    passed("client")
    check_method(client)
    passed("method")
    alg = check_algorithm(parsed.header, client, policy)
    passed("algorithm")
    check_signature(parsed, alg, find_keys(client, parsed.header.get("kid")), client)
    passed("signature")
    claims = parsed.claims
    check_required(claims, client)
    passed("required")
    check_issuer(claims, client, client_id)
    passed("issuer")
    check_audience(claims, policy, client)
    passed("audience")
    exp = check_expiry(claims, policy, now, client)
    passed("expiry")
    check_not_before(claims, policy, now, client)
    passed("not_before")
    check_issued_at(claims, policy, now, client)
    passed("issued_at")
    check_type(parsed.header, client)
    passed("type")
    jti = check_jti(claims, client)
    passed("jti")
    return VerifiedAssertion(client=client, claims=claims, alg=alg, jti=jti, exp=exp)


# --- before the signature: nothing here may be trusted --------------------------------


def check_size(assertion: str, policy: Policy) -> None:
    """Refuse oversized assertions before any parsing (RFC 7523 section 3, item 12)."""
    if not isinstance(assertion, str) or not assertion:
        raise errors.MalformedAssertion("client_assertion is empty")
    if len(assertion) > policy.max_assertion_bytes or (
        len(assertion.encode("utf-8", "surrogatepass")) > policy.max_assertion_bytes
    ):
        raise errors.AssertionTooLarge(
            f"client_assertion is longer than {policy.max_assertion_bytes} bytes"
        )


# Not in a client ID the database and the log can hold: NUL, and lone surrogates
# (escaped surrogates are legal JSON text but not UTF-8).
_NOT_IN_A_CLIENT_ID = re.compile("[\x00\ud800-\udfff]")


def plausible_client_id(value: object) -> bool:
    """Whether ``value`` could be a client ID at all: a non-empty string of at most 255
    characters that the database and the log can hold. Anything else names no client
    and is never looked up."""
    return (
        isinstance(value, str) and 0 < len(value) <= 255 and not _NOT_IN_A_CLIENT_ID.search(value)
    )


def check_client(claims: dict, find_client: ClientLookup) -> ClientInfo:
    """The client is named by ``sub`` (RFC 7523 section 3, item 2). A ``sub`` no client
    ID can be is refused before any look-up."""
    sub = claims.get("sub")
    if not plausible_client_id(sub):
        raise errors.UnknownClient("sub does not name a client")
    client = find_client(sub)
    if client is None:
        raise errors.UnknownClient("no client with this ID", client_id=sub)
    return client


def check_method(client: ClientInfo) -> None:
    """A client registered for another method may not use private_key_jwt (OIDC Core
    section 9). One with no registered method ("") may, with the keys it has."""
    if client.auth_method not in (PRIVATE_KEY_JWT, ""):
        raise errors.MethodNotRegistered(
            f"client is registered for {client.auth_method}", client_id=client.client_id
        )


def check_algorithm(header: dict, client: ClientInfo, policy: Policy) -> str:
    """The ``alg`` is one the server allows and the client's pinned one (RFC 7523 s. 3)."""
    alg = header.get("alg")
    if not isinstance(alg, str) or alg in FORBIDDEN_ALGORITHMS or alg.lower() == "none":
        raise errors.AlgorithmNotAllowed(
            f"alg {alg!r} is never accepted", client_id=client.client_id
        )
    if alg not in policy.allowed_algorithms or alg not in jws.VERIFIERS:
        raise errors.AlgorithmNotAllowed(f"alg {alg!r} is not allowed", client_id=client.client_id)
    if client.signing_alg and alg != client.signing_alg:
        raise errors.AlgorithmNotAllowed(
            f"client is registered for {client.signing_alg}, not {alg}", client_id=client.client_id
        )
    return alg


def select_keys(keys: Sequence[JwkKey], header: dict, alg: str, client: ClientInfo) -> list:
    """The keys of a client's JWK Set to try (RFC 7515 section 4.1.4, OIDC Core section
    10.1.1): with a ``kid``, only the key it names, which must be for signatures and,
    if it names an algorithm, for this one (RFC 7517 sections 4.2 to 4.4); without,
    every such key whose type fits ``alg``, at most ``MAX_KEYS_WITHOUT_KID``."""
    if "kid" in header:
        kid = header["kid"]
        found = next((k for k in keys if isinstance(kid, str) and k.kid == kid), None)
        if found is None:
            raise errors.UnknownKid(
                f"no key of the client has kid {str(kid)[:64]!r}", client_id=client.client_id
            )
        refused = found.usable_for(alg)
        if refused:
            raise errors.KeyNotUsable(refused, client_id=client.client_id)
        return [found.key]
    usable = [k.key for k in keys if k.usable_for(alg) is None and jws.key_fits(alg, k.key)]
    if len(usable) > MAX_KEYS_WITHOUT_KID:
        raise errors.KidRequired(
            f"{len(usable)} keys of the client fit {alg}: the assertion must name one by kid",
            client_id=client.client_id,
        )
    return usable


def check_signature(
    parsed: jws.ParsedAssertion, alg: str, keys: Sequence[Any], client: ClientInfo
) -> None:
    """Verify against the client's registered keys only (RFC 7523 section 3, item 9)."""
    if not keys:
        raise errors.NoClientKey("client has no valid key", client_id=client.client_id)
    if isinstance(keys[0], JwkKey):
        keys = select_keys(keys, parsed.header, alg, client)
    fitting = [key for key in keys if jws.key_fits(alg, key)]
    if not fitting:
        raise errors.AlgorithmNotAllowed(
            f"alg {alg} does not fit the client's key type", client_id=client.client_id
        )
    verifier = jws.VERIFIERS[alg]
    for key in fitting:
        try:
            if verifier.verify(parsed.signing_input, key, parsed.signature):
                return
        except (ValueError, TypeError):
            continue
    raise errors.BadSignature("signature does not verify", client_id=client.client_id)


# --- after the signature: the failed check is named ----------------------------------


def check_required(claims: dict, client: ClientInfo) -> None:
    """iss, sub, aud, exp and jti are required (OIDC Core section 9)."""
    missing = [name for name in REQUIRED_CLAIMS if name not in claims]
    if missing:
        raise errors.MissingClaim(
            f"missing required claim(s): {', '.join(missing)}", client_id=client.client_id
        )


def check_issuer(claims: dict, client: ClientInfo, client_id: str | None) -> None:
    """iss and sub are the client ID (RFC 7523 section 3, items 1 and 2)."""
    if claims["iss"] != client.client_id:
        raise errors.IssuerMismatch("iss is not the client ID", client_id=client.client_id)
    if client_id is not None and client_id != client.client_id:
        raise errors.ClientIdMismatch(
            "client_id parameter does not match the assertion's sub", client_id=client.client_id
        )


def check_audience(claims: dict, policy: Policy, client: ClientInfo) -> None:
    """aud names this server (RFC 7523 section 3, item 3); exact string comparison."""
    aud = claims["aud"]
    accepted = policy.audiences
    if isinstance(aud, str):
        if aud in accepted:
            return
    elif isinstance(aud, list) and not policy.strict_audience:
        if aud and all(isinstance(a, str) for a in aud) and any(a in accepted for a in aud):
            return
    elif isinstance(aud, list):
        raise errors.AudienceMismatch(
            "aud must be a single string (STRICT_AUDIENCE)", client_id=client.client_id
        )
    raise errors.AudienceMismatch(
        f"aud must be {' or '.join(accepted)}", client_id=client.client_id
    )


def _numeric_date(claims: dict, name: str, client: ClientInfo) -> float:
    value = claims[name]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise errors.InvalidClaim(f"{name} is not a NumericDate", client_id=client.client_id)
    try:
        finite = math.isfinite(value)
    except OverflowError:  # an integer beyond any float: no date at all
        finite = False
    if not finite:
        raise errors.InvalidClaim(f"{name} is not a NumericDate", client_id=client.client_id)
    return value


def check_expiry(claims: dict, policy: Policy, now: float, client: ClientInfo) -> float:
    """exp not past, with leeway, and not too far ahead (RFC 7523 section 3, item 4)."""
    exp = _numeric_date(claims, "exp", client)
    if exp + policy.leeway_seconds < now:
        raise errors.Expired("assertion has expired (exp)", client_id=client.client_id)
    start = _numeric_date(claims, "iat", client) if "iat" in claims else now
    if exp - start > policy.max_assertion_lifetime_seconds:
        raise errors.LifetimeTooLong(
            f"exp is more than {policy.max_assertion_lifetime_seconds} s after "
            f"{'iat' if 'iat' in claims else 'now'}",
            client_id=client.client_id,
        )
    return exp


def check_not_before(claims: dict, policy: Policy, now: float, client: ClientInfo) -> None:
    """nbf, when present, is not in the future, with leeway (RFC 7523 section 3, item 5)."""
    if "nbf" in claims and _numeric_date(claims, "nbf", client) - policy.leeway_seconds > now:
        raise errors.NotYetValid("assertion is not valid yet (nbf)", client_id=client.client_id)


def check_issued_at(claims: dict, policy: Policy, now: float, client: ClientInfo) -> None:
    """iat, when present, is neither future nor too old (RFC 7523 s. 3, item 6; WSO2's
    RejectBeforeInMinutes)."""
    if "iat" not in claims:
        return
    iat = _numeric_date(claims, "iat", client)
    if iat - policy.leeway_seconds > now:
        raise errors.IssuedInFuture("iat is in the future", client_id=client.client_id)
    if now - iat > policy.reject_before_seconds + policy.leeway_seconds:
        raise errors.IssuedTooLongAgo(
            f"iat is older than {policy.reject_before_seconds // 60} minutes",
            client_id=client.client_id,
        )


def check_type(header: dict, client: ClientInfo) -> None:
    """An explicit typ is JWT or client-authentication+jwt (RFC 7519 s. 5.1, rfc7523bis)."""
    if "typ" not in header:
        return
    typ = header["typ"]
    normalized = typ.lower().removeprefix("application/") if isinstance(typ, str) else None
    if normalized not in ALLOWED_TYPES:
        raise errors.TypeNotAllowed(f"typ {typ!r} is not accepted", client_id=client.client_id)


# Control characters (below U+0020) and lone surrogates, which no column can store.
_JTI_FORBIDDEN = re.compile("[\x00-\x1f\ud800-\udfff]")


def check_jti(claims: dict, client: ClientInfo) -> str:
    """jti is a non-empty string the JTI table can hold (RFC 7523 section 3, item 7)."""
    jti = claims["jti"]
    if not isinstance(jti, str) or not jti:
        raise errors.InvalidJti("jti must be a non-empty string", client_id=client.client_id)
    if len(jti) > MAX_JTI_LENGTH:
        raise errors.InvalidJti(
            f"jti is longer than {MAX_JTI_LENGTH} characters", client_id=client.client_id
        )
    if _JTI_FORBIDDEN.search(jti):
        raise errors.InvalidJti("jti contains control characters", client_id=client.client_id)
    return jti
