"""Settings of the live key-source tests' servers: the test settings, with plain HTTP to
the loopback JWKS test server allowed and short fetch bounds (``test_multiprocess_jwks``;
the same values as ``jwks_support.JWKS_TEST_SETTINGS``, which imports models and so
cannot be imported by a settings module)."""

from tests.settings import *  # noqa: F403

PRIVATE_KEY_JWT = {  # noqa: F405
    **PRIVATE_KEY_JWT,  # noqa: F405
    "JWKS_URI_ALLOW_HTTP": True,
    "JWKS_URI_ALLOWED_HOSTS": ["127.0.0.1"],
    "JWKS_URI_MIN_CACHE_SECONDS": 1,
    "JWKS_URI_TIMEOUT_SECONDS": 1,
    "JWKS_URI_MAX_STALE_SECONDS": 3,
}
