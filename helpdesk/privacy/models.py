"""Tombstones of erased messages, so that a later poll cannot bring them back."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from helpdesk.db import Base, utcnow


class ErasedMessage(Base):
    """Keyed hashes of an erased message's identity; no content and no address."""

    __tablename__ = "erased_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id_hash: Mapped[str] = mapped_column(String(64), index=True)
    raw_sha256: Mapped[str | None] = mapped_column(String(64), index=True)
    erased_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
