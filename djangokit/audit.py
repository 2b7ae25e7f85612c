"""The audit seam: apps announce a state change, whoever keeps the trail records it.

``performed`` is a plain Django signal. The apps' management commands send it through
``djangokit.commands.BaseCommand.audit`` after a change succeeded; the console
(``console.receivers``) writes each one as an ``AuditEntry``. A project without the
console installs no receiver, and the commands work the same. Imports nothing of the
project's apps, so each app can send without knowing who listens.

Keyword arguments of a ``performed`` signal: ``action`` (a stable code such as
``"cert.import"``), ``target`` (what it was done to), ``detail`` (one line, never a
secret), ``actor`` (who), ``channel`` (``"command"``) and ``source`` (from where).
"""

from __future__ import annotations

import getpass
import os
import socket

from django.dispatch import Signal

performed = Signal()

COMMAND = "command"


def os_user() -> str:
    """The operating-system user running this process ("" when it has no name)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # a uid with no passwd entry and no LOGNAME/USER
        return str(os.getuid()) if hasattr(os, "getuid") else ""


def command_source() -> str:
    """Where a command was run from: this host, and the SSH client's address if any."""
    source = socket.gethostname()
    ssh = os.environ.get("SSH_CLIENT", "").split()
    if ssh:
        source += f" (ssh from {ssh[0]})"
    return source


def command_performed(sender, action: str, target: str, detail: str = "") -> None:
    """Announce that a management command changed ``target``."""
    performed.send(
        sender=sender,
        action=action,
        target=target,
        detail=detail,
        actor=os_user(),
        channel=COMMAND,
        source=command_source(),
    )
