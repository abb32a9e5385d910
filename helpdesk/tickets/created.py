"""The tickets that a session's current transaction inserted.

An ingest step may skip clean-up statements for such a ticket, because no
row committed earlier can refer to a ticket that did not exist then.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

# session.info key of the ids of the tickets that the current transaction inserted.
CREATED_TICKETS_KEY = "helpdesk.created_tickets"


def transaction_ids(session: Session, key: str) -> set[int]:
    """Return the set of ids stored under session.info[key] for the current root transaction.

    A new transaction starts with an empty set, so ids never outlive the
    transaction that recorded them.
    """
    transaction = session.get_transaction()
    entry = session.info.get(key)
    if entry is None or entry[0] is not transaction:
        entry = (transaction, set())
        session.info[key] = entry
    return entry[1]


def mark_created(session: Session, ticket_id: int) -> None:
    """Record that the current transaction inserted this ticket."""
    transaction_ids(session, CREATED_TICKETS_KEY).add(ticket_id)


def created_in_transaction(session: Session, ticket_id: int) -> bool:
    return ticket_id in transaction_ids(session, CREATED_TICKETS_KEY)
