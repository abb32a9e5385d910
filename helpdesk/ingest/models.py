"""Per-mailbox poll state: where the last poll stopped and what went wrong."""

from __future__ import annotations

import datetime as dt
from typing import Optional

from sqlalchemy import BigInteger, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from helpdesk.db import Base, utcnow


class MailboxState(Base):
    __tablename__ = "mailbox_states"

    id: Mapped[int] = mapped_column(primary_key=True)
    mailbox: Mapped[str] = mapped_column(String(128))  # a stable key without the password
    folder: Mapped[str] = mapped_column(String(255), default="INBOX")
    uidvalidity: Mapped[Optional[int]] = mapped_column(BigInteger)
    last_uid: Mapped[int] = mapped_column(BigInteger, default=0)
    last_polled_at: Mapped[Optional[dt.datetime]] = mapped_column()
    last_success_at: Mapped[Optional[dt.datetime]] = mapped_column()
    last_error: Mapped[Optional[str]] = mapped_column(Text)  # no message content, only the failure
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    __table_args__ = (UniqueConstraint("mailbox", "folder", name="uq_mailbox_states_mailbox_folder"),)
