"""The audit trail: one ``AuditEntry`` per change to the server's state, and per sign-in.

Written by ``console.audit`` for the console's own actions (``record``), and by
``console.receivers`` for the management commands (``djangokit.audit``), sign-ins,
failed sign-ins and sign-outs (``django.contrib.auth``'s signals), and edits in
Django's admin (``console.adminaudit``). Each says who (``actor_username``, copied so
the line survives the account; the OS user for a command), what (``action`` on
``target``, with a one-line ``detail`` that never holds a secret), when, through which
``channel`` and from where (``source``: the client's address, or the host a command
ran on).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class AuditEntry(models.Model):
    SP_REGISTER = "sp.register"
    SP_EDIT = "sp.edit"
    SP_DELETE = "sp.delete"
    SP_SECRET = "sp.secret"
    SP_REVOKE_TOKENS = "sp.revoke_tokens"
    SP_KEY_SOURCE = "sp.key_source"
    CERT_IMPORT = "cert.import"
    CERT_REPLACE = "cert.replace"
    CERT_DELETE = "cert.delete"
    CERT_EXPORT = "cert.export"
    SIGNING_KEY_ROTATE = "signing_key.rotate"
    JTI_PURGE = "jti.purge"
    ADMIN_USER_CREATE = "user.create_admin"
    LOGIN = "auth.login"
    LOGIN_FAILED = "auth.login_failed"
    LOGOUT = "auth.logout"
    ADMIN_ADD = "admin.add"
    ADMIN_CHANGE = "admin.change"
    ADMIN_DELETE = "admin.delete"
    ACTION_CHOICES = [
        (SP_REGISTER, "Registered service provider"),
        (SP_EDIT, "Edited service provider"),
        (SP_DELETE, "Deleted service provider"),
        (SP_SECRET, "Regenerated client secret"),
        (SP_REVOKE_TOKENS, "Revoked client's tokens"),
        (SP_KEY_SOURCE, "Changed key source"),
        (CERT_IMPORT, "Imported certificate"),
        (CERT_REPLACE, "Replaced certificate"),
        (CERT_DELETE, "Deleted certificate"),
        (CERT_EXPORT, "Exported certificate"),
        (SIGNING_KEY_ROTATE, "Rotated signing key"),
        (JTI_PURGE, "Purged expired jti rows"),
        (ADMIN_USER_CREATE, "Created admin user"),
        (LOGIN, "Signed in"),
        (LOGIN_FAILED, "Failed sign-in"),
        (LOGOUT, "Signed out"),
        (ADMIN_ADD, "Added in Django admin"),
        (ADMIN_CHANGE, "Changed in Django admin"),
        (ADMIN_DELETE, "Deleted in Django admin"),
    ]

    CONSOLE = "console"
    COMMAND = "command"  # djangokit.audit.COMMAND
    ADMIN = "admin"
    SIGN_IN = "sign-in"
    CHANNEL_CHOICES = [
        (CONSOLE, "Console"),
        (COMMAND, "manage.py command"),
        (ADMIN, "Django admin"),
        (SIGN_IN, "Sign-in page"),
    ]

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_username = models.CharField(max_length=150, db_index=True)
    action = models.CharField(max_length=32, choices=ACTION_CHOICES, db_index=True)
    target = models.CharField(max_length=255, db_index=True)
    detail = models.CharField(max_length=500, blank=True)
    channel = models.CharField(max_length=16, choices=CHANNEL_CHOICES, default=CONSOLE)
    source = models.CharField(max_length=255, blank=True)
    # The admin's own LogEntry this line copies: unique, so it is copied once.
    admin_log_id = models.PositiveIntegerField(null=True, blank=True, unique=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "audit entry"
        verbose_name_plural = "audit entries"

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.actor_username} {self.action}"
