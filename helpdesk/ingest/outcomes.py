"""The source of a raw mail and the outcome of ingesting it."""

from __future__ import annotations

import enum
from dataclasses import dataclass


@dataclass(frozen=True)
class Source:
    """The mailbox location of a raw mail; (mailbox, folder, uidvalidity, uid) identifies it."""

    mailbox: str | None = None  # stable key without the password, see helpdesk.ingest.sources.mailbox_key
    folder: str | None = None
    uidvalidity: int | None = None
    uid: int | None = None


class IngestStatus(str, enum.Enum):
    INGESTED = "ingested"
    DUPLICATE = "duplicate"
    QUARANTINED = "quarantined"
    IGNORED = "ignored"


@dataclass(frozen=True)
class IngestOutcome:
    status: IngestStatus
    ticket_id: int | None = None
    message_id: int | None = None  # the Message row id, not the Message-ID header
    reason: str | None = None  # why the mail was ignored, quarantined or a duplicate
    automatic: bool = False
