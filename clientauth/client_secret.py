"""Client secret authentication (RFC 6749 section 2.3.1) for clients registered for it.

A client registered for ``private_key_jwt`` cannot use its secret, and a client
registered for one secret method cannot use the other (OIDC Core section 9: the
registered ``token_endpoint_auth_method`` is the method). Secrets are stored with the
keyed hash of ``clientauth.hashers``, with another Django hasher (stored before it
existed, or by a project that did not configure it), or plain for clients created so.

Every refusal costs what a check against a stored secret costs, and no more: an
unknown client ID, a client registered for another method and a wrong secret all run
one keyed hash, so neither the response time nor the server's CPU tells which client
IDs exist, and no caller can make the server run a slow password hash. A secret
stored with a slow hasher is checked with it (the one slow case) and, once it
matches, stored again with the keyed hash when that is DOT's ``CLIENT_SECRET_HASHER``.
Called by ``clientauth.authentication``.
"""

from __future__ import annotations

import logging

from django.contrib.auth.hashers import identify_hasher
from django.utils.crypto import constant_time_compare
from oauth2_provider.settings import oauth2_settings

from clientauth import errors
from clientauth.assertion import ClientInfo
from clientauth.hashers import ALGORITHM, ClientSecretHasher

log = logging.getLogger("clientauth")

_HASHER = ClientSecretHasher()
_PREFIX = ALGORITHM + "$"
# What a refusal without a stored secret to check against compares with: a keyed hash
# no secret has (its salt is not one the hasher makes), checked like a real one.
_NO_SECRET = f"{_PREFIX}no-client${'0' * 64}"


def _check_keyed(provided: str, stored: str) -> tuple[bool, bool]:
    """(matches, store again): stored again when it matched under a fallback key."""
    index = _HASHER.matching_key(provided, stored)
    return index is not None, bool(index)


def _check(provided: str, stored: str) -> tuple[bool, bool]:
    if stored.startswith(_PREFIX):
        return _check_keyed(provided, stored)
    try:
        hasher = identify_hasher(stored)
    except ValueError:
        # Stored plain (``hash_client_secret`` off).
        _check_keyed(provided, _NO_SECRET)
        return bool(stored) and constant_time_compare(provided, stored), False
    matches = hasher.verify(provided, stored)
    return matches, matches


def _store_again(application, provided: str, stored: str) -> None:
    """Store the secret with the keyed hash, if DOT hashes new secrets with it; only
    if it is still ``stored`` (a concurrent change of the secret wins)."""
    if oauth2_settings.CLIENT_SECRET_HASHER != ALGORITHM:
        return
    encoded = _HASHER.encode(provided, _HASHER.salt())
    updated = (
        type(application)
        .objects.filter(pk=application.pk, client_secret=stored)
        .update(client_secret=encoded)
    )
    if updated:
        application.client_secret = encoded
        log.info(
            "client secret stored again with %s client_id=%r", ALGORITHM, application.client_id
        )


def check_secret(
    client: ClientInfo | None, method: str, secret: str, *, claimed_id: str = ""
) -> None:
    """Accept ``secret`` for ``client`` (None: no client has the ``claimed_id``, which
    the failure record keeps for an integrator's typo) or raise a ``ClientAuthError``."""
    if client is None:
        _check_keyed(secret, _NO_SECRET)
        raise errors.UnknownClient("no client with this ID", client_id=claimed_id or None)
    if client.auth_method and client.auth_method != method:
        _check_keyed(secret, _NO_SECRET)
        raise errors.MethodNotRegistered(
            f"client is registered for {client.auth_method}, not {method}",
            client_id=client.client_id,
        )
    stored = client.instance.client_secret
    matches, store_again = _check(secret, stored)
    if not matches:
        raise errors.BadSecret("client secret does not match", client_id=client.client_id)
    if store_again:
        _store_again(client.instance, secret, stored)
