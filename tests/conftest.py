"""Session-wide fixtures: generated key pairs (the client's and an attacker's), and a
test client that reaches the token endpoint the way ``authserver.wsgi`` serves it."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from django.core.handlers.wsgi import WSGIRequest
from django.http import HttpResponse
from django.test import Client
from django.test.client import ClientHandler

from clientauth import fastpath
from clientauth.endpoints import is_token_path
from tests import keys


class WsgiClientHandler(ClientHandler):
    """Django's test handler behind the same direct token path as the WSGI entry point:
    a token request the direct path declines reaches Django as it would in production."""

    def __call__(self, environ):
        if environ.get("REQUEST_METHOD") == "POST" and is_token_path(environ.get("PATH_INFO", "")):
            answer = fastpath.serve(environ)
            if answer is not None:
                response = HttpResponse(answer.body, status=int(answer.status.split()[0]))
                for name, value in answer.headers:
                    response[name] = value
                response.wsgi_request = WSGIRequest(environ)
                response.served_directly = True
                return response
        return super().__call__(environ)


class WsgiClient(Client):
    def __init__(self, enforce_csrf_checks=False, **defaults):
        super().__init__(enforce_csrf_checks, **defaults)
        self.handler = WsgiClientHandler(enforce_csrf_checks)


@pytest.fixture
def fast_path_on(settings):
    """The direct token path on, whatever the run's TEST_FAST_PATH says: for the tests
    of the direct path itself."""
    settings.PRIVATE_KEY_JWT = {**settings.PRIVATE_KEY_JWT, "FAST_PATH": True}


@pytest.fixture
def client() -> Client:
    """pytest-django's ``client``, with token requests served as in production."""
    return WsgiClient()


@pytest.fixture(scope="session")
def rsa_key() -> keys.KeyPair:
    return keys.rsa_pair()


@pytest.fixture(scope="session")
def ps_key() -> keys.KeyPair:
    return keys.rsa_pair(alg="PS256", name="ps-client")


@pytest.fixture(scope="session")
def ec_key() -> keys.KeyPair:
    return keys.ec_pair()


@pytest.fixture(scope="session")
def ec384_key() -> keys.KeyPair:
    return keys.ec_pair(ec.SECP384R1, "ES384", "ec384-client")


@pytest.fixture(scope="session")
def ed_key() -> keys.KeyPair:
    return keys.ed25519_pair()


@pytest.fixture(scope="session")
def attacker_key() -> keys.KeyPair:
    return keys.rsa_pair(name="attacker")
