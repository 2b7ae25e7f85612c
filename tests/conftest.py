"""Session-wide fixtures: generated key pairs (the client's and an attacker's)."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from tests import keys


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
