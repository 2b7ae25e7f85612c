"""Certificates imported under an alias (a client ID), with the facts parsed once.

The PEM is the certificate alone; private key material is never stored. The derived
columns are filled by ``keystore.parsing`` on import and never recomputed per request.
This app knows nothing about OAuth: an alias is just a name.
"""

from __future__ import annotations

from django.db import models


class Certificate(models.Model):
    alias = models.CharField(max_length=255, unique=True)
    pem = models.TextField()
    subject = models.CharField(max_length=1024)
    issuer = models.CharField(max_length=1024)
    serial = models.CharField(max_length=128)
    not_before = models.DateTimeField()
    not_after = models.DateTimeField(db_index=True)
    thumbprint_sha256 = models.CharField(max_length=64, db_index=True)
    key_type = models.CharField(max_length=16)
    key_size = models.PositiveIntegerField()
    imported_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["alias"]

    def __str__(self) -> str:
        return self.alias
