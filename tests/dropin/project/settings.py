"""The stock project with ``clientauth`` and ``keystore`` dropped in, set as the README says.

Two ``OAUTH2_PROVIDER`` keys switch DOT to our validator and backend, one more to the
keyed client-secret hash (secrets the stock project stored
with its password hasher are stored again as they are used); the issuer is the
live server's address (``DROPIN_ISSUER``). DOT's token URL here is ``/o/token/``; the
accepted audience follows it from the URLconf (``clientauth.endpoints``), with no
``TOKEN_ENDPOINT_ALIAS``: Authlib's ``PrivateKeyJWT`` puts the token URL in ``aud``.
"""

import os

from tests.dropin.project.settings_plain import *  # noqa: F403
from tests.dropin.project.settings_plain import INSTALLED_APPS, OAUTH2_PROVIDER, PASSWORD_HASHERS

INSTALLED_APPS = [*INSTALLED_APPS, "clientauth", "keystore"]

AUTHSERVER_ISSUER = os.environ.get("DROPIN_ISSUER", "http://127.0.0.1:8000")

OAUTH2_PROVIDER = {
    **OAUTH2_PROVIDER,
    "OAUTH2_VALIDATOR_CLASS": "clientauth.validator.ClientAuthValidator",
    "OAUTH2_BACKEND_CLASS": "clientauth.backends.ClientAuthOAuthLibCore",
    "CLIENT_SECRET_HASHER": "clientauth_hmac_sha256",
}

PASSWORD_HASHERS = [*PASSWORD_HASHERS, "clientauth.hashers.ClientSecretHasher"]
