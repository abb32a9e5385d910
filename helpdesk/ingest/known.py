"""Duplicate checks for a batch of raw mails: four queries per batch instead of four per mail.

A mail is a duplicate when its raw SHA-256 or the keyed hash of its
Message-ID has an IngestRecord, or when an inbound Message has the same raw
hash or Message-ID. The unique keys of IngestRecord still decide between two
workers, and between two copies of one mail in the same batch.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from helpdesk.config import Settings
from helpdesk.ingest.models import IngestRecord
from helpdesk.ingest.outcomes import IngestOutcome, IngestStatus
from helpdesk.mail import ParsedMessage, parse_message
from helpdesk.tickets.models import Direction, Message

logger = logging.getLogger(__name__)


@dataclass
class KnownMail:
    """The duplicate outcome or the parsed message of each raw mail of a batch, by raw SHA-256."""

    duplicates: dict[str, IngestOutcome] = field(default_factory=dict)
    parsed: dict[str, ParsedMessage] = field(default_factory=dict)

    def check(self, raw_sha256: str) -> tuple[IngestOutcome | None, ParsedMessage | None]:
        """Return the mail's duplicate outcome, or None and its parsed message (None when not in the batch)."""
        if raw_sha256 in self.duplicates:
            return self.duplicates[raw_sha256], None
        return None, self.parsed.get(raw_sha256)


def raw_hash(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def find_known_mail(session: Session, settings: Settings, raws: list[bytes]) -> KnownMail:
    """Parse the batch's new mail and look up every mail's identity with one query per table and key."""
    from helpdesk.ingest.pipeline import message_key  # pipeline imports this module

    known = KnownMail()
    hashes = list(dict.fromkeys(raw_hash(raw) for raw in raws))
    _add_duplicates(known, session, IngestRecord.raw_sha256.in_(hashes), Message.raw_sha256.in_(hashes))

    # Mail whose raw copy is new is parsed once here, and ingest_raw reuses it.
    keys: dict[str, str] = {}
    for raw in raws:
        sha256 = raw_hash(raw)
        if sha256 in known.duplicates or sha256 in known.parsed:
            continue
        try:
            parsed = parse_message(raw, settings.max_message_bytes)
        except Exception:  # noqa: BLE001 - ingest_raw parses this mail again in its savepoint and quarantines it
            logger.exception("parsing failed before the duplicate check", extra={"raw_sha256": sha256})
            continue
        known.parsed[sha256] = parsed
        keys[sha256] = message_key(settings, parsed.message_id)
    if not keys:
        return known

    message_ids = [known.parsed[sha256].message_id for sha256 in keys]
    records = session.scalars(select(IngestRecord).where(IngestRecord.message_key.in_(list(keys.values())))).all()
    record_by_key = {record.message_key: record for record in records}
    rows = session.execute(
        select(Message.id, Message.ticket_id, Message.message_id)
        .where(Message.message_id.in_(message_ids), Message.direction == Direction.INBOUND)
    ).all()
    message_by_id = {row.message_id: row for row in rows}

    for sha256, key in keys.items():
        record = record_by_key.get(key)
        message = message_by_id.get(known.parsed[sha256].message_id)
        if record is not None:
            known.duplicates[sha256] = _processed(record)
        elif message is not None:
            known.duplicates[sha256] = _stored(message.ticket_id, message.id)
    return known


def _add_duplicates(known: KnownMail, session: Session, record_condition, message_condition) -> None:
    for record in session.scalars(select(IngestRecord).where(record_condition)):
        known.duplicates.setdefault(record.raw_sha256, _processed(record))
    rows = session.execute(select(Message.id, Message.ticket_id, Message.raw_sha256).where(message_condition))
    for row in rows:
        known.duplicates.setdefault(row.raw_sha256, _stored(row.ticket_id, row.id))


def _processed(record: IngestRecord) -> IngestOutcome:
    return IngestOutcome(IngestStatus.DUPLICATE, record.ticket_id, record.message_row_id, "already processed")


def _stored(ticket_id: int | None, message_row_id: int) -> IngestOutcome:
    return IngestOutcome(IngestStatus.DUPLICATE, ticket_id, message_row_id, "already stored")
