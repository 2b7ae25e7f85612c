"""WSGI entry point (``gunicorn -c gunicorn.conf.py authserver.wsgi``).

Django's WSGI handler, with the direct token path in front of ``POST /oauth2/token``
(``clientauth.fastpath.DirectTokenHandler``): a successful client_credentials request
is answered there; every other request, declined ones included, goes through the full
``settings.MIDDLEWARE`` (ALLOWED_HOSTS, the security middleware, Django's exception
handling) to its view. ``PRIVATE_KEY_JWT["FAST_PATH"] = False`` turns the direct path
off; the server then answers exactly as ``get_wsgi_application()`` would.
"""

from __future__ import annotations

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "authserver.settings")
django.setup(set_prefix=False)

from clientauth.fastpath import DirectTokenHandler  # noqa: E402  (needs the apps set up)

application = DirectTokenHandler()
