"""The server's settings for the benchmark: production's, and a ``jwks_uri`` on loopback.

The ``jwks`` scenario's client publishes its keys at an http URL on 127.0.0.1 that the
benchmark serves, which production settings refuse (HTTPS only, no loopback). Nothing
else differs, so every other scenario measures production's configuration.
"""

from authserver.settings import *  # noqa: F403
from authserver.settings import PRIVATE_KEY_JWT

PRIVATE_KEY_JWT = {
    **PRIVATE_KEY_JWT,
    "JWKS_URI_ALLOW_HTTP": True,
    "JWKS_URI_ALLOWED_HOSTS": ["127.0.0.1"],
}
