#!/usr/bin/env python
"""Django's command-line entry point for the authorization server."""

import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "authserver.settings")
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    try:
        execute_from_command_line(sys.argv)
    except ImproperlyConfigured as exc:
        # A configuration mistake (an environment variable, a key file) is the operator's
        # to fix: one line that names it, not a traceback.
        sys.exit(f"error: {exc}")
