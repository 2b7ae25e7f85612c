"""The base of the keystore's commands: usage errors in one line, like every other error.

argparse prints the whole usage block before its error; the contract asks every
command for a one-line message on bad input, so the usage stays behind ``--help``.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    def create_parser(self, prog_name, subcommand, **kwargs):
        parser = super().create_parser(prog_name, subcommand, **kwargs)

        def error(message: str):
            if parser.called_from_command_line:
                parser.exit(2, f"{parser.prog}: error: {message} (see --help)\n")
            raise CommandError(f"Error: {message}")

        parser.error = error
        return parser
