"""Who has a ticket open: the data behind the collision warning on the ticket page.

Each page load and each draft save records the staff member and the time.
Others who did so within PRESENCE_MINUTES are shown as "also viewing". The
page needs no polling: the warning is computed on load and again on sending.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Optional

from sqlalchemy import ForeignKey, UniqueConstraint, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Mapped, Session, mapped_column

from helpdesk.accounts.models import User
from helpdesk.db import Base, as_utc, utcnow

PRESENCE_MINUTES = 5


class TicketPresence(Base):
    """The last time one staff member viewed, and edited the draft of, one ticket."""

    __tablename__ = "ticket_presence"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    viewed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    edited_at: Mapped[Optional[dt.datetime]] = mapped_column()

    __table_args__ = (UniqueConstraint("ticket_id", "user_id", name="uq_ticket_presence_ticket_user"),)


@dataclass(frozen=True)
class Presence:
    user_id: int
    name: str
    editing: bool  # edited the draft within the window, not only viewed


def record_presence(session: Session, ticket_id: int, user: User, *, editing: bool = False, now: dt.datetime | None = None) -> None:
    """Store that `user` has the ticket open now (and is editing its draft when `editing`).

    One upsert, so two tabs of one user that load the page at once cannot
    both insert a row.
    """
    now = now or utcnow()
    insert = postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    changes = {"viewed_at": now, "edited_at": now} if editing else {"viewed_at": now}
    statement = (
        insert(TicketPresence)
        .values(ticket_id=ticket_id, user_id=user.id, viewed_at=now, edited_at=now if editing else None)
        .on_conflict_do_update(index_elements=["ticket_id", "user_id"], set_=changes)
    )
    session.execute(statement)


def others_present(session: Session, ticket_id: int, user: User, now: dt.datetime | None = None) -> list[Presence]:
    """Return the other active staff who viewed or edited the ticket within PRESENCE_MINUTES."""
    now = now or utcnow()
    since = now - dt.timedelta(minutes=PRESENCE_MINUTES)
    rows = session.execute(
        select(TicketPresence.user_id, TicketPresence.edited_at, User.display_name, User.email)
        .join(User, User.id == TicketPresence.user_id)
        .where(
            TicketPresence.ticket_id == ticket_id,
            TicketPresence.user_id != user.id,
            TicketPresence.viewed_at >= since,
            User.active.is_(True),
        )
        .order_by(TicketPresence.viewed_at.desc())
    ).all()
    return [
        Presence(
            user_id=row.user_id,
            name=row.display_name or row.email,
            editing=row.edited_at is not None and as_utc(row.edited_at) >= since,
        )
        for row in rows
    ]
