"""Import every core model so that Base.metadata knows all core tables."""

from helpdesk.accounts.models import AuditEntry, Role, User
from helpdesk.ingest.models import IngestRecord, MailboxState
from helpdesk.privacy.models import ErasedMessage
from helpdesk.tickets.models import (
    Attachment,
    DeliveryState,
    Direction,
    Message,
    Note,
    Suggestion,
    Ticket,
    TicketEvent,
    TicketStatus,
)

__all__ = [
    "Attachment",
    "AuditEntry",
    "DeliveryState",
    "ErasedMessage",
    "IngestRecord",
    "Direction",
    "MailboxState",
    "Message",
    "Note",
    "Role",
    "Suggestion",
    "Ticket",
    "TicketEvent",
    "TicketStatus",
    "User",
]
