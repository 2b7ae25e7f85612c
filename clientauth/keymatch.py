"""Whether a private key can authenticate a registered client: ``client_assertion``'s
check before it mints, so a key that the token endpoint would refuse is refused here
with the reason instead of an assertion that fails as "Client authentication failed."

It compares the key's RFC 7638 thumbprint with the client's current keys
(``clientauth.keysources.current_keys``: its keystore certificate, inline JWK Set, or
``jwks_uri`` keys, fetched once when none are cached), and checks the registered
method and pinned algorithm. It does not judge the claims of an assertion.
"""

from __future__ import annotations

from dataclasses import dataclass

from oauth2_provider.models import get_application_model

from clientauth import clients, jwk, keysources
from clientauth.constants import PRIVATE_KEY_JWT


class KeyMismatch(ValueError):
    """The key cannot authenticate the client; ``str()`` is one line saying why."""


@dataclass(frozen=True)
class Match:
    kid: str | None  # the matching JWK's kid, to put in the assertion's header


def match(client_id: str, public_key, alg: str) -> Match:
    """The registered key ``public_key`` is, for a client that may sign with ``alg``;
    ``KeyMismatch`` otherwise."""
    application = get_application_model().objects.filter(client_id=client_id).first()
    if application is None:
        raise KeyMismatch(f"no registered client has the ID {client_id!r}")
    method = clients.auth_method_of(application)
    if method and method != PRIVATE_KEY_JWT:  # none registered: DOT's rules, keys allowed
        raise KeyMismatch(
            f"client {client_id!r} authenticates with {method}, not {PRIVATE_KEY_JWT}"
        )
    pinned = clients.signing_alg_of(application)
    if pinned and pinned != alg:
        raise KeyMismatch(f"client {client_id!r} signs with {pinned} only, not {alg} (use --alg)")
    report = keysources.current_keys(application)
    if report.source == keysources.JWKS_URI and not report.keys:
        report = keysources.fetch_now(application)
    mine = jwk.thumbprint(jwk.public_members(public_key))
    for key in report.keys:
        if key.thumbprint == mine:
            return Match(kid=key.kid)
    if not report.keys:
        where = {
            keysources.CERTIFICATE: "no valid certificate under its client ID",
            keysources.JWKS: "an empty JWK Set",
            keysources.JWKS_URI: f"no keys fetched from {report.jwks_uri}",
        }[report.source]
        detail = f" ({report.last_error})" if report.last_error else ""
        raise KeyMismatch(f"client {client_id!r} has {where}{detail}")
    theirs = ", ".join(key.thumbprint for key in report.keys)
    raise KeyMismatch(
        f"the key is not one of client {client_id!r}'s keys ({report.source}): "
        f"key thumbprint {mine}, registered {theirs}"
    )
