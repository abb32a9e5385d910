"""Import every core model so that Base.metadata contains all core tables."""

from helpdesk.accounts.models import AuditEntry, Role, User
from helpdesk.ingest.models import IngestRecord, MailboxState
from helpdesk.privacy.models import ErasedMessage
from helpdesk.teams.models import MailboxRoute, Team
from helpdesk.tickets.macros import Macro
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
from helpdesk.tickets.presence import TicketPresence

__all__ = [
    "Attachment",
    "AuditEntry",
    "DeliveryState",
    "ErasedMessage",
    "IngestRecord",
    "Direction",
    "Macro",
    "MailboxRoute",
    "MailboxState",
    "Message",
    "Note",
    "Role",
    "Suggestion",
    "Team",
    "Ticket",
    "TicketEvent",
    "TicketPresence",
    "TicketStatus",
    "User",
]
