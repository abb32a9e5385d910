"""The tickets that a session's current transaction inserted.

An ingest step may skip clean-up statements for such a ticket, because no
row committed earlier can refer to a ticket that did not exist then.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

# session.info key of (root transaction, ids of the tickets it inserted).
CREATED_TICKETS_KEY = "helpdesk.created_tickets"


def mark_created(session: Session, ticket_id: int) -> None:
    """Record that the current transaction inserted this ticket."""
    transaction = session.get_transaction()
    entry = session.info.get(CREATED_TICKETS_KEY)
    if entry is None or entry[0] is not transaction:
        entry = (transaction, set())
        session.info[CREATED_TICKETS_KEY] = entry
    entry[1].add(ticket_id)


def created_in_transaction(session: Session, ticket_id: int) -> bool:
    entry = session.info.get(CREATED_TICKETS_KEY)
    return entry is not None and entry[0] is session.get_transaction() and ticket_id in entry[1]
