"""Identity checks for a batch of raw mails: six queries per batch instead of six per mail.

A mail is a duplicate when its raw SHA-256 or the keyed hash of its
Message-ID has an IngestRecord, or when an inbound Message has the same raw
hash or Message-ID. It is ignored when it was erased before or when its
Message-ID is that of one of our own outbound messages. The unique keys of
IngestRecord still decide between two workers, and between two copies of one
mail in the same batch.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from helpdesk.config import Settings
from helpdesk.ingest.models import IngestRecord
from helpdesk.ingest.outcomes import IngestOutcome, IngestStatus
from helpdesk.mail import ParsedMessage, parse_message
from helpdesk.privacy.erasure import message_id_hash
from helpdesk.privacy.models import ErasedMessage
from helpdesk.tickets.models import Direction, Message

logger = logging.getLogger(__name__)


@dataclass
class KnownMail:
    """The duplicate outcome or the parsed message of each raw mail of a batch, by raw SHA-256.

    For each parsed mail, `erased` and `outbound_message_ids` replace the
    queries of helpdesk.privacy.erasure.is_erased and of our own outbound
    Message-IDs.
    """

    duplicates: dict[str, IngestOutcome] = field(default_factory=dict)
    parsed: dict[str, ParsedMessage] = field(default_factory=dict)
    erased: set[str] = field(default_factory=set)  # raw SHA-256 of parsed mails that were erased before
    outbound_message_ids: set[str] = field(default_factory=set)
    # The batch's raw mails and their SHA-256, by id() of the raw bytes.
    hashes: dict[int, tuple[bytes, str]] = field(default_factory=dict)

    def raw_sha256(self, raw: bytes) -> str:
        """Return the hex SHA-256 of `raw`, computed once per raw mail of the batch."""
        entry = self.hashes.get(id(raw))
        if entry is not None and entry[0] is raw:
            return entry[1]
        return raw_hash(raw)

    def check(self, raw_sha256: str) -> tuple[IngestOutcome | None, ParsedMessage | None]:
        """Return the mail's duplicate outcome, or None and its parsed message (None when not in the batch)."""
        if raw_sha256 in self.duplicates:
            return self.duplicates[raw_sha256], None
        return None, self.parsed.get(raw_sha256)


def raw_hash(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def find_known_mail(
    session: Session, settings: Settings, raws: list[bytes], parsed_by_hash: dict[str, ParsedMessage] | None = None
) -> KnownMail:
    """Parse the batch's new mail and look up every mail's identity with one query per table and key.

    `parsed_by_hash` contains mail parsed beforehand (helpdesk.ingest.prepare), by raw SHA-256.
    """
    from helpdesk.ingest.pipeline import message_key  # pipeline imports this module

    known = KnownMail()
    raw_hashes = [raw_hash(raw) for raw in raws]
    known.hashes = {id(raw): (raw, sha256) for raw, sha256 in zip(raws, raw_hashes)}
    hashes = list(dict.fromkeys(raw_hashes))
    _add_duplicates(known, session, IngestRecord.raw_sha256.in_(hashes), Message.raw_sha256.in_(hashes))

    # Mail whose raw copy is new is parsed once here, and ingest_raw reuses it.
    keys: dict[str, str] = {}
    for raw, sha256 in zip(raws, raw_hashes):
        if sha256 in known.duplicates or sha256 in known.parsed:
            continue
        parsed = (parsed_by_hash or {}).get(sha256)
        try:
            if parsed is None:
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

    _add_ignored(known, session, settings)
    return known


def _add_ignored(known: KnownMail, session: Session, settings: Settings) -> None:
    """Find which parsed new mails were erased before and which carry our own outbound Message-IDs."""
    new = {sha256: parsed for sha256, parsed in known.parsed.items() if sha256 not in known.duplicates}
    if not new:
        return
    id_hashes = {sha256: message_id_hash(settings, parsed.message_id) for sha256, parsed in new.items()}
    erased_rows = session.execute(
        select(ErasedMessage.message_id_hash, ErasedMessage.raw_sha256).where(
            or_(ErasedMessage.message_id_hash.in_(list(id_hashes.values())), ErasedMessage.raw_sha256.in_(list(new)))
        )
    ).all()
    erased_id_hashes = {row.message_id_hash for row in erased_rows}
    erased_raw_hashes = {row.raw_sha256 for row in erased_rows}
    known.erased = {
        sha256 for sha256, id_hash in id_hashes.items() if id_hash in erased_id_hashes or sha256 in erased_raw_hashes
    }

    message_ids = list({parsed.message_id for parsed in new.values()})
    known.outbound_message_ids = set(
        session.scalars(
            select(Message.message_id).where(Message.message_id.in_(message_ids), Message.direction == Direction.OUTBOUND)
        )
    )


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
