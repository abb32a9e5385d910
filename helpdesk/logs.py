"""Logging set-up: one line per event, ids as fields, never message content.

Callers pass ids through `extra={...}`; the formatter appends them as
key=value pairs. Message text, subjects and addresses must never be logged.
"""

from __future__ import annotations

import logging
import sys

_STANDARD_ATTRIBUTES = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}


class KeyValueFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        extras = {
            key: value for key, value in vars(record).items() if key not in _STANDARD_ATTRIBUTES
        }
        if extras:
            line += " " + " ".join(f"{key}={value}" for key, value in sorted(extras.items()))
        return line


def configure_logging(level: int = logging.INFO) -> None:
    root = logging.getLogger()
    if any(getattr(handler, "_helpdesk", False) for handler in root.handlers):
        root.setLevel(level)
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(KeyValueFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler._helpdesk = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
