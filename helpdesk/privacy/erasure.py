"""Erasure of a ticket on the client's request, and the check that keeps it erased."""

from __future__ import annotations

import hashlib
import hmac
import logging

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from helpdesk.accounts.models import AuditEntry, User
from helpdesk.config import Settings
from helpdesk.privacy.models import ErasedMessage
from helpdesk.privacy.retention import MailboxCopy
from helpdesk.tickets.models import Direction, Ticket

logger = logging.getLogger(__name__)


class TicketNotFound(LookupError):
    pass


def message_id_hash(settings: Settings, message_id: str) -> str:
    return hmac.new(settings.secret_key.encode(), message_id.strip().encode(), hashlib.sha256).hexdigest()


def erase_ticket(
    session: Session, settings: Settings, ticket_id: int, user: User | None, reason: str
) -> list[MailboxCopy]:
    """Delete a ticket with all its messages, attachments, notes and suggestions.

    Each inbound message leaves a tombstone of keyed hashes, so the same mail
    is not ingested again. Returns the copies that may still be on the mail
    server. The caller deletes those after committing.
    """
    ticket = session.get(Ticket, ticket_id)
    if ticket is None:
        raise TicketNotFound(f"Ticket {ticket_id} bestaat niet (meer); controleer het nummer.")

    copies: list[MailboxCopy] = []
    for message in ticket.messages:
        if message.direction != Direction.INBOUND:
            continue
        session.add(
            ErasedMessage(message_id_hash=message_id_hash(settings, message.message_id), raw_sha256=message.raw_sha256)
        )
        if message.mailbox:
            copies.append(MailboxCopy(message.mailbox, message.message_id))

    session.add(
        AuditEntry(
            user_id=user.id if user else None,
            action="erase",
            object_type="ticket",
            object_id=str(ticket_id),
            reason=reason[:500],
            detail={"messages": len(ticket.messages)},
        )
    )
    session.delete(ticket)
    session.flush()
    logger.info("ticket erased", extra={"ticket_id": ticket_id, "messages": len(copies)})
    return copies


def is_erased(session: Session, settings: Settings, message_id: str, raw_sha256: str | None) -> bool:
    """Return whether a message with this identity was erased before."""
    conditions = [ErasedMessage.message_id_hash == message_id_hash(settings, message_id)]
    if raw_sha256:
        conditions.append(ErasedMessage.raw_sha256 == raw_sha256)
    return session.scalar(select(ErasedMessage.id).where(or_(*conditions)).limit(1)) is not None
