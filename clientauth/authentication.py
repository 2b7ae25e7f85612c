"""Authenticating a client by the one method its request uses (RFC 6749 section 2.3,
RFC 7523 section 3, OIDC Core section 9).

``authenticate`` takes the request's ``Credentials`` (``clientauth.request``) and
returns the authenticated client or raises a ``ClientAuthError``: an assertion goes
through the pure verifier (``clientauth.assertion``) with the database lookups of
``clientauth.lookup``, a secret through ``clientauth.client_secret``. ``consume``
records a verified assertion's ``jti``, the last check, run only after every other
has passed. The OAuth2 validator (``clientauth.validator``) and the direct token path
(``clientauth.fastpath``) both authenticate with these, so the rules live once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from clientauth import client_secret, conf, errors, lookup
from clientauth.assertion import VerifiedAssertion, verify_client_assertion
from clientauth.constants import PRIVATE_KEY_JWT
from clientauth.jti import record_jti
from clientauth.request import Credentials


@dataclass(frozen=True, slots=True)
class AuthenticatedClient:
    client: Any  # the application (DOT's application model)
    method: str
    assertion: VerifiedAssertion | None = None


def authenticate(
    creds: Credentials, *, policy: conf.Policy, now: float, db=None, fetch: bool = True
) -> AuthenticatedClient:
    """The client ``creds`` authenticate, or a ``ClientAuthError``. Records nothing.
    ``db``: the connection's wrapper, when the caller holds it. ``fetch=False``: a
    client's ``jwks_uri`` is never fetched (``JwksFetchDeferred`` instead)."""
    if creds.method == PRIVATE_KEY_JWT:
        lookups = lookup.Lookup(now, policy, db, fetch=fetch)
        verified = verify_client_assertion(
            creds.assertion,
            find_client=lookups.find_client,
            find_keys=lookups.find_keys,
            policy=policy,
            now=now,
            client_id=creds.client_id,
        )
        return AuthenticatedClient(verified.client.instance, PRIVATE_KEY_JWT, verified)
    if creds.method is None:
        raise errors.NoCredentials("no client authentication in the request")
    client = lookup.find_client(creds.client_id or "")
    client_secret.check_secret(
        client, creds.method, creds.secret or "", claimed_id=creds.client_id or ""
    )
    return AuthenticatedClient(client.instance, creds.method)


def consume(authenticated: AuthenticatedClient, *, policy: conf.Policy, now: float) -> None:
    """Record the verified assertion's ``jti`` (``ReplayedJti`` when it is used already);
    nothing for a secret."""
    verified = authenticated.assertion
    if verified is not None:
        record_jti(verified.client.client_id, verified.jti, verified.exp, now=now, policy=policy)
