"""Knowledge-base articles and the saved versions behind their history."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Optional

from sqlalchemy import Date, Enum, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from helpdesk.db import Base, utcnow

LANGUAGES = ("nl", "fr", "en")
DEFAULT_LANGUAGE = "nl"


class ArticleStatus(str, enum.Enum):
    DRAFT = "draft"
    IN_REVIEW = "in_review"
    PUBLISHED = "published"
    ARCHIVED = "archived"


def _status_enum() -> Enum:
    # Lower-case values with a CHECK constraint, as the core models store their enums.
    return Enum(
        ArticleStatus,
        name="article_status",
        native_enum=False,
        length=20,
        values_callable=lambda members: [member.value for member in members],
    )


# The fields that make up an article's content: a change to any of them is a new version.
CONTENT_FIELDS = ("theme", "title", "short_answer", "body", "keywords", "sources", "last_checked")


class Article(Base):
    """One language version of an FAQ article; translations share the slug of the Dutch one."""

    __tablename__ = "kb_articles"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(128), index=True)
    language: Mapped[str] = mapped_column(String(8))
    theme: Mapped[str] = mapped_column(String(64), default="", index=True)
    title: Mapped[str] = mapped_column(Text, default="")
    short_answer: Mapped[str] = mapped_column(Text, default="")
    body: Mapped[str] = mapped_column(Text, default="")  # Markdown
    keywords: Mapped[list] = mapped_column(default=list)  # list of strings
    sources: Mapped[list] = mapped_column(default=list)  # list of {"title": ..., "url": ...}
    last_checked: Mapped[Optional[dt.date]] = mapped_column(Date)
    status: Mapped[ArticleStatus] = mapped_column(_status_enum(), default=ArticleStatus.DRAFT, index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    versions: Mapped[list["ArticleVersion"]] = relationship(
        back_populates="article", order_by="ArticleVersion.version", cascade="all, delete-orphan"
    )

    __table_args__ = (UniqueConstraint("slug", "language", name="uq_kb_articles_slug_language"),)

    def content(self) -> dict:
        """Return the content fields as a plain dict, as stored in a version."""
        return {name: getattr(self, name) for name in CONTENT_FIELDS}


class ArticleVersion(Base):
    """A saved state of an article's content, kept for its history and for restoring."""

    __tablename__ = "kb_article_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("kb_articles.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    theme: Mapped[str] = mapped_column(String(64), default="")
    title: Mapped[str] = mapped_column(Text, default="")
    short_answer: Mapped[str] = mapped_column(Text, default="")
    body: Mapped[str] = mapped_column(Text, default="")
    keywords: Mapped[list] = mapped_column(default=list)
    sources: Mapped[list] = mapped_column(default=list)
    last_checked: Mapped[Optional[dt.date]] = mapped_column(Date)
    saved_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    saved_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    article: Mapped[Article] = relationship(back_populates="versions")

    __table_args__ = (UniqueConstraint("article_id", "version", name="uq_kb_article_versions_article_version"),)

    def content(self) -> dict:
        """Return the content fields of this version as a plain dict."""
        return {name: getattr(self, name) for name in CONTENT_FIELDS}
