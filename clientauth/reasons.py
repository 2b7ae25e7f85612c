"""What each refusal reason means, in plain words, for staff.

A ``clientauth.errors`` class carries a stable machine-readable ``reason``; the log,
``AuthFailure`` and the console's checker keep that code. ``TEXT`` says what it means
and, where it helps, what the client or the operator does about it: the console shows
it beside the code (the Failures page, the assertion checker). Never sent to a client:
what a client sees follows ``CONTRACT.md``. Every reason of ``clientauth.errors`` has
an entry (``tests/clientauth/test_reasons.py``).
"""

from __future__ import annotations

from clientauth import errors as e

TEXT: dict[str, str] = {
    e.ClientAuthError.reason: "Client authentication failed.",
    e.InvalidRequest.reason: "The request is malformed.",
    e.DuplicateParameter.reason: "A parameter was sent more than once.",
    e.MultipleAuthMethods.reason: "The request used more than one client "
    "authentication method at once.",
    e.BadAssertionType.reason: "client_assertion_type is not "
    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer.",
    e.UnsupportedRequest.reason: "The request body is not a form of acceptable size.",
    e.NoCredentials.reason: "The request carried no client credentials.",
    e.AssertionTooLarge.reason: "The assertion is longer than MAX_ASSERTION_BYTES.",
    e.MalformedAssertion.reason: "The assertion is not a well-formed signed JWT.",
    e.UnknownClient.reason: "No registered client has the client ID given (the "
    "assertion's sub, or the client_id).",
    e.MethodNotRegistered.reason: "The client is registered for another authentication method.",
    e.AlgorithmNotAllowed.reason: "The signing algorithm is not allowed, not the "
    "client's pinned one, or does not fit its key.",
    e.NoClientKey.reason: "The client has no key to verify with: no valid certificate "
    "under its client ID, or an empty JWK Set.",
    e.BadSignature.reason: "The signature does not verify with any of the client's "
    "registered keys.",
    e.UnknownKid.reason: "Unknown key ID: no key of the client's JWK Set has the "
    "assertion's kid, even after fetching its jwks_uri again where allowed.",
    e.KeyNotUsable.reason: "The key the kid names is not for signatures (its use or "
    "key_ops) or is for another algorithm (its alg).",
    e.KidRequired.reason: "The assertion names no kid and more keys of the client's JWK "
    "Set fit its algorithm than are tried: the client must put a kid in the header.",
    e.JwksFetchFailed.reason: "The client's jwks_uri gave no usable keys: the fetch "
    "failed or was refused, and no earlier keys are within JWKS_URI_MAX_STALE_SECONDS.",
    e.JwksFetchDeferred.reason: "The keys had to be fetched first; the full token path answered.",
    e.BadSecret.reason: "The client secret is wrong.",
    e.ClaimError.reason: "The assertion's claims are not acceptable.",
    e.MissingClaim.reason: "A required claim (iss, sub, aud, exp, jti) is missing.",
    e.InvalidClaim.reason: "A claim has a value of the wrong form.",
    e.IssuerMismatch.reason: "iss or sub is not the client ID.",
    e.ClientIdMismatch.reason: "The client_id parameter differs from the assertion's iss and sub.",
    e.AudienceMismatch.reason: "aud names neither this server's issuer nor its token endpoint.",
    e.Expired.reason: "The assertion has expired (exp).",
    e.LifetimeTooLong.reason: "exp is further ahead than MAX_ASSERTION_LIFETIME_SECONDS.",
    e.NotYetValid.reason: "The assertion is not valid yet (nbf).",
    e.IssuedInFuture.reason: "iat is in the future: the client's clock may be ahead.",
    e.IssuedTooLongAgo.reason: "iat is older than REJECT_BEFORE_IN_MINUTES.",
    e.TypeNotAllowed.reason: "The typ header is neither JWT nor client-authentication+jwt.",
    e.InvalidJti.reason: "jti is not a usable identifier.",
    e.ReplayedJti.reason: "This jti was used already by an unexpired assertion "
    "(a replay, or a client reusing assertions).",
    e.ServiceUnavailable.reason: "The database could not decide; the client may retry.",
}


def describe(reason: str) -> str:
    """The plain words for ``reason``; "" for a code this release does not know (a row
    recorded by another version)."""
    return TEXT.get(reason, "")
