"""KeyValueFormatter: one line per event, whatever the message and fields contain."""

from __future__ import annotations

import logging
import sys

from helpdesk.logs import KeyValueFormatter, escape_control_characters

FORMAT = "%(levelname)s %(name)s: %(message)s"


def make_record(message: str, *args, extra: dict | None = None, exc_info=None) -> logging.LogRecord:
    record = logging.LogRecord("helpdesk.test", logging.INFO, __file__, 1, message, args, exc_info)
    for key, value in (extra or {}).items():
        setattr(record, key, value)
    return record


def test_message_newline_cannot_forge_event():
    path = "/faq/nl/x\nINFO helpdesk.admin: login succeeded user=admin"
    record = make_record("not found: %s", path)

    line = KeyValueFormatter(FORMAT).format(record)

    assert "\n" not in line
    assert line == "INFO helpdesk.test: not found: /faq/nl/x\\nINFO helpdesk.admin: login succeeded user=admin"


def test_extra_values_escaped():
    record = make_record("request", extra={"path": "/a\r\nINFO forged", "agent": "x\x1b[2Jy\u2028z"})

    line = KeyValueFormatter(FORMAT).format(record)

    assert "\n" not in line
    assert "\r" not in line
    assert "\x1b" not in line
    assert "\u2028" not in line
    assert line.endswith(" agent=x\\x1b[2Jy\\u2028z path=/a\\r\\nINFO forged")


def test_traceback_lines_indented():
    try:
        raise ValueError("bad value\nINFO helpdesk.admin: forged")
    except ValueError:
        record = make_record("ingest failed", extra={"ticket_id": 7}, exc_info=sys.exc_info())

    lines = KeyValueFormatter(FORMAT).format(record).split("\n")

    assert lines[0] == "INFO helpdesk.test: ingest failed ticket_id=7"
    assert len(lines) > 2
    assert all(line.startswith("    ") for line in lines[1:])
    assert "    ValueError: bad value" in lines
    assert "    INFO helpdesk.admin: forged" in lines


def test_escape_keeps_printable_text():
    assert escape_control_characters("Gent, café 12\t€") == "Gent, café 12\\t€"
