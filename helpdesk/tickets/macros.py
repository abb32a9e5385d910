"""Canned replies (macros): reply snippets per language that staff insert into a draft.

Editors and administrators maintain them; every staff member can insert
them. A macro is plain text that goes to clients as written, so it must not
contain personal details.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Optional

from sqlalchemy import Boolean, ForeignKey, Index, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from helpdesk.accounts.models import Role, User
from helpdesk.accounts.services import audit
from helpdesk.db import Base, utcnow

logger = logging.getLogger(__name__)

LANGUAGES = ("nl", "fr", "en")
MAX_TITLE_LENGTH = 200
MAX_BODY_LENGTH = 20_000
MANAGER_ROLES = frozenset({Role.EDITOR, Role.ADMIN})


class Macro(Base):
    """A canned reply in one language."""

    __tablename__ = "macros"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(MAX_TITLE_LENGTH))
    language: Mapped[str] = mapped_column(String(8), default="nl")
    body: Mapped[str] = mapped_column(Text, default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    __table_args__ = (Index("ix_macros_language_active", "language", "active"),)


class MacroError(ValueError):
    """A macro cannot be saved or used; the message is Dutch text for the screen."""


def validate_macro(title: str, language: str, body: str) -> tuple[str, str, str]:
    """Return the cleaned title, language and body, or raise MacroError naming the problem."""
    title = (title or "").strip()
    body = (body or "").strip()
    if not title:
        raise MacroError("De titel van het standaardantwoord is leeg: geef het een korte naam.")
    if len(title) > MAX_TITLE_LENGTH:
        raise MacroError(f"De titel is {len(title)} tekens lang: houd hem onder {MAX_TITLE_LENGTH}.")
    if language not in LANGUAGES:
        raise MacroError(f"Taal {language!r} bestaat niet: kies nl, fr of en.")
    if not body:
        raise MacroError("De tekst van het standaardantwoord is leeg.")
    if len(body) > MAX_BODY_LENGTH:
        raise MacroError(f"De tekst is {len(body)} tekens lang: houd hem onder {MAX_BODY_LENGTH}.")
    return title, language, body


def can_manage_macros(user: User) -> bool:
    return user.role in MANAGER_ROLES


def prepare_macro(session: Session, user: User, macro: Macro, *, is_new: bool) -> None:
    """Check the user's role and the macro's values before it is stored, and audit-log the change.

    Raises MacroError (in Dutch) for a role that may not manage macros or for
    an invalid value; the caller then rolls back.
    """
    if not can_manage_macros(user):
        raise MacroError("Alleen redacteurs en beheerders mogen standaardantwoorden beheren.")
    macro.title, macro.language, macro.body = validate_macro(macro.title, macro.language, macro.body)
    macro.updated_by_id = user.id
    if macro.active is None:
        macro.active = True
    session.flush()
    audit(session, user, "settings", "macro", macro.id, detail={"change": "macro_created" if is_new else "macro_changed"})
    logger.info("macro saved", extra={"macro_id": macro.id, "user_id": user.id})


def active_macros(session: Session, language: str | None = None) -> list[Macro]:
    """Return the active macros, those in `language` first, each group sorted by title."""
    macros = list(session.scalars(select(Macro).where(Macro.active.is_(True)).order_by(Macro.title)))
    return sorted(macros, key=lambda macro: macro.language != language)
