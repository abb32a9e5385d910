"""The team that a new ticket goes to, from the mailbox its first mail came in on."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from helpdesk.teams.models import MailboxRoute

# session.info key of the routes that the session's current transaction has looked up.
TRANSACTION_ROUTES_KEY = "helpdesk.transaction_routes"


def team_for_mailbox(session: Session, mailbox: str | None) -> int | None:
    """Return the id of the team that new tickets from `mailbox` (a mailbox key) go to, or None.

    A batch of mails ingested in one transaction thus makes one query per
    mailbox instead of one per new ticket. A route changed while the
    transaction runs is used from the next one.
    """
    if not mailbox:
        return None
    routes = _transaction_routes(session)
    if mailbox not in routes:
        routes[mailbox] = session.scalar(select(MailboxRoute.team_id).where(MailboxRoute.mailbox == mailbox))
    return routes[mailbox]


def _transaction_routes(session: Session) -> dict[str, int | None]:
    transaction = session.get_transaction()
    cached = session.info.get(TRANSACTION_ROUTES_KEY)
    if transaction is not None and cached is not None and cached[0] is transaction:
        return cached[1]
    routes: dict[str, int | None] = {}
    session.info[TRANSACTION_ROUTES_KEY] = (transaction, routes)
    return routes
