"""DOT's OAuth2 validator, taught that the gate has already authenticated the client.

``clientauth.gate`` authenticates every client (private_key_jwt or a secret) before
oauthlib runs and leaves the result in the WSGI environ, which DOT hands to oauthlib
as request headers. This validator only reads it: no credentials are checked twice,
and there is no fallback to a secret after a failed assertion. All clients are
confidential, so authentication is always required. Never raises.
"""

from __future__ import annotations

from django.db import transaction
from oauth2_provider.oauth2_validators import OAuth2Validator

from clientauth.constants import VERIFIED_CLIENT_ENVIRON_KEY


class ClientAuthValidator(OAuth2Validator):
    def client_authentication_required(self, request, *args, **kwargs) -> bool:
        return True

    def authenticate_client(self, request, *args, **kwargs) -> bool:
        authenticated = (request.headers or {}).get(VERIFIED_CLIENT_ENVIRON_KEY)
        if authenticated is None:
            return False
        request.client = authenticated.client
        request.client_id = authenticated.client.client_id
        return True

    def authenticate_client_id(self, client_id, request, *args, **kwargs) -> bool:
        return False

    def save_bearer_token(self, token, request, *args, **kwargs):
        # The gate already holds the transaction that records the jti; DOT's own
        # atomic block would only add a savepoint round trip inside it.
        if transaction.get_connection().in_atomic_block:
            return self._save_bearer_token(token, request, *args, **kwargs)
        return super().save_bearer_token(token, request, *args, **kwargs)
