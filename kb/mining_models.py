"""The stored result of question mining and the public searches that found nothing."""

from __future__ import annotations

import datetime as dt
from typing import Optional

from sqlalchemy import Boolean, Date, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from helpdesk.db import Base, utcnow


class MiningRun(Base):
    """One run of `kb.mining.run_mining`: its window and what it found."""

    __tablename__ = "kb_mining_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    started_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    finished_at: Mapped[Optional[dt.datetime]] = mapped_column()
    window_days: Mapped[int] = mapped_column(Integer)
    window_start: Mapped[dt.datetime] = mapped_column()
    window_end: Mapped[dt.datetime] = mapped_column()
    question_count: Mapped[int] = mapped_column(Integer, default=0)  # mails and missed searches in the window
    clustered_count: Mapped[int] = mapped_column(Integer, default=0)  # less than question_count when sampled
    group_count: Mapped[int] = mapped_column(Integer, default=0)

    groups: Mapped[list["QuestionGroup"]] = relationship(
        back_populates="run", order_by="QuestionGroup.rank", cascade="all, delete-orphan"
    )


class QuestionGroup(Base):
    """Similar client questions of one mining run, with how well a published article covers them."""

    __tablename__ = "kb_question_groups"

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("kb_mining_runs.id", ondelete="CASCADE"), index=True)
    rank: Mapped[int] = mapped_column(Integer)
    size: Mapped[int] = mapped_column(Integer)  # questions in the whole window
    current_count: Mapped[int] = mapped_column(Integer)  # in the newer half of the window
    previous_count: Mapped[int] = mapped_column(Integer)  # in the older half
    priority: Mapped[float] = mapped_column(Float)  # size weighted by growth; the sort key of the to-do list
    language: Mapped[str] = mapped_column(String(8), default="nl")
    theme: Mapped[str] = mapped_column(String(64), default="")
    label: Mapped[str] = mapped_column(Text, default="")  # the group's most weighted words
    centroid_text: Mapped[str] = mapped_column(Text, default="")  # the query that coverage was scored with
    examples: Mapped[list] = mapped_column(default=list)  # redacted example questions
    ticket_ids: Mapped[list] = mapped_column(default=list)
    search_queries: Mapped[int] = mapped_column(Integer, default=0)  # missed public searches in the group
    best_slug: Mapped[Optional[str]] = mapped_column(String(128))
    best_title: Mapped[str] = mapped_column(Text, default="")
    coverage_score: Mapped[float] = mapped_column(Float, default=0.0)
    covered: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    article_id: Mapped[Optional[int]] = mapped_column(ForeignKey("kb_articles.id", ondelete="SET NULL"))

    run: Mapped[MiningRun] = relationship(back_populates="groups")

    @property
    def growth(self) -> float:
        """Return the newer half's count relative to the older half's (1.0 is flat)."""
        return (self.current_count + 1) / (self.previous_count + 1)


class SearchMiss(Base):
    """Public FAQ searches that found nothing, counted per normalised query, language and day.

    Stores no address, cookie or time of day, only the redacted query and a count.
    """

    __tablename__ = "kb_search_misses"

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, index=True)
    language: Mapped[str] = mapped_column(String(8))
    query: Mapped[str] = mapped_column(String(200))
    count: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (UniqueConstraint("day", "language", "query", name="uq_kb_search_misses_day_language_query"),)
