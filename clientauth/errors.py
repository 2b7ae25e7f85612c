"""Why client authentication failed, as data.

Each class carries its RFC 6749 section 5.2 error code, its HTTP status, a stable
machine-readable ``reason`` (logged, recorded, shown in the console) and whether the
signature had been verified when it was raised. Until it has, the client is told only
that authentication failed (CONTRACT.md): ``public_description`` enforces that, so no
caller has to remember it. Raised by ``clientauth.assertion``, ``clientauth.request``
and ``clientauth.jti``; turned into OAuth errors by ``clientauth.validator``.
"""

from __future__ import annotations

GENERIC_DESCRIPTION = "Client authentication failed."


class ClientAuthError(Exception):
    error = "invalid_client"
    status = 401
    reason = "client_auth_failed"
    # True once the assertion's signature has been verified: only then may the client
    # learn which check failed.
    verified = False

    def __init__(self, detail: str = "", *, client_id: str | None = None) -> None:
        super().__init__(detail or self.reason)
        self.detail = detail or self.reason.replace("_", " ")
        self.client_id = client_id

    @property
    def public_description(self) -> str:
        return self.detail if self.verified else GENERIC_DESCRIPTION


# --- the request's shape: 400 invalid_request, the description is always safe -------


class InvalidRequest(ClientAuthError):
    error = "invalid_request"
    status = 400
    reason = "invalid_request"
    verified = True  # says nothing about any client


class DuplicateParameter(InvalidRequest):
    reason = "duplicate_parameter"


class MultipleAuthMethods(InvalidRequest):
    reason = "multiple_auth_methods"


class BadAssertionType(InvalidRequest):
    reason = "bad_client_assertion_type"


class UnsupportedRequest(InvalidRequest):
    reason = "unsupported_request"


# --- before the signature is verified: 401, generic description -----------------------


class NoCredentials(ClientAuthError):
    reason = "no_client_authentication"


class AssertionTooLarge(ClientAuthError):
    reason = "assertion_too_large"


class MalformedAssertion(ClientAuthError):
    reason = "malformed_assertion"


class UnknownClient(ClientAuthError):
    reason = "unknown_client"


class MethodNotRegistered(ClientAuthError):
    reason = "auth_method_not_registered"


class AlgorithmNotAllowed(ClientAuthError):
    reason = "algorithm_not_allowed"


class NoClientKey(ClientAuthError):
    reason = "no_client_key"


class BadSignature(ClientAuthError):
    reason = "bad_signature"


class UnknownKid(ClientAuthError):
    """The header's ``kid`` names no key of the client's JWK Set (after a refetch, where
    the interval allowed one)."""

    reason = "unknown_kid"


class KeyNotUsable(ClientAuthError):
    """The key ``kid`` names is not for signatures (``use``, ``key_ops``) or is for
    another algorithm (its ``alg``)."""

    reason = "key_not_usable"


class KidRequired(ClientAuthError):
    """No ``kid``, and more keys of the client's JWK Set fit the algorithm than are tried."""

    reason = "kid_required"


class JwksFetchFailed(ClientAuthError):
    """The client's ``jwks_uri`` gave no usable keys: the fetch failed (or was refused)
    and no keys fetched earlier are within ``JWKS_URI_MAX_STALE_SECONDS``."""

    reason = "jwks_fetch_failed"


class JwksFetchDeferred(ClientAuthError):
    """Keys would have to be fetched, and the caller (the direct token path) does not
    fetch: the full path answers. Never sent to a client."""

    reason = "jwks_fetch_deferred"


class BadSecret(ClientAuthError):
    reason = "bad_client_secret"


# --- after the signature is verified: 401, the failed check is named ------------------


class ClaimError(ClientAuthError):
    verified = True
    reason = "invalid_claims"


class MissingClaim(ClaimError):
    reason = "missing_claim"


class InvalidClaim(ClaimError):
    reason = "invalid_claim"


class IssuerMismatch(ClaimError):
    reason = "issuer_mismatch"


class ClientIdMismatch(ClaimError):
    reason = "client_id_mismatch"


class AudienceMismatch(ClaimError):
    reason = "audience_mismatch"


class Expired(ClaimError):
    reason = "expired"


class LifetimeTooLong(ClaimError):
    reason = "lifetime_too_long"


class NotYetValid(ClaimError):
    reason = "not_yet_valid"


class IssuedInFuture(ClaimError):
    reason = "issued_in_future"


class IssuedTooLongAgo(ClaimError):
    reason = "issued_too_long_ago"


class TypeNotAllowed(ClaimError):
    reason = "typ_not_allowed"


class InvalidJti(ClaimError):
    reason = "invalid_jti"


class ReplayedJti(ClaimError):
    reason = "replayed_jti"


class ServiceUnavailable(Exception):
    """The database could not decide (it is down): the request may be retried."""

    error = "temporarily_unavailable"
    status = 503
    reason = "service_unavailable"
