"""Teams, their members and the routes from mailboxes to teams."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Column, ForeignKey, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from helpdesk.accounts.models import User
from helpdesk.db import Base, utcnow

MAX_TEAM_NAME_LENGTH = 100

team_members = Table(
    "team_members",
    Base.metadata,
    Column("team_id", ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class Team(Base):
    """A group of staff that answers the tickets of the mailboxes routed to it."""

    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(MAX_TEAM_NAME_LENGTH), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    members: Mapped[list[User]] = relationship(secondary=team_members, order_by=User.email)
    routes: Mapped[list["MailboxRoute"]] = relationship(
        back_populates="team", order_by="MailboxRoute.mailbox", cascade="all, delete-orphan"
    )


class MailboxRoute(Base):
    """New tickets from `mailbox` go to `team`.

    `mailbox` is the key that ingestion stores on tickets and in MailboxState
    (helpdesk.ingest.sources), so it never contains a password.
    """

    __tablename__ = "mailbox_routes"

    id: Mapped[int] = mapped_column(primary_key=True)
    mailbox: Mapped[str] = mapped_column(String(128), unique=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), index=True)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    team: Mapped[Team] = relationship(back_populates="routes")
