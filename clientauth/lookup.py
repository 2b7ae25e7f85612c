"""The database side of client authentication: clients by ID, and their keys.

The verifier (``clientauth.assertion``) takes these as callables so it stays pure.
Keys come from the keystore through its one public function, so an import, replace or
delete in any process is seen by the next request here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from clientauth.assertion import ClientInfo, KeyLookup
from clientauth.conf import Policy
from clientauth.models import ServiceProvider
from keystore.services import set_key_cache_capacity, verification_keys


def find_client(client_id: str) -> ClientInfo | None:
    if not client_id or len(client_id) > 255 or "\x00" in client_id:
        return None
    try:
        sp = ServiceProvider.objects.get(client_id=client_id)
    except ServiceProvider.DoesNotExist:
        return None
    return ClientInfo(
        client_id=sp.client_id,
        auth_method=sp.token_endpoint_auth_method,
        signing_alg=sp.token_endpoint_auth_signing_alg,
        instance=sp,
    )


_capacity_in_force: int | None = None


def keys_at(now: float, policy: Policy) -> KeyLookup:
    """The key lookup for this request, with the keystore's parsed-key cache sized as
    CACHE_CAPACITY says (0, no cache, when CACHE_ENABLED is off)."""
    global _capacity_in_force
    capacity = policy.cache_capacity if policy.cache_enabled else 0
    if capacity != _capacity_in_force:
        set_key_cache_capacity(capacity)
        _capacity_in_force = capacity
    moment = dt.datetime.fromtimestamp(now, tz=dt.UTC)

    def find_keys(client: ClientInfo) -> Sequence[Any]:
        return verification_keys(client.client_id, moment)

    return find_keys
