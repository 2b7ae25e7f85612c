"""Small Django helpers the apps share: a plain package, not an app.

It imports nothing of ``clientauth``, ``keystore``, ``oidc``, ``console`` or
``authserver``, so each app can be installed without the others' project.
``rawsql``: the driver's cursor of Django's connection for the token path's
statements. ``commands``: the base of the apps' manage.py commands (usage errors in
one line). ``audit``: the signal by which the apps announce a change for the audit
trail.
"""
