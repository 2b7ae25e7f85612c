"""``manage.py purge_jtis``: delete JTI rows whose JWT has expired past exp plus leeway."""

from __future__ import annotations

import time

from clientauth import conf
from clientauth.jti import purge_expired
from djangokit.commands import BaseCommand


class Command(BaseCommand):
    help = "Delete IDN_OIDC_JTI rows whose JWT expired (past exp plus LEEWAY_SECONDS)."

    def handle(self, *args, **options) -> None:
        count = purge_expired(now=time.time(), leeway=conf.policy().leeway_seconds)
        self.audit("jti.purge", "IDN_OIDC_JTI", f"{count} expired row(s) deleted")
        self.stdout.write(f"Purged {count} expired jti row(s).")
