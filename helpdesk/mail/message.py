"""Typed results of parsing one raw mail."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from helpdesk.mail.headers import Address


@dataclass
class ParsedAttachment:
    filename: str
    content_type: str
    data: bytes
    content_id: str | None = None
    inline: bool = False

    @property
    def size(self) -> int:
        return len(self.data)


@dataclass
class BounceInfo:
    """The delivery result that a status notification or bounce reports for an earlier message."""

    original_message_ids: list[str]
    action: str | None = None  # the DSN Action field: failed, delayed, delivered, relayed, expanded
    status: str | None = None  # the DSN Status field, for example 5.1.1
    diagnostic: str | None = None  # the remote server's reply; may contain addresses

    @property
    def failed(self) -> bool:
        return self.action in (None, "failed")

    @property
    def original_message_id(self) -> str | None:
        return self.original_message_ids[0] if self.original_message_ids else None

    @property
    def reason(self) -> str:
        parts = [part for part in (self.status, self.diagnostic) if part]
        return " ".join(parts) or "delivery failed"


@dataclass
class ParsedMessage:
    """One mail, decoded. Text fields are not redacted yet."""

    message_id: str  # without angle brackets
    message_id_generated: bool  # True when derived from the raw bytes because the header was missing
    in_reply_to: list[str]  # usually one id, but some clients list several
    references: list[str]
    subject: str
    from_address: str
    from_name: str
    to: list[Address]
    cc: list[Address]
    date: dt.datetime | None
    text: str  # the whole readable text, quotes and forwarded mail included
    new_text: str  # what the sender wrote now, without quotes and signature
    html: str | None  # the HTML part as received; sanitise before showing it
    attachments: list[ParsedAttachment] = field(default_factory=list)
    automatic: str | None = None  # why the mail looks machine-sent
    bounce: BounceInfo | None = None
    problems: list[str] = field(default_factory=list)
    too_large: bool = False
    unreadable: str | None = None  # why staff must look at the raw message
    size: int = 0

    @property
    def is_reply(self) -> bool:
        return bool(self.in_reply_to or self.references)

    @property
    def thread_ids(self) -> list[str]:
        """Return the ids that may lead to an earlier message: In-Reply-To first, then newest reference first."""
        ordered = list(self.in_reply_to)
        for message_id in reversed(self.references):
            if message_id not in ordered:
                ordered.append(message_id)
        return ordered
