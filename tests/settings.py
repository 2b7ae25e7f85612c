"""Settings for the test suite: the production settings with a test secret and a fast hasher.

It also proves the contract's promise that a module doing
``from authserver.settings import *`` can override ``PRIVATE_KEY_JWT`` keys.
"""

import os

os.environ.setdefault("DJANGO_SECRET_KEY", "test-only-secret-key-not-for-deployment")

from authserver.settings import *  # noqa: E402,F403

# Hashing users' passwords with PBKDF2's full work factor would dominate the suite's
# run time. Client secrets keep the server's own keyed hasher.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.MD5PasswordHasher",
    "clientauth.hashers.ClientSecretHasher",
]

PRIVATE_KEY_JWT = {**PRIVATE_KEY_JWT}  # noqa: F405

# CI runs the whole suite a second time with the direct token path off
# (TEST_FAST_PATH=off): every answer must be the same without it.
if os.environ.get("TEST_FAST_PATH", "on") == "off":
    PRIVATE_KEY_JWT["FAST_PATH"] = False
