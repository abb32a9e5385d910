"""The team that a new ticket goes to, from the mailbox its first mail came in on."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from helpdesk.teams.models import MailboxRoute


def team_for_mailbox(session: Session, mailbox: str | None) -> int | None:
    """Return the id of the team that new tickets from `mailbox` (a mailbox key) go to, or None."""
    if not mailbox:
        return None
    return session.scalar(select(MailboxRoute.team_id).where(MailboxRoute.mailbox == mailbox))
