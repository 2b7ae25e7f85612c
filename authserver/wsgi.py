"""WSGI entry point (``gunicorn -c gunicorn.conf.py authserver.wsgi``).

Django's WSGI handler, with the direct token path in front of ``POST /oauth2/token``
(``clientauth.fastpath.DirectTokenHandler``): a successful client_credentials request
is answered there; every other request, declined ones included, goes through the full
``settings.MIDDLEWARE`` (ALLOWED_HOSTS, the security middleware, Django's exception
handling) to its view. ``PRIVATE_KEY_JWT["FAST_PATH"] = False`` turns the direct path
off; the server then answers exactly as ``get_wsgi_application()`` would.

A configuration mistake (an environment variable, a key file: ``ImproperlyConfigured``)
stops the import with one line on stderr and exit status 1, as ``manage.py`` does,
instead of the server's traceback. Once set up, the keystore's expiry warnings are
logged (``keystore.checks.log_expiry_warnings``): once per start under gunicorn, which
imports this module in its master (``preload_app``).
"""

from __future__ import annotations

import os
import sys

import django
from django.core.exceptions import ImproperlyConfigured

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "authserver.settings")
try:
    django.setup(set_prefix=False)
except ImproperlyConfigured as exc:
    # The operator's to fix: the one line that names it, not the server's traceback.
    sys.exit(f"error: {exc}")

from clientauth.fastpath import DirectTokenHandler  # noqa: E402  (needs the apps set up)
from keystore.checks import log_expiry_warnings  # noqa: E402

application = DirectTokenHandler()
log_expiry_warnings()
