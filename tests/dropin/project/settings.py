"""The stock project with ``clientauth`` and ``keystore`` dropped in.

Two ``OAUTH2_PROVIDER`` keys switch DOT to our validator and backend; the issuer is the
live server's address (``DROPIN_ISSUER``). DOT's token URL here is ``/o/token/``; the
accepted audience follows it from the URLconf (``clientauth.endpoints``), with no
``TOKEN_ENDPOINT_ALIAS``: Authlib's ``PrivateKeyJWT`` puts the token URL in ``aud``.
"""

import os

from tests.dropin.project.settings_plain import *  # noqa: F403
from tests.dropin.project.settings_plain import INSTALLED_APPS, OAUTH2_PROVIDER

INSTALLED_APPS = [*INSTALLED_APPS, "clientauth", "keystore"]

AUTHSERVER_ISSUER = os.environ.get("DROPIN_ISSUER", "http://127.0.0.1:8000")

OAUTH2_PROVIDER = {
    **OAUTH2_PROVIDER,
    "OAUTH2_VALIDATOR_CLASS": "clientauth.validator.ClientAuthValidator",
    "OAUTH2_BACKEND_CLASS": "clientauth.backends.ClientAuthOAuthLibCore",
}
