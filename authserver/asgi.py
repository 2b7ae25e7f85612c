"""ASGI entry point (for example ``uvicorn authserver.asgi:application``).

Django's own ASGI handler: every request, the client endpoints included, goes through
the full ``settings.MIDDLEWARE`` and its view. The direct token path
(``clientauth.fastpath``) is a WSGI optimisation and is not used here; the answers are
the same without it.
"""

from __future__ import annotations

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "authserver.settings")

application = get_asgi_application()
