"""The codes that describe what went wrong while reading a mail.

A problem is stored as its code, or as "code:detail" when a non-personal
detail helps staff (a codec name, a size in bytes, an exception type). The
admin screens translate each code. No detail is copied from the mail's
headers or text, so a stored problem cannot leak a name or an address.
"""

from __future__ import annotations

import re

SEPARATOR = "; "

PROBLEM_CODES = frozenset(
    {
        "message_id_missing",
        "date_missing",
        "date_invalid",
        "headers_repaired",
        "headers_unreadable",
        "no_headers",
        "no_known_headers",
        "parse_failed",
        "ingest_failed",
        "too_large",
        "mime_too_deep",
        "multipart_empty",
        "partial_fragment",
        "transfer_encoding_failed",
        "mime_defects",
        "charset_unknown",
        "charset_invalid",
        "charset_missing",
        "tnef_unreadable",
        "tnef_rtf_failed",
        "calendar_unreadable",
        "pgp_encrypted",
        "smime_encrypted",
        "smime_opaque_signed",
    }
)


# English (and a few Dutch) sentences that earlier versions stored in
# Message.parse_problem and Ticket.quarantine_reason, with the code that replaced each.
LEGACY_SENTENCES = (
    (r"Message-ID missing or invalid; derived from the raw bytes", "message_id_missing"),
    (r"Date missing or invalid", "date_invalid"),
    (r"Date missing", "date_missing"),
    (r"header block repaired: unindented continuation lines or a byte order mark", "headers_repaired"),
    (r"message of (\d+) bytes is over the limit of \d+ bytes", "too_large"),
    (r"parsing failed \((\w+)\)", "parse_failed"),
    (r"ingest failed \((\w+)\)", "ingest_failed"),
    (r"headers could not be read \((\w+)\)", "headers_unreadable"),
    (r"winmail.dat could not be decoded; kept as attachment", "tnef_unreadable"),
    (r"multipart/related has no parts", "multipart_empty"),
    (r"message/partial: only one fragment of a split message", "partial_fragment"),
    (r"geen leesbare e-mail: geen kopregels gevonden", "no_headers"),
    (r"geen leesbare e-mail: geen bekende kopregels \(From, To, Subject \.\.\.\) gevonden", "no_known_headers"),
    (r"the message is PGP-encrypted", "pgp_encrypted"),
    (r"the message is S/MIME-encrypted", "smime_encrypted"),
    (r"the message is S/MIME-signed in opaque form, which is not extracted", "smime_opaque_signed"),
)


def problem(code: str, detail: object = None) -> str:
    """Return the stored form of one problem. Raise ValueError for a code missing from PROBLEM_CODES."""
    if code not in PROBLEM_CODES:
        raise ValueError(f"unknown mail problem code {code!r}: add it to helpdesk.mail.problems.PROBLEM_CODES")
    return f"{code}:{detail}" if detail not in (None, "") else code


def split_problem(stored: str) -> tuple[str, str | None]:
    """Return the code and the detail of one stored problem."""
    code, _, detail = stored.partition(":")
    return code, detail or None


def stored_problems(value: str | None) -> list[str]:
    """Return the problems of a stored Message.parse_problem or Ticket.quarantine_reason, in their order.

    Sentences from earlier versions become their codes; other text is kept as stored.
    """
    text = value or ""
    for pattern, code in LEGACY_SENTENCES:
        text = re.sub(pattern, lambda match, code=code: problem(code, match.group(1) if match.groups() else None), text)
    return [item for item in text.split(SEPARATOR) if item]
