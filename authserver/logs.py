"""Log formatting for the server's console handler.

``OneLineFormatter`` leaves the traceback out: Django logs each refused request
(``django.security.*``, a Host not in ALLOWED_HOSTS for one) with the exception
attached, and for those the message alone says what the operator needs.
"""

from __future__ import annotations

import logging


class OneLineFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        saved = record.exc_info, record.exc_text, record.stack_info
        record.exc_info = record.exc_text = record.stack_info = None
        try:
            return " ".join(super().format(record).split("\n"))
        finally:
            record.exc_info, record.exc_text, record.stack_info = saved
