"""Reading a raw mail for `helpdesk suggest` and the evaluation: subject, full text and new text."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from helpdesk.mail import parse_message


@dataclass(frozen=True)
class MailText:
    subject: str
    text: str  # whole decoded text, quotes included
    new_text: str  # without quoted earlier mail and signature
    date: dt.datetime | None = None  # the Date header, when readable


def parse_mail(raw: bytes) -> MailText:
    """Decode a raw mail with the core parser (documented not to raise on bad input)."""
    parsed = parse_message(raw)
    return MailText(
        subject=parsed.subject or "", text=parsed.text or "", new_text=parsed.new_text or "", date=parsed.date
    )
