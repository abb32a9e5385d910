"""Poll state per mailbox and folder, and the ingest transactions (one mail or one batch) that advance it."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from helpdesk.config import Settings
from helpdesk import metrics
from helpdesk.db import session_scope, utcnow
from helpdesk.ingest.errors import is_connection_error
from helpdesk.ingest.known import KnownMail, find_known_mail
from helpdesk.ingest.models import MailboxState
from helpdesk.ingest.outcomes import IngestOutcome, IngestStatus, Source
from helpdesk.ingest.prepare import PreparedMail, prepared_results
from helpdesk.ingest.pipeline import ingest_raw, ingest_without_savepoints, quarantine_raw
from helpdesk.mail.problems import problem
from helpdesk.row_ids import assign_row_ids

logger = logging.getLogger(__name__)

MAX_ERROR_LENGTH = 1000


@dataclass
class PollSummary:
    mailbox: str
    folder: str
    fetched: int = 0
    ingested: int = 0
    duplicates: int = 0
    quarantined: int = 0
    ignored: int = 0
    ticket_ids: list[int] = field(default_factory=list)
    uidvalidity_changed: bool = False
    error: str | None = None  # the failure that ended the poll
    warnings: list[str] = field(default_factory=list)  # failures after which the poll went on
    # The members of ticket_ids, because searching the list for each mail is quadratic in a large backlog.
    _seen_ticket_ids: set[int] = field(default_factory=set, init=False, repr=False, compare=False)

    def count(self, outcome: IngestOutcome) -> None:
        self.fetched += 1
        if outcome.status == IngestStatus.INGESTED:
            self.ingested += 1
        elif outcome.status == IngestStatus.DUPLICATE:
            self.duplicates += 1
        elif outcome.status == IngestStatus.QUARANTINED:
            self.quarantined += 1
        else:
            self.ignored += 1
        if outcome.ticket_id is not None and outcome.ticket_id not in self._seen_ticket_ids:
            self._seen_ticket_ids.add(outcome.ticket_id)
            self.ticket_ids.append(outcome.ticket_id)

    def as_dict(self) -> dict:
        return {
            "mailbox": self.mailbox,
            "folder": self.folder,
            "fetched": self.fetched,
            "ingested": self.ingested,
            "duplicates": self.duplicates,
            "quarantined": self.quarantined,
            "ignored": self.ignored,
            "ticket_ids": self.ticket_ids,
            "uidvalidity_changed": self.uidvalidity_changed,
            "error": self.error,
            "warnings": self.warnings,
        }


def mailbox_state(session: Session, mailbox: str, folder: str) -> MailboxState:
    """Return the state row of a mailbox folder, creating it when missing."""
    query = select(MailboxState).where(MailboxState.mailbox == mailbox, MailboxState.folder == folder)
    state = session.scalars(query).first()
    if state is not None:
        return state
    state = MailboxState(mailbox=mailbox, folder=folder, last_uid=0, consecutive_failures=0)
    try:
        with session.begin_nested():
            session.add(state)
    except IntegrityError:
        # Another poller created it between the select and the insert.
        state = session.scalars(query).one()
    return state


def read_state(settings: Settings, mailbox: str, folder: str) -> tuple[int | None, int]:
    """Return the stored UIDVALIDITY and last UID of a mailbox folder."""
    with session_scope(settings) as session:
        state = mailbox_state(session, mailbox, folder)
        return state.uidvalidity, state.last_uid


def start_scan(settings: Settings, mailbox: str, folder: str, uidvalidity: int | None) -> tuple[int, bool]:
    """Return the last processed UID, reset to 0 (and True) when UIDVALIDITY changed."""
    with session_scope(settings) as session:
        state = mailbox_state(session, mailbox, folder)
        state.last_polled_at = utcnow()
        changed = state.uidvalidity is not None and uidvalidity is not None and state.uidvalidity != uidvalidity
        if changed:
            logger.warning(
                "UIDVALIDITY changed, scanning the folder again",
                extra={"mailbox": mailbox, "folder": folder, "old": state.uidvalidity, "new": uidvalidity},
            )
            state.last_uid = 0
        state.uidvalidity = uidvalidity
        return state.last_uid, changed


def ingest_one(settings: Settings, raw: bytes, source: Source) -> IngestOutcome:
    """Ingest one mail and advance the folder's last UID in the same transaction.

    When ingestion fails for a reason other than the mail's content (a bug, a
    rejected value), the mail is quarantined with its raw copy in a second
    transaction, so one bad mail does not block the mailbox. A database
    outage (see helpdesk.ingest.errors) propagates instead, and so does a
    failure of the quarantine itself; the next poll retries the mail.
    """
    try:
        with session_scope(settings) as session:
            outcome = ingest_raw(session, settings, raw, source)
            _advance(session, source)
        metrics.record_inbound(source.mailbox, outcome.status)
        return outcome
    except Exception as error:  # noqa: BLE001 - retried below as quarantine; raised again if that fails too
        if is_connection_error(error):
            raise
        logger.exception("ingest failed, quarantining the mail", extra={"mailbox": source.mailbox, "uid": source.uid})
        reason = problem("ingest_failed", type(error).__name__)

    with session_scope(settings) as session:
        outcome = quarantine_raw(session, settings, raw, source, reason)
        _advance(session, source)
    metrics.record_inbound(source.mailbox, outcome.status)
    return outcome


def ingest_batch(
    settings: Settings, mails: list[tuple[bytes, Source]], prepared: dict[str, PreparedMail] | None = None
) -> list[IngestOutcome]:
    """Ingest several mails of one folder in one transaction that also advances the folder's last UID.

    One commit per batch instead of one per mail. The batch is first stored
    in a single savepoint without one per mail. When any mail fails there
    (bad content, a plugin bug, a claim that another worker won), that
    savepoint is rolled back and every mail runs in its own savepoint: a mail
    that fails is quarantined and a lost claim is reported a duplicate,
    without undoing the others. A database outage (see
    helpdesk.ingest.errors) propagates: nothing of the batch is stored and
    the last UID stays, so the next poll ingests the whole batch again. The
    same holds when the commit fails.

    `prepared` contains the batch's parsing, redaction and preparer results
    by raw SHA-256 (helpdesk.ingest.prepare); what is missing is computed here.
    """
    if not mails:
        return []
    mailbox, folder = mails[0][1].mailbox, mails[0][1].folder
    if mailbox is None or folder is None:
        raise ValueError("ingest_batch needs mail with a mailbox and folder; use ingest_one for other mail")

    prepared = prepared or {}
    parsed_by_hash = {sha256: mail.parsed for sha256, mail in prepared.items() if mail.parsed is not None}
    with prepared_results(prepared), session_scope(settings) as session:
        state = mailbox_state(session, mailbox, folder)
        # An UPDATE as the first write opens the transaction. On SQLite a
        # SAVEPOINT that opens it would commit each mail on release.
        state.updated_at = utcnow()
        session.flush()

        known = find_known_mail(session, settings, [raw for raw, _ in mails], parsed_by_hash)
        outcomes = _ingest_mails(session, settings, mails, known)

        uids = [source.uid for _, source in mails if source.uid is not None]
        state.last_uid = max([state.last_uid or 0, *uids])

    # Counted after the commit, so a batch that rolled back is not counted.
    for outcome in outcomes:
        metrics.record_inbound(mailbox, outcome.status)
    return outcomes


def _ingest_mails(
    session: Session, settings: Settings, mails: list[tuple[bytes, Source]], known: KnownMail
) -> list[IngestOutcome]:
    try:
        # Without autoflush, the batch's rows go to the database in two
        # flushes in all, instead of one or more per mail. The queries in
        # between (threading, routing) need no rows of the batch, except
        # threading a reply to a mail of the same batch, and
        # ingest_without_savepoints completes the earlier mails before that.
        with session.begin_nested(), session.no_autoflush:
            outcomes = ingest_without_savepoints(session, settings, mails, known)
            # Flushed inside the savepoint, so that a failing insert rolls it back here.
            assign_row_ids(session)
            session.flush()
        return outcomes
    except Exception as error:  # noqa: BLE001 - the batch is ingested again below, mail by mail
        if is_connection_error(error):
            raise
        logger.warning(
            "batch ingest failed, ingesting its mails one savepoint each",
            extra={"mailbox": mails[0][1].mailbox, "mails": len(mails), "error": type(error).__name__},
        )
    return [_ingest_in_savepoint(session, settings, raw, source, known) for raw, source in mails]


def _ingest_in_savepoint(
    session: Session, settings: Settings, raw: bytes, source: Source, known: KnownMail
) -> IngestOutcome:
    try:
        with session.begin_nested():
            return ingest_raw(session, settings, raw, source, known)
    except Exception as error:  # noqa: BLE001 - retried below as quarantine; raised again if that fails too
        if is_connection_error(error):
            raise
        logger.exception("ingest failed, quarantining the mail", extra={"mailbox": source.mailbox, "uid": source.uid})
        reason = problem("ingest_failed", type(error).__name__)

    with session.begin_nested():
        return quarantine_raw(session, settings, raw, source, reason)


def _advance(session: Session, source: Source) -> None:
    if source.mailbox is None or source.folder is None or source.uid is None:
        return
    state = mailbox_state(session, source.mailbox, source.folder)
    state.last_uid = max(state.last_uid or 0, source.uid)


def record_success(settings: Settings, mailbox: str, folder: str, warnings: list[str] | None = None) -> None:
    """Store a completed poll; its warnings stay visible in last_error until the next poll."""
    with session_scope(settings) as session:
        state = mailbox_state(session, mailbox, folder)
        state.last_success_at = utcnow()
        state.last_error = "; ".join(warnings)[:MAX_ERROR_LENGTH] if warnings else None
        state.consecutive_failures = 0


def record_failure(settings: Settings, mailbox: str, folder: str, error: str) -> None:
    """Store a poll failure for administrators; the text names the failure, never message content."""
    with session_scope(settings) as session:
        state = mailbox_state(session, mailbox, folder)
        state.last_polled_at = utcnow()
        state.last_error = error[:MAX_ERROR_LENGTH]
        state.consecutive_failures = (state.consecutive_failures or 0) + 1
    metrics.record_poll_error(mailbox)
