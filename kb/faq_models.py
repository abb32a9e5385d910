"""Public FAQ data beside the articles: illustrations and the aggregate 'was this helpful?' votes."""

from __future__ import annotations

import datetime as dt
from typing import Optional

from sqlalchemy import Date, ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from helpdesk.db import Base, utcnow


class ArticleImage(Base):
    """An illustration of one article, re-encoded on upload so that no camera metadata survives."""

    __tablename__ = "kb_article_images"

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("kb_articles.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    content_type: Mapped[str] = mapped_column(String(32))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    alt: Mapped[str] = mapped_column(Text)
    uploaded_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    uploaded_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    @property
    def extension(self) -> str:
        return {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp"}[self.content_type]

    @property
    def filename(self) -> str:
        """The public file name; it changes with the content, so browsers may cache it for good."""
        return f"{self.id}-{self.sha256[:16]}.{self.extension}"


class ArticleVote(Base):
    """'Was this helpful?' votes on one article (slug and language), counted per day.

    Stores counts only: no address, cookie or time of day.
    """

    __tablename__ = "kb_article_votes"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(128), index=True)
    language: Mapped[str] = mapped_column(String(8))
    day: Mapped[dt.date] = mapped_column(Date)
    helpful: Mapped[int] = mapped_column(Integer, default=0)
    not_helpful: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (UniqueConstraint("slug", "language", "day", name="uq_kb_article_votes_slug_language_day"),)
