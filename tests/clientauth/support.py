"""Registering the clients the client-authentication tests use."""

from __future__ import annotations

from clientauth.registration import register_service_provider
from keystore.services import import_certificate


def register(auth_method="private_key_jwt", signing_alg="", cert=None):
    """A client_credentials service provider, with ``cert``'s certificate imported."""
    sp, secret = register_service_provider(
        name="Test client",
        callbacks=["https://client.example/cb"],
        grant_types=["client_credentials"],
        auth_method=auth_method,
        signing_alg=signing_alg,
    )
    if cert is not None:
        import_certificate(sp.client_id, cert.cert_pem)
    return sp, secret
