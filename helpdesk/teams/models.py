"""Teams, their members and the routes from mailboxes to teams."""

from __future__ import annotations

import datetime as dt
from typing import Optional

from sqlalchemy import Column, ForeignKey, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from helpdesk.accounts.models import User
from helpdesk.db import Base, utcnow

MAX_TEAM_NAME_LENGTH = 100
MAX_ADDRESS_LENGTH = 254  # RFC 5321: the longest address that fits in a MAIL FROM path
MAX_DISPLAY_NAME_LENGTH = 100

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
    """The settings of one mailbox: new tickets from `mailbox` go to `team`, replies come from `reply_address`.

    `mailbox` is the key that ingestion stores on tickets and in MailboxState
    (helpdesk.ingest.sources), so it never contains a password. A route
    without a team only sets a reply address, and without a reply address
    replies come from HELPDESK_FROM_ADDRESS.
    """

    __tablename__ = "mailbox_routes"

    id: Mapped[int] = mapped_column(primary_key=True)
    mailbox: Mapped[str] = mapped_column(String(128), unique=True)
    team_id: Mapped[Optional[int]] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), index=True)
    reply_address: Mapped[Optional[str]] = mapped_column(String(MAX_ADDRESS_LENGTH))
    reply_name: Mapped[Optional[str]] = mapped_column(String(MAX_DISPLAY_NAME_LENGTH))
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    team: Mapped[Optional[Team]] = relationship(back_populates="routes")
