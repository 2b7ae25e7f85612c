"""The console's audit trail: one ``AuditEntry`` per action an administrator takes.

Written by ``console.audit.record`` from the console's views only (registering,
editing and deleting service providers; importing, replacing, exporting and deleting
certificates). The actor's username is copied so the line survives the account.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class AuditEntry(models.Model):
    SP_REGISTER = "sp.register"
    SP_EDIT = "sp.edit"
    SP_DELETE = "sp.delete"
    CERT_IMPORT = "cert.import"
    CERT_REPLACE = "cert.replace"
    CERT_DELETE = "cert.delete"
    CERT_EXPORT = "cert.export"
    ACTION_CHOICES = [
        (SP_REGISTER, "Registered service provider"),
        (SP_EDIT, "Edited service provider"),
        (SP_DELETE, "Deleted service provider"),
        (CERT_IMPORT, "Imported certificate"),
        (CERT_REPLACE, "Replaced certificate"),
        (CERT_DELETE, "Deleted certificate"),
        (CERT_EXPORT, "Exported certificate"),
    ]

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_username = models.CharField(max_length=150)
    action = models.CharField(max_length=32, choices=ACTION_CHOICES, db_index=True)
    target = models.CharField(max_length=255, db_index=True)
    detail = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "audit entry"
        verbose_name_plural = "audit entries"

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.actor_username} {self.action}"
