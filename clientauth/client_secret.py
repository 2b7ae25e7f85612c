"""Client secret authentication (RFC 6749 section 2.3.1) for clients registered for it.

A client registered for ``private_key_jwt`` cannot use its secret, and a client
registered for one secret method cannot use the other (OIDC Core section 9: the
registered ``token_endpoint_auth_method`` is the method). Secrets are compared as DOT
stores them: hashed with Django's hashers, or plain for clients created that way.
Called by ``clientauth.authentication``.
"""

from __future__ import annotations

from django.contrib.auth.hashers import check_password, identify_hasher, make_password
from django.utils.crypto import constant_time_compare

from clientauth import errors
from clientauth.assertion import ClientInfo


def _matches(provided: str, stored: str) -> bool:
    try:
        identify_hasher(stored)
    except ValueError:
        return bool(stored) and constant_time_compare(provided, stored)
    return check_password(provided, stored)


def check_secret(client: ClientInfo | None, method: str, secret: str) -> None:
    if client is None:
        # Spend the time a hash check takes, so response times do not tell which
        # client IDs exist.
        make_password(secret)
        raise errors.UnknownClient("no client with this ID")
    if client.auth_method and client.auth_method != method:
        raise errors.MethodNotRegistered(
            f"client is registered for {client.auth_method}, not {method}",
            client_id=client.client_id,
        )
    if not _matches(secret, client.instance.client_secret):
        raise errors.BadSecret("client secret does not match", client_id=client.client_id)
