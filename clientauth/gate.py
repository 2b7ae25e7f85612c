"""The client-authentication gate in front of the token, introspection and revocation
endpoints (RFC 6749 sections 2.3 and 5.2, RFC 7523 section 3, OIDC Core section 9).

For every POST it reads the credentials (``clientauth.request``), authenticates the
client by the one method the request uses (``clientauth.assertion`` or
``clientauth.secrets``), and only then lets DOT handle the grant, in one transaction
with the ``jti`` record: a token is never issued without its ``jti`` row, and a request
that fails leaves none. The verified client reaches DOT's validator through the WSGI
environ (``VERIFIED_CLIENT_ENVIRON_KEY``), which no HTTP header can set. Every refusal
becomes the contract's JSON error here; a database that cannot answer becomes 503.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

from django.db import DatabaseError, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse

from clientauth import conf, errors, failures, lookup, secrets
from clientauth.assertion import VerifiedAssertion, verify_client_assertion
from clientauth.constants import PRIVATE_KEY_JWT, VERIFIED_CLIENT_ENVIRON_KEY
from clientauth.jti import record_jti
from clientauth.request import Credentials, read_credentials

log = logging.getLogger("clientauth")


@dataclass(frozen=True, slots=True)
class AuthenticatedClient:
    client: Any  # the ServiceProvider
    method: str
    assertion: VerifiedAssertion | None = None


def authenticate(
    creds: Credentials, *, policy: conf.Policy, now: float, db=None
) -> AuthenticatedClient:
    """The client ``creds`` authenticate, or a ``ClientAuthError``. ``db``: the
    connection's wrapper, when the caller holds it."""
    if creds.method == PRIVATE_KEY_JWT:
        lookups = lookup.Lookup(now, policy, db)
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
    secrets.check_secret(client, creds.method, creds.secret or "")
    return AuthenticatedClient(client.instance, creds.method)


def error_response(error: str, description: str, status: int) -> JsonResponse:
    response = JsonResponse({"error": error, "error_description": description}, status=status)
    response["Cache-Control"] = "no-store"
    response["Pragma"] = "no-cache"
    return response


def unavailable() -> JsonResponse:
    log.error("database unavailable while authenticating a client")
    response = error_response(
        errors.ServiceUnavailable.error, "The server is temporarily unavailable.", 503
    )
    response["Retry-After"] = "1"
    return response


class ClientAuthGateMixin:
    """Mixed in before a DOT view; ``endpoint`` names it in logs and failure records."""

    endpoint = "token"
    # At introspection a bearer token with the introspection scope may stand in for
    # client authentication (DOT's ClientProtectedScopedResourceView).
    bearer_allowed = False
    http_method_names = ["post", "options"]

    def refuse(self, request: HttpRequest, exc: errors.ClientAuthError) -> HttpResponse:
        failures.record_failure(exc, endpoint=self.endpoint, meta=request.META)
        return error_response(exc.error, exc.public_description, exc.status)

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.method != "POST":
            return super().dispatch(request, *args, **kwargs)
        now = time.time()
        policy = conf.policy()
        try:
            creds = read_credentials(request)
            if creds.method is None and creds.bearer and self.bearer_allowed:
                authenticated = None
            else:
                authenticated = authenticate(creds, policy=policy, now=now)
        except errors.ClientAuthError as exc:
            return self.refuse(request, exc)
        except DatabaseError:
            return unavailable()

        request.META[VERIFIED_CLIENT_ENVIRON_KEY] = authenticated
        try:
            with transaction.atomic():
                if authenticated is not None and authenticated.assertion is not None:
                    verified = authenticated.assertion
                    record_jti(
                        verified.client.client_id,
                        verified.jti,
                        verified.exp,
                        now=now,
                        policy=policy,
                    )
                response = super().dispatch(request, *args, **kwargs)
                if response.status_code != 200:
                    transaction.set_rollback(True)
        except errors.ClientAuthError as exc:
            return self.refuse(request, exc)
        except DatabaseError:
            return unavailable()
        return response
