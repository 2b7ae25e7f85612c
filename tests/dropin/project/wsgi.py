"""WSGI entry point of the stock project (``gunicorn tests.dropin.project.wsgi``)."""

from django.core.wsgi import get_wsgi_application

application = get_wsgi_application()
