"""Explaining an assertion check by check, for the console's assertion checker.

Runs the same verifier as the token endpoint (``clientauth.assertion``) with the same
lookups and policy, and reports each of ``CHECKS`` as passed, failed (with its reason)
or not run. The replay check only reads the JTI table: explaining an assertion never
records its ``jti``, so a checked assertion can still be used. Unlike the token
endpoint, it names the failed check even before the signature is verified: the
console is for staff.

A client's keys come from the token endpoint's own lookup (``clientauth.lookup``), so
a JWK Set client's assertion is judged with its JWK Set (``kid`` selection included),
never its certificate. For a ``jwks_uri`` that means the token endpoint's cache rules,
fetching only when the token endpoint would for the same assertion (keys not fresh, or
an unknown ``kid`` once per ``JWKS_URI_REFETCH_INTERVAL_SECONDS``), with the same
guards; what it fetches is what the token endpoint then uses. A verdict thus never
differs from the token endpoint's for want of a fetch; a fetch regardless of the cache
is the detail page's "Fetch now".

``decode_assertion`` shows what the assertion says, unverified: its JOSE header and
claims, and its time claims as instants, beside the steps. Never the signature.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from clientauth import conf, errors, jws, lookup
from clientauth import jti as jti_store
from clientauth.assertion import CHECKS, verify_client_assertion

REPLAY_CHECK = ("replay", "jti not used by an unexpired assertion (preventTokenReuse)")


TIME_CLAIMS = ("iat", "nbf", "exp")  # RFC 7519 section 4.1, NumericDate values


@dataclass(frozen=True, slots=True)
class DecodedAssertion:
    header: dict
    claims: dict
    times: tuple[tuple[str, float], ...]  # each numeric time claim present, in order


def decode_assertion(assertion: str) -> DecodedAssertion | None:
    """The header and claims of ``assertion``, unverified; None when it cannot be
    decoded (or is longer than ``MAX_ASSERTION_BYTES``), which the steps then explain."""
    if len(assertion) > conf.policy().max_assertion_bytes:
        return None
    try:
        parsed = jws.parse(assertion)
    except errors.ClientAuthError:
        return None
    times = tuple(
        (name, float(parsed.claims[name]))
        for name in TIME_CLAIMS
        if isinstance(parsed.claims.get(name), int | float)
        and not isinstance(parsed.claims.get(name), bool)
        and abs(parsed.claims[name]) < 253402300800  # before the year 10000
    )
    return DecodedAssertion(parsed.header, parsed.claims, times)


@dataclass(frozen=True, slots=True)
class CheckStep:
    name: str
    title: str
    status: str  # "pass", "fail" or "not_run"
    reason: str = ""
    detail: str = ""


def _replay_step(client_id: str, jti: str, *, now: float, policy: conf.Policy) -> CheckStep:
    name, title = REPLAY_CHECK
    if jti_store.is_used(client_id, jti, now=now, leeway=policy.leeway_seconds):
        if policy.prevent_token_reuse:
            return CheckStep(name, title, "fail", errors.ReplayedJti.reason, "jti has been used")
        return CheckStep(name, title, "pass", detail="jti was used; reuse is allowed")
    return CheckStep(name, title, "pass")


def explain_assertion(
    assertion: str, *, client_id: str | None = None, now: float | None = None
) -> list[CheckStep]:
    now = time.time() if now is None else now
    policy = conf.policy()
    passed: list[str] = []
    steps: list[CheckStep] = []
    failure: errors.ClientAuthError | None = None
    verified = None
    lookups = lookup.Lookup(now, policy)
    try:
        verified = verify_client_assertion(
            assertion,
            find_client=lookups.find_client,
            find_keys=lookups.find_keys,
            policy=policy,
            now=now,
            client_id=client_id or None,
            on_pass=passed.append,
        )
    except errors.ClientAuthError as exc:
        failure = exc
    for name, title in CHECKS:
        if name in passed:
            steps.append(CheckStep(name, title, "pass"))
        elif failure is not None:
            steps.append(CheckStep(name, title, "fail", failure.reason, failure.detail))
            failure = None
        else:
            steps.append(CheckStep(name, title, "not_run"))
    if verified is not None:
        steps.append(_replay_step(verified.client.client_id, verified.jti, now=now, policy=policy))
    else:
        steps.append(CheckStep(*REPLAY_CHECK, "not_run"))
    return steps
