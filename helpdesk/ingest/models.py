"""Per-mailbox poll state: where the last poll stopped and what went wrong."""

from __future__ import annotations

import datetime as dt
from typing import Optional

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint
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


class IngestRecord(Base):
    """One processed inbound mail: its identity, its outcome and its source.

    The raw hash and the Message-ID key are unique. So when two workers ingest
    the same mail at once, one record remains and the other worker reports a
    duplicate.
    Ignored mail (auto-replies without a ticket, our own replies) has only
    this record. No content and no address is stored here.
    """

    __tablename__ = "ingest_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    raw_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    message_key: Mapped[str] = mapped_column(String(64), unique=True)  # keyed hash of the Message-ID
    status: Mapped[str] = mapped_column(String(20))  # ingested, quarantined or ignored
    reason: Mapped[Optional[str]] = mapped_column(String(120))  # why it was ignored or quarantined
    ticket_id: Mapped[Optional[int]] = mapped_column(ForeignKey("tickets.id", ondelete="SET NULL"), index=True)
    message_row_id: Mapped[Optional[int]] = mapped_column(ForeignKey("messages.id", ondelete="SET NULL"))
    mailbox: Mapped[Optional[str]] = mapped_column(String(128))
    folder: Mapped[Optional[str]] = mapped_column(String(255))
    uidvalidity: Mapped[Optional[int]] = mapped_column(BigInteger)
    uid: Mapped[Optional[int]] = mapped_column(BigInteger)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    __table_args__ = (Index("ix_ingest_records_source", "mailbox", "folder", "uidvalidity", "uid"),)
