"""Revealing the original (unredacted) text of one message, always audit-logged."""

from __future__ import annotations

import logging

from sqlalchemy.orm import Session

from helpdesk.accounts.models import AuditEntry, Role, User
from helpdesk.config import Settings
from helpdesk.crypto import decrypt
from helpdesk.tickets.models import Message

logger = logging.getLogger(__name__)

MIN_REASON_LENGTH = 10


class RevealRefused(PermissionError):
    """The original cannot be shown. The message states the reason in Dutch."""


def reveal_original(session: Session, settings: Settings, message_row_id: int, user: User, reason: str) -> str:
    """Return the original text of a message and record who read it and why."""
    if not (user.can_reveal or user.role == Role.ADMIN):
        raise RevealRefused("Je hebt geen recht om originele berichten te bekijken.")

    reason = reason.strip()
    if len(reason) < MIN_REASON_LENGTH:
        raise RevealRefused(
            f"Geef een reden van minstens {MIN_REASON_LENGTH} tekens op om het origineel te bekijken."
        )

    message = session.get(Message, message_row_id)
    if message is None:
        raise RevealRefused(f"Bericht {message_row_id} bestaat niet (meer).")
    if message.original_encrypted is None:
        raise RevealRefused(
            "Het origineel van dit bericht is niet bewaard of al verwijderd na de bewaartermijn."
        )

    session.add(
        AuditEntry(
            user_id=user.id,
            action="reveal",
            object_type="message",
            object_id=str(message.id),
            reason=reason[:500],
            detail={"ticket_id": message.ticket_id},
        )
    )
    session.flush()
    logger.info("original revealed", extra={"message_id": message.id, "user_id": user.id})
    return decrypt(settings, message.original_encrypted)
