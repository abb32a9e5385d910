"""`ingest_raw`: one raw mail in, stored on a ticket (or recorded as ignored), in the caller's transaction.

`ingest_without_savepoints` does the same for a batch, with one flush for
the rows of all its mails.

Steps: parse, skip duplicates and erased mail, claim the mail's identity,
drop our own replies, quarantine what cannot be read, record bounces, thread,
store redacted text, then run the registered ingest steps on new client mail.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy import inspect, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from helpdesk.config import Settings
from helpdesk.crypto import address_hash, encrypt
from helpdesk.db import utcnow
from helpdesk.deferred_rows import deferring_inserts, insert_rows
from helpdesk.ingest.errors import is_connection_error
from helpdesk.ingest.known import KnownMail
from helpdesk.ingest.models import IngestRecord
from helpdesk.ingest.outcomes import IngestOutcome, IngestStatus, Source
from helpdesk.ingest.store import add_event, new_ticket, redacted, store_message
from helpdesk.mail import ParsedMessage, parse_message
from helpdesk.mail.parser import generated_message_id
from helpdesk.mail.problems import problem, split_problem
from helpdesk.plugins import get_registry
from helpdesk.privacy.erasure import is_erased
from helpdesk.row_ids import assign_row_ids
from helpdesk.teams.reply_addresses import is_own_address
from helpdesk.teams.routing import team_for_mailbox
from helpdesk.tickets.created import mark_created
from helpdesk.tickets.models import DeliveryState, Direction, Message, Ticket, TicketStatus
from helpdesk.tickets.threading import find_client_ticket, find_ticket

logger = logging.getLogger(__name__)

# A client's reply puts these tickets back in the staff queue.
REOPENED_BY_CLIENT = {TicketStatus.CLOSED, TicketStatus.WAITING}

MAX_REASON_LENGTH = 120
MAX_DELIVERY_ERROR_LENGTH = 1000

# The columns of a record inserted as a Core row. The database numbers its id.
RECORD_COLUMNS = [column for column in IngestRecord.__table__.columns if column.key != "id"]


def message_key(settings: Settings, message_id: str) -> str:
    """Return a keyed hash of a Message-ID, the de-duplication key that reveals nothing."""
    return hmac.new(settings.secret_key.encode(), message_id.strip().encode(), hashlib.sha256).hexdigest()


def ingest_raw(
    session: Session,
    settings: Settings,
    raw: bytes,
    source: Source | None = None,
    known: KnownMail | None = None,
    savepoints: bool = True,
) -> IngestOutcome:
    """Parse, de-duplicate, thread, redact and store one raw mail.

    Runs in the caller's transaction and does not commit. When another worker
    stores the same mail at the same moment, the unique keys make this call
    lose and report a duplicate. Outside a savepoint it then rolls back the
    whole session. A caller that ingests several mails in one transaction
    wraps each call in `session.begin_nested()` after the transaction's first
    write (see helpdesk.ingest.state.ingest_batch), and only this mail's
    claim is rolled back. `known` contains the batch's duplicate checks
    (helpdesk.ingest.known.find_known_mail), made before any mail of the
    batch was stored.

    With `savepoints=False` the claim and the ingest steps run without
    savepoints, and any failure, a lost claim included, is raised. Only a
    caller that then rolls back the whole batch and ingests it again with
    savepoints may pass it.
    """
    stored = _store(session, settings, raw, source, known, savepoints)
    if isinstance(stored, IngestOutcome):
        return stored
    session.flush()
    return _complete(session, settings, stored, savepoints)


def ingest_without_savepoints(
    session: Session, settings: Settings, mails: list[tuple[bytes, Source]], known: KnownMail
) -> list[IngestOutcome]:
    """Ingest a batch of mails with one flush for all their tickets and messages, and no savepoints.

    Does what `ingest_raw` with `savepoints=False` does for each mail in
    turn, with the same outcomes, but the tickets, messages and attachments
    of the whole batch are inserted by one flush before the events, records
    and ingest steps of each mail. Any failure is raised, so the caller must
    roll back the batch and ingest it again mail by mail with savepoints.
    The session must not autoflush, and its transaction must have written
    already: on SQLite the new rows get their ids before each flush
    (helpdesk.row_ids), which needs the write lock held.

    A mail that refers to an earlier mail of the batch is threaded onto that
    mail's ticket before either is flushed. Ingest steps run in the order of
    the batch, after all its mails are stored, so a step of the earlier mail
    may find the later one stored; see IngestStep in helpdesk.plugins. Their
    inserts through helpdesk.deferred_rows are written after the last step.
    """
    outcomes: list[IngestOutcome | None] = [None] * len(mails)
    pending: list[tuple[int, _StoredMail]] = []
    # The inbound Message-IDs of the batch's stored mails, for threading before the flush.
    pending_tickets: dict[str, Ticket] = {}

    for position, (raw, source) in enumerate(mails):
        result = _store(session, settings, raw, source, known, False, pending_tickets)
        if isinstance(result, IngestOutcome):
            outcomes[position] = result
            continue
        pending.append((position, result))
        pending_tickets[result.parsed.message_id] = result.ticket

    assign_row_ids(session)
    session.flush()
    with deferring_inserts(session):
        for position, stored in pending:
            outcomes[position] = _complete(session, settings, stored, False)
    return [outcome for outcome in outcomes if outcome is not None]


@dataclass
class _StoredMail:
    """A mail whose ticket and message rows were added to the session, before they get ids."""

    kind: str  # "quarantined", "automatic" or "client"
    parsed: ParsedMessage
    record: IngestRecord
    ticket: Ticket
    message: Message
    created: bool = False
    reason: str | None = None
    bounced: list[Message] = field(default_factory=list)
    other_sender_ticket: Ticket | None = None


def _store(
    session: Session,
    settings: Settings,
    raw: bytes,
    source: Source | None,
    known: KnownMail | None,
    savepoints: bool,
    pending_tickets: Mapping[str, Ticket] | None = None,
) -> IngestOutcome | _StoredMail:
    """Check the mail's identity, claim it and add its ticket and message rows, or return why not.

    `pending_tickets` maps the Message-IDs of a batch's earlier mails, not
    flushed yet, to their tickets, so that threading finds them.
    """
    raw = bytes(raw)
    raw_sha256 = known.raw_sha256(raw) if known is not None else hashlib.sha256(raw).hexdigest()

    duplicate, parsed = known.check(raw_sha256) if known is not None else (None, None)
    if duplicate is not None:
        return duplicate
    if parsed is None:
        duplicate = _known_duplicate(session, settings, raw_sha256, None)
        if duplicate is not None:
            return duplicate
        parsed = parse_message(raw, settings.max_message_bytes)
        duplicate = _known_duplicate(session, settings, raw_sha256, parsed)
        if duplicate is not None:
            return duplicate

    key = message_key(settings, parsed.message_id)
    batch_checked = known is not None and raw_sha256 in known.parsed
    erased = raw_sha256 in known.erased if batch_checked else is_erased(session, settings, parsed.message_id, raw_sha256)
    if erased:
        return _ignore(session, raw_sha256, key, source, "erased", savepoints)

    own = _own_mail_reason(session, settings, parsed, known.outbound_message_ids if batch_checked else None)
    if own is not None:
        return _ignore(session, raw_sha256, key, source, own, savepoints)

    record = IngestRecord(raw_sha256=raw_sha256, message_key=key, status=IngestStatus.INGESTED.value)
    _set_source(record, source)
    if not _claim(session, record, savepoints):
        return IngestOutcome(IngestStatus.DUPLICATE, reason="stored by another worker at the same time")

    if parsed.too_large or parsed.unreadable:
        stored = _store_quarantined(session, settings, parsed, raw, raw_sha256, source, record)
    elif parsed.automatic is not None:
        stored = _store_automatic(session, settings, parsed, raw, raw_sha256, source, record, pending_tickets)
    else:
        stored = _store_client_mail(
            session, settings, parsed, raw, raw_sha256, source, record, savepoints, pending_tickets
        )
    return stored


def _complete(session: Session, settings: Settings, stored: _StoredMail, savepoints: bool) -> IngestOutcome:
    """Add the events and the record of a stored mail and run the ingest steps, once its rows have ids."""
    if stored.kind == "quarantined":
        return _complete_quarantined(session, stored)
    if stored.kind == "automatic":
        return _complete_automatic(session, stored)
    return _complete_client_mail(session, settings, stored, savepoints)


def quarantine_raw(session: Session, settings: Settings, raw: bytes, source: Source | None, reason: str) -> IngestOutcome:
    """Store `raw` untouched on a new quarantined ticket, without parsing it.

    The last resort when normal ingestion failed: staff see the reason and can
    read the raw copy, and the mailbox moves on.
    """
    raw = bytes(raw)
    raw_sha256 = hashlib.sha256(raw).hexdigest()
    known = _known_duplicate(session, settings, raw_sha256, None)
    if known is not None:
        return known

    message_id = generated_message_id(raw)
    record = IngestRecord(
        raw_sha256=raw_sha256, message_key=message_key(settings, message_id), status=IngestStatus.QUARANTINED.value
    )
    _set_source(record, source)
    if not _claim(session, record):
        return IngestOutcome(IngestStatus.DUPLICATE, reason="stored by another worker at the same time")

    mailbox = source.mailbox if source else None
    ticket = Ticket(status=TicketStatus.QUARANTINED, quarantine_reason=reason, mailbox=mailbox, last_message_at=utcnow())
    ticket.team_id = team_for_mailbox(session, mailbox)
    message = Message(
        ticket=ticket,
        direction=Direction.INBOUND,
        message_id=message_id,
        raw_sha256=raw_sha256,
        raw_encrypted=encrypt(settings, raw),
        raw_size=len(raw),
        parse_problem=reason,
    )
    if source is not None:
        message.mailbox, message.folder, message.uidvalidity, message.uid = (
            source.mailbox,
            source.folder,
            source.uidvalidity,
            source.uid,
        )
    session.add_all([ticket, message])
    session.flush()

    add_event(session, ticket, "quarantined", message_id=message.id)
    _finish(session, record, IngestStatus.QUARANTINED, ticket, message, reason)
    logger.warning("mail quarantined unparsed", extra={"ticket_id": ticket.id, "message_row_id": message.id})
    return IngestOutcome(IngestStatus.QUARANTINED, ticket.id, message.id, reason)


# Identity checks


def _known_duplicate(
    session: Session, settings: Settings, raw_sha256: str, parsed: ParsedMessage | None
) -> IngestOutcome | None:
    """Return a duplicate outcome when this raw mail or its Message-ID was processed before."""
    conditions = [IngestRecord.raw_sha256 == raw_sha256]
    if parsed is not None:
        conditions.append(IngestRecord.message_key == message_key(settings, parsed.message_id))
    record = session.scalars(select(IngestRecord).where(or_(*conditions)).limit(1)).first()
    if record is not None:
        return IngestOutcome(IngestStatus.DUPLICATE, record.ticket_id, record.message_row_id, "already processed")

    message_conditions = [Message.raw_sha256 == raw_sha256]
    if parsed is not None:
        message_conditions.append((Message.message_id == parsed.message_id) & (Message.direction == Direction.INBOUND))
    message = session.scalars(select(Message).where(or_(*message_conditions)).limit(1)).first()
    if message is not None:
        return IngestOutcome(IngestStatus.DUPLICATE, message.ticket_id, message.id, "already stored")
    return None


def _own_mail_reason(
    session: Session, settings: Settings, parsed: ParsedMessage, outbound_message_ids: set[str] | None
) -> str | None:
    """Return why `parsed` is the helpdesk's own mail coming back, or None.

    `outbound_message_ids` are the batch's Message-IDs that belong to our
    outbound messages, looked up beforehand; without it this function queries.
    """
    if is_own_address(session, settings, parsed.from_address):
        return "own-address"
    if outbound_message_ids is not None:
        return "own-message" if parsed.message_id in outbound_message_ids else None
    outbound = session.scalar(
        select(Message.id)
        .where(Message.message_id == parsed.message_id, Message.direction == Direction.OUTBOUND)
        .limit(1)
    )
    if outbound is not None:
        return "own-message"
    return None


def _set_source(record: IngestRecord, source: Source | None) -> None:
    if source is None:
        return
    record.mailbox = source.mailbox
    record.folder = source.folder
    record.uidvalidity = source.uidvalidity
    record.uid = source.uid


def _claim(session: Session, record: IngestRecord, savepoints: bool = True) -> bool:
    """Insert the record as this mail's first write; False when another worker won.

    Without `savepoints` nothing is written here: `_finish` inserts the record
    with its outcome, so that it is inserted once instead of inserted and
    updated. A lost claim then fails that insert, and the caller ingests
    the batch again with savepoints (see helpdesk.ingest.state.ingest_batch).

    The insert must come first so that the losing worker has written nothing
    else for this mail when the unique index rejects it. Inside a caller's
    savepoint (several mails per transaction) only a savepoint around the
    insert is rolled back. Otherwise the whole transaction is, because on
    SQLite a savepoint that opens the transaction commits it on release.
    """
    if not savepoints:
        return True

    if session.in_nested_transaction():
        try:
            with session.begin_nested():
                session.add(record)
        except IntegrityError:
            _log_lost_claim(record)
            return False
        return True

    session.add(record)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        _log_lost_claim(record)
        return False
    return True


def _log_lost_claim(record: IngestRecord) -> None:
    logger.info("mail already claimed by another worker", extra={"mailbox": record.mailbox, "uid": record.uid})


def _ignore(
    session: Session, raw_sha256: str, key: str, source: Source | None, reason: str, savepoints: bool = True
) -> IngestOutcome:
    record = IngestRecord(raw_sha256=raw_sha256, message_key=key, status=IngestStatus.IGNORED.value, reason=reason)
    _set_source(record, source)
    if not _claim(session, record, savepoints):
        return IngestOutcome(IngestStatus.DUPLICATE, reason="stored by another worker at the same time")
    session.add(record)
    logger.info("mail ignored", extra={"reason": reason, "record_id": record.id, "mailbox": record.mailbox})
    return IngestOutcome(IngestStatus.IGNORED, reason=reason)


# Outcomes


def _store_quarantined(
    session: Session,
    settings: Settings,
    parsed: ParsedMessage,
    raw: bytes,
    raw_sha256: str,
    source: Source | None,
    record: IngestRecord,
) -> _StoredMail:
    too_large = next((item for item in parsed.problems if split_problem(item)[0] == "too_large"), None)
    reason = parsed.unreadable or too_large or problem("too_large")
    ticket = new_ticket(session, settings, parsed, source.mailbox if source else None)
    ticket.status = TicketStatus.QUARANTINED
    ticket.quarantine_reason = reason
    message = store_message(session, settings, ticket, parsed, raw, raw_sha256, source, keep_raw=True)
    return _StoredMail("quarantined", parsed, record, ticket, message, created=True, reason=reason)


def _complete_quarantined(session: Session, stored: _StoredMail) -> IngestOutcome:
    ticket, message = stored.ticket, stored.message
    add_event(session, ticket, "quarantined", message_id=message.id)
    _finish(session, stored.record, IngestStatus.QUARANTINED, ticket, message, stored.reason)
    logger.warning("mail quarantined", extra={"ticket_id": ticket.id, "message_row_id": message.id})
    return IngestOutcome(IngestStatus.QUARANTINED, ticket.id, message.id, stored.reason)


def _store_automatic(
    session: Session,
    settings: Settings,
    parsed: ParsedMessage,
    raw: bytes,
    raw_sha256: str,
    source: Source | None,
    record: IngestRecord,
    pending_tickets: Mapping[str, Ticket] | None,
) -> IngestOutcome | _StoredMail:
    """Attach automatic mail to the ticket it concerns, without reopening it; ignore the rest."""
    bounced = _bounced_messages(session, parsed)
    if bounced:
        ticket = bounced[0].ticket
    else:
        sender_hash = address_hash(settings, parsed.from_address) if parsed.from_address else None
        ticket = find_ticket(session, parsed, sender_hash, pending_tickets)

    if ticket is None:
        _finish(session, record, IngestStatus.IGNORED, None, None, parsed.automatic)
        logger.info("automatic mail ignored", extra={"reason": parsed.automatic, "record_id": record.id})
        return IngestOutcome(IngestStatus.IGNORED, reason=parsed.automatic, automatic=True)

    message = store_message(session, settings, ticket, parsed, raw, raw_sha256, source)
    return _StoredMail("automatic", parsed, record, ticket, message, reason=parsed.automatic, bounced=bounced)


def _complete_automatic(session: Session, stored: _StoredMail) -> IngestOutcome:
    parsed, ticket, message = stored.parsed, stored.ticket, stored.message
    add_event(session, ticket, "automatic_message", message_id=message.id, reason=parsed.automatic)
    for outbound in stored.bounced:
        if parsed.bounce is not None and parsed.bounce.failed:
            outbound.delivery_state = DeliveryState.BOUNCED
            outbound.delivery_error = redacted(parsed.bounce.reason)[:MAX_DELIVERY_ERROR_LENGTH]
            add_event(session, outbound.ticket, "reply_bounced", message_id=outbound.id, bounce_message_id=message.id)

    _finish(session, stored.record, IngestStatus.INGESTED, ticket, message, parsed.automatic)
    logger.info("automatic mail attached", extra={"ticket_id": ticket.id, "message_row_id": message.id})
    return IngestOutcome(IngestStatus.INGESTED, ticket.id, message.id, parsed.automatic, automatic=True)


def _bounced_messages(session: Session, parsed: ParsedMessage) -> list[Message]:
    if parsed.bounce is None or not parsed.bounce.original_message_ids:
        return []
    return list(
        session.scalars(
            select(Message)
            .where(
                Message.message_id.in_(parsed.bounce.original_message_ids),
                Message.direction == Direction.OUTBOUND,
            )
            .order_by(Message.id)
        )
    )


def _store_client_mail(
    session: Session,
    settings: Settings,
    parsed: ParsedMessage,
    raw: bytes,
    raw_sha256: str,
    source: Source | None,
    record: IngestRecord,
    savepoints: bool,
    pending_tickets: Mapping[str, Ticket] | None,
) -> _StoredMail:
    sender_hash = address_hash(settings, parsed.from_address) if parsed.from_address else None
    thread = find_client_ticket(session, parsed, sender_hash, pending_tickets)
    ticket = thread.ticket
    created = ticket is None
    if created:
        ticket = new_ticket(session, settings, parsed, source.mailbox if source else None)

    message = store_message(session, settings, ticket, parsed, raw, raw_sha256, source)
    ticket.last_message_at = utcnow()
    # Only a new ticket's INSERT gains from annotation. A reply's values are
    # set by the ingest steps, in the order of the batch, after the steps of
    # the earlier mails on its ticket.
    if created:
        _run_annotators(session, settings, ticket, message, savepoints)
    return _StoredMail("client", parsed, record, ticket, message, created=created, other_sender_ticket=thread.other_sender_ticket)


def _complete_client_mail(session: Session, settings: Settings, stored: _StoredMail, savepoints: bool) -> IngestOutcome:
    ticket, message = stored.ticket, stored.message
    if stored.created:
        mark_created(session, ticket.id)
        add_event(session, ticket, "created", message_id=message.id)
        other = stored.other_sender_ticket
        if other is not None:
            # The events store ids only, so staff see that the tickets are linked without either address.
            add_event(session, ticket, "reply_from_other_address", message_id=message.id, ticket_id=other.id)
            add_event(session, other, "other_address_replied", message_id=message.id, ticket_id=ticket.id)
    else:
        add_event(session, ticket, "client_reply", message_id=message.id)
        if ticket.status in REOPENED_BY_CLIENT:
            add_event(session, ticket, "reopened", message_id=message.id, previous_status=ticket.status.value)
            ticket.status = TicketStatus.OPEN

    _finish(session, stored.record, IngestStatus.INGESTED, ticket, message, None)
    _run_ingest_steps(session, settings, ticket, message, savepoints)
    logger.info(
        "mail ingested",
        extra={
            "ticket_id": ticket.id,
            "message_row_id": message.id,
            "new_ticket": stored.created,
            "mailbox": stored.record.mailbox,
        },
    )
    return IngestOutcome(IngestStatus.INGESTED, ticket.id, message.id)


def _finish(
    session: Session,
    record: IngestRecord,
    status: IngestStatus,
    ticket: Ticket | None,
    message: Message | None,
    reason: str | None,
) -> None:
    """Set the record's outcome, and insert it when a claim without savepoints deferred that.

    The deferred record goes in as a Core row (helpdesk.deferred_rows), so a
    batch writes all its records in one statement. When another worker won
    the claim, that insert fails.
    """
    record.status = status.value
    record.ticket_id = ticket.id if ticket is not None else None
    record.message_row_id = message.id if message is not None else None
    record.reason = reason[:MAX_REASON_LENGTH] if reason else None
    if inspect(record).transient:
        insert_rows(session, IngestRecord.__table__, [_record_row(record)])


def _record_row(record: IngestRecord) -> dict:
    row = {column.key: getattr(record, column.key) for column in RECORD_COLUMNS}
    row["created_at"] = row["created_at"] or utcnow()
    return row


def _run_annotators(session: Session, settings: Settings, ticket: Ticket, message: Message, savepoints: bool) -> None:
    """Run each registered annotator on a client mail whose rows are not written yet.

    Annotators write no rows, so a failing one needs no savepoint: the mail
    is stored without its values, and the ingest steps compute them. Without
    `savepoints` the failure is raised, like a failing step's.
    """
    for annotator in get_registry().ingest_annotators:
        try:
            annotator(session, settings, ticket, message)
        except Exception as error:  # noqa: BLE001 - a plugin bug must not block ingestion; the step computes it again
            if not savepoints or is_connection_error(error):
                raise
            name = getattr(annotator, "__qualname__", type(annotator).__name__)
            logger.exception("ingest annotator failed", extra={"annotator": name, "message_row_id": message.id})


def _run_ingest_steps(
    session: Session, settings: Settings, ticket: Ticket, message: Message, savepoints: bool = True
) -> None:
    """Run each registered step in a savepoint, so a failing step costs only its own work.

    The claim insert has already begun the transaction, which SQLite's driver
    needs for SAVEPOINT to nest instead of committing on release. Without
    `savepoints` a failing step raises, and the caller retries with them.
    A database outage always raises, because the step did not fail.
    """
    for step in get_registry().ingest_steps:
        name = getattr(step, "__qualname__", type(step).__name__)
        if not savepoints:
            step(session, settings, ticket, message)
            continue
        try:
            with session.begin_nested():
                step(session, settings, ticket, message)
        except Exception as error:  # noqa: BLE001 - a plugin bug must not block ingestion; the mail is stored without it
            if is_connection_error(error):
                raise
            logger.exception("ingest step failed", extra={"step": name, "ticket_id": ticket.id, "message_row_id": message.id})
            add_event(session, ticket, "ingest_step_failed", message_id=message.id, step=name)
