"""The base of every manage.py command of this project: usage errors in one line, and
``audit`` for the commands that change state.

argparse prints the whole usage block before its error; the contract asks every
command for a one-line message on bad input, so the usage stays behind ``--help``.
It imports nothing of the project's apps, which all use it.
"""

from __future__ import annotations

from django.core.management import base

from djangokit import audit


class BaseCommand(base.BaseCommand):
    def create_parser(self, prog_name, subcommand, **kwargs):
        parser = super().create_parser(prog_name, subcommand, **kwargs)

        def error(message: str):
            if parser.called_from_command_line:
                parser.exit(2, f"{parser.prog}: error: {message} (see --help)\n")
            raise base.CommandError(f"Error: {message}")

        parser.error = error
        return parser

    def audit(self, action: str, target: str, detail: str = "") -> None:
        """Record in the audit trail (``djangokit.audit``) what this command changed,
        as done by the OS user running it; call it once, after the change succeeded."""
        audit.command_performed(type(self), action, target, detail)
