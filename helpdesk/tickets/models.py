"""Tickets and the messages, attachments, suggestions and notes that belong to them."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Optional

from sqlalchemy import (
    Boolean,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
)
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column, relationship

from helpdesk.db import Base, utcnow


class TicketStatus(str, enum.Enum):
    NEW = "new"
    OPEN = "open"
    WAITING = "waiting"  # waiting for the client
    CLOSED = "closed"
    QUARANTINED = "quarantined"  # the mail could not be read; staff must look at the raw copy


class Direction(str, enum.Enum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"


class DeliveryState(str, enum.Enum):
    QUEUED = "queued"
    SENDING = "sending"  # claimed by a worker that talks to the mail server now
    SENT = "sent"
    FAILED = "failed"
    BOUNCED = "bounced"


def _enum(enum_class: type[enum.Enum], name: str) -> Enum:
    # Store the lower-case values, not the member names, and use a CHECK
    # constraint instead of a native PostgreSQL type so migrations stay simple.
    return Enum(
        enum_class,
        name=name,
        native_enum=False,
        length=20,
        values_callable=lambda members: [member.value for member in members],
    )


class Ticket(Base):
    __tablename__ = "tickets"

    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[TicketStatus] = mapped_column(
        _enum(TicketStatus, "ticket_status"), default=TicketStatus.NEW, index=True
    )
    subject: Mapped[str] = mapped_column(Text, default="")  # redacted
    language: Mapped[Optional[str]] = mapped_column(String(8), index=True)
    theme: Mapped[Optional[str]] = mapped_column(String(64), index=True)
    urgent: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    urgent_reason: Mapped[Optional[str]] = mapped_column(String(32))
    quarantine_reason: Mapped[Optional[str]] = mapped_column(Text)
    mailbox: Mapped[Optional[str]] = mapped_column(String(128), index=True)
    # Set from the mailbox route when the ticket is created; None means every staff member sees it.
    team_id: Mapped[Optional[int]] = mapped_column(ForeignKey("teams.id", ondelete="SET NULL"), index=True)

    # The sender address is stored only encrypted (Fernet), so that a reply
    # can be sent. sender_hash is a keyed hash that groups one client's
    # tickets and rate-limits acknowledgements without revealing the address.
    sender_encrypted: Mapped[Optional[bytes]] = mapped_column(LargeBinary)
    sender_hash: Mapped[Optional[str]] = mapped_column(String(64), index=True)

    assignee_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    merged_into_id: Mapped[Optional[int]] = mapped_column(ForeignKey("tickets.id", ondelete="SET NULL"))
    draft: Mapped[str] = mapped_column(Text, default="")
    draft_slugs: Mapped[list] = mapped_column(default=list)

    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    last_message_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    first_response_at: Mapped[Optional[dt.datetime]] = mapped_column()
    erased_at: Mapped[Optional[dt.datetime]] = mapped_column()

    messages: Mapped[list["Message"]] = relationship(
        back_populates="ticket", order_by="Message.id", cascade="all, delete-orphan"
    )
    suggestions: Mapped[list["Suggestion"]] = relationship(
        back_populates="ticket", order_by="Suggestion.rank", cascade="all, delete-orphan"
    )
    notes: Mapped[list["Note"]] = relationship(
        back_populates="ticket", order_by="Note.id", cascade="all, delete-orphan"
    )
    events: Mapped[list["TicketEvent"]] = relationship(
        back_populates="ticket", order_by="TicketEvent.id", cascade="all, delete-orphan"
    )

    __table_args__ = (
        Index("ix_tickets_status_urgent_last", "status", "urgent", "last_message_at"),
        # The queue's default order: urgent first, then the longest waiting.
        Index("ix_tickets_urgent_last", urgent.desc(), last_message_at),
    )

    @property
    def reference(self) -> str:
        """The tag put in reply subjects so that a client's answer finds its ticket."""
        return f"[#{self.id}]"


class Message(Base):
    __tablename__ = "messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    direction: Mapped[Direction] = mapped_column(_enum(Direction, "message_direction"))

    # Identity for de-duplication and threading. message_id is the header value
    # without angle brackets, or a value derived from raw_sha256 when missing.
    message_id: Mapped[str] = mapped_column(String(998), index=True)
    raw_sha256: Mapped[Optional[str]] = mapped_column(String(64), unique=True)
    in_reply_to: Mapped[Optional[str]] = mapped_column(Text)
    references: Mapped[Optional[str]] = mapped_column(Text)

    # Where an inbound message came from, so retention and erasure can delete it there.
    mailbox: Mapped[Optional[str]] = mapped_column(String(128))
    folder: Mapped[Optional[str]] = mapped_column(String(255))
    uidvalidity: Mapped[Optional[int]] = mapped_column(Integer)
    uid: Mapped[Optional[int]] = mapped_column(Integer)

    # Redacted text: what staff read by default and what search and mining use.
    subject: Mapped[str] = mapped_column(Text, default="")
    body: Mapped[str] = mapped_column(Text, default="")  # whole text, quotes included
    new_text: Mapped[str] = mapped_column(Text, default="")  # without quotes and signature
    html_sanitized: Mapped[Optional[str]] = mapped_column(Text)  # redacted, sanitised HTML part
    language: Mapped[Optional[str]] = mapped_column(String(8))

    # Originals, encrypted; cleared by retention or never stored (keep_originals=false).
    original_encrypted: Mapped[Optional[bytes]] = mapped_column(LargeBinary)
    raw_encrypted: Mapped[Optional[bytes]] = mapped_column(LargeBinary)
    raw_size: Mapped[int] = mapped_column(Integer, default=0)

    is_automatic: Mapped[bool] = mapped_column(Boolean, default=False)
    automatic_reason: Mapped[Optional[str]] = mapped_column(String(64))
    parse_problem: Mapped[Optional[str]] = mapped_column(Text)

    # Outbound only.
    author_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    delivery_state: Mapped[Optional[DeliveryState]] = mapped_column(_enum(DeliveryState, "delivery_state"), index=True)
    delivery_error: Mapped[Optional[str]] = mapped_column(Text)
    delivery_attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[Optional[dt.datetime]] = mapped_column()
    is_acknowledgement: Mapped[bool] = mapped_column(Boolean, default=False)
    article_slugs: Mapped[list] = mapped_column(default=list)

    received_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    sent_at: Mapped[Optional[dt.datetime]] = mapped_column()

    ticket: Mapped[Ticket] = relationship(back_populates="messages")
    attachments: Mapped[list["Attachment"]] = relationship(
        back_populates="message", order_by="Attachment.id", cascade="all, delete-orphan"
    )

    __table_args__ = (Index("ix_messages_source", "mailbox", "folder", "uidvalidity", "uid"),)


class Attachment(Base):
    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(255), default="")
    content_type: Mapped[str] = mapped_column(String(255), default="application/octet-stream")
    size: Mapped[int] = mapped_column(Integer, default=0)
    content_id: Mapped[Optional[str]] = mapped_column(String(255))
    data_encrypted: Mapped[Optional[bytes]] = mapped_column(LargeBinary)
    dropped_reason: Mapped[Optional[str]] = mapped_column(Text)  # set when too large to keep

    message: Mapped[Message] = relationship(back_populates="attachments")


class Suggestion(Base):
    """An FAQ article proposed for a ticket; the slug refers to a knowledge-base article."""

    __tablename__ = "suggestions"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    message_id: Mapped[Optional[int]] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"))
    slug: Mapped[str] = mapped_column(String(128), index=True)
    title: Mapped[str] = mapped_column(Text, default="")
    score: Mapped[float] = mapped_column(Float, default=0.0)
    rank: Mapped[int] = mapped_column(Integer, default=0)
    confident: Mapped[bool] = mapped_column(Boolean, default=True)
    matched_terms: Mapped[list] = mapped_column(default=list)

    ticket: Mapped[Ticket] = relationship(back_populates="suggestions")


class Note(Base):
    """An internal note by staff; never sent to the client."""

    __tablename__ = "notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    ticket: Mapped[Ticket] = relationship(back_populates="notes")


class TicketEvent(Base):
    """One line of a ticket's history: created, reply sent, status changed, merged..."""

    __tablename__ = "ticket_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(64))
    detail: Mapped[dict] = mapped_column(default=dict)  # ids and states only, never message text
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    ticket: Mapped[Ticket] = relationship(back_populates="events")


class TicketSearchDocument(Base):
    """The full-text document that the queue searches on PostgreSQL, one per ticket with messages.

    A trigger on messages (migration 0004) writes it: the stripped tsvector
    of the redacted subjects and texts of all the ticket's messages. The
    table stays empty on SQLite, where the queue searches messages with LIKE.
    """

    __tablename__ = "ticket_search_documents"

    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True)
    document: Mapped[str] = mapped_column(TSVECTOR().with_variant(Text(), "sqlite"))

    __table_args__ = (Index("ix_ticket_search_documents_document", document, postgresql_using="gin"),)
