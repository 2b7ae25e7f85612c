"""The drop-in proof: a stock django-oauth-toolkit project that installs ``clientauth``.

``project/`` is a project nobody here would write: DOT's default ``Application``, its
URLs under ``/o/``, its own settings. Its data is created before ``clientauth`` and
``keystore`` are installed; then the apps are added, migrated and configured through
two ``OAUTH2_PROVIDER`` keys, and Authlib's ``PrivateKeyJWT`` runs the grants against
it under gunicorn. The same project without those two keys refuses the same
assertions, so the passes are our validator's work.
"""
