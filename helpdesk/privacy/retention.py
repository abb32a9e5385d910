"""Scheduled deletion of raw messages, originals and sender addresses.

Each kind of personal data has its own period in the settings
(HELPDESK_RETENTION_RAW_DAYS, _ORIGINAL_DAYS, _SENDER_DAYS). Redacted text
stays: it is what staff, statistics and FAQ mining work on.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from helpdesk.config import Settings
from helpdesk.db import utcnow
from helpdesk.tickets.models import Attachment, Direction, Message, Ticket

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class MailboxCopy:
    """Location of an inbound message that may still be on the mail server."""

    mailbox: str
    message_id: str


@dataclass
class RetentionSummary:
    raw_deleted: int = 0
    originals_deleted: int = 0
    attachments_deleted: int = 0
    senders_deleted: int = 0
    mailbox_copies: list[MailboxCopy] = field(default_factory=list)


def _cutoff(now: dt.datetime, days: int) -> dt.datetime:
    return now - dt.timedelta(days=days)


def apply_retention(session: Session, settings: Settings, now: dt.datetime | None = None) -> RetentionSummary:
    """Delete personal data older than its retention period; return what was deleted.

    The caller commits, then removes `mailbox_copies` from the mail server when
    settings.retention_delete_from_mailbox is on.
    """
    now = now or utcnow()
    summary = RetentionSummary()

    raw_cutoff = _cutoff(now, settings.retention_raw_days)
    expired_raw = select(Message.id, Message.mailbox, Message.message_id).where(
        Message.direction == Direction.INBOUND,
        Message.raw_encrypted.is_not(None),
        Message.received_at < raw_cutoff,
    )
    expired_rows = session.execute(expired_raw).all()
    if expired_rows:
        expired_ids = [row.id for row in expired_rows]
        session.execute(update(Message).where(Message.id.in_(expired_ids)).values(raw_encrypted=None))
        result = session.execute(
            update(Attachment)
            .where(Attachment.message_id.in_(expired_ids), Attachment.data_encrypted.is_not(None))
            .values(data_encrypted=None, dropped_reason="verwijderd na de bewaartermijn")
        )
        summary.raw_deleted = len(expired_ids)
        summary.attachments_deleted = result.rowcount or 0
        if settings.retention_delete_from_mailbox:
            summary.mailbox_copies = [
                MailboxCopy(row.mailbox, row.message_id) for row in expired_rows if row.mailbox
            ]

    original_cutoff = _cutoff(now, settings.retention_original_days)
    result = session.execute(
        update(Message)
        .where(Message.original_encrypted.is_not(None), Message.received_at < original_cutoff)
        .values(original_encrypted=None)
    )
    summary.originals_deleted = result.rowcount or 0

    # A client who keeps writing keeps the address needed for a reply, so the
    # sender period counts from the ticket's last message.
    sender_cutoff = _cutoff(now, settings.retention_sender_days)
    result = session.execute(
        update(Ticket)
        .where(Ticket.sender_encrypted.is_not(None), Ticket.last_message_at < sender_cutoff)
        .values(sender_encrypted=None)
    )
    summary.senders_deleted = result.rowcount or 0

    logger.info(
        "retention applied",
        extra={
            "raw_deleted": summary.raw_deleted,
            "originals_deleted": summary.originals_deleted,
            "attachments_deleted": summary.attachments_deleted,
            "senders_deleted": summary.senders_deleted,
        },
    )
    return summary
