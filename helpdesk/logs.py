"""Logging set-up: one line per event, ids as fields, never message content.

Callers pass ids through `extra={...}`; the formatter appends them as
key=value pairs. Message text, subjects and addresses must never be logged.
"""

from __future__ import annotations

import logging
import re
import sys

_STANDARD_ATTRIBUTES = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}
# C0 and C1 control characters, DEL and the Unicode line and paragraph separators:
# terminals and log viewers may start a new line or act on any of them.
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_TRACEBACK_INDENT = "    "


def escape_control_characters(text: str) -> str:
    """Replace control characters by Python escapes ("\\n", "\\x1b"), so that text cannot start a log line."""
    return _CONTROL_CHARACTERS.sub(lambda match: match.group().encode("unicode_escape").decode("ascii"), text)


class KeyValueFormatter(logging.Formatter):
    """Format one event per line, with `extra` fields as key=value pairs after the message.

    A message or field may hold input from outside (a request path), so
    control characters in them are escaped and cannot forge a second event.
    A traceback follows on indented lines, so no line of it looks like an event.
    """

    def format(self, record: logging.LogRecord) -> str:
        record.message = record.getMessage()
        if self.usesTime():
            record.asctime = self.formatTime(record, self.datefmt)
        line = escape_control_characters(self.formatMessage(record))

        extras = {
            key: value for key, value in vars(record).items() if key not in _STANDARD_ATTRIBUTES
        }
        if extras:
            fields = (f"{key}={value}" for key, value in sorted(extras.items()))
            line += " " + " ".join(escape_control_characters(field) for field in fields)

        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line += "\n" + _indented(record.exc_text)
        if record.stack_info:
            line += "\n" + _indented(self.formatStack(record.stack_info))
        return line


def _indented(text: str) -> str:
    return "\n".join(_TRACEBACK_INDENT + escape_control_characters(line) for line in text.split("\n"))


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
