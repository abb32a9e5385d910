"""Data of the ticket page: the ticket with everything it shows, and the articles staff can insert."""

from __future__ import annotations

from flask import abort, flash
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from admin.db import current_settings, db
from helpdesk.tickets.models import Message, Ticket


def load_ticket(ticket_id: int) -> Ticket:
    """Load a ticket with its messages, attachments, suggestions, notes and events in a fixed number of queries."""
    query = (
        select(Ticket)
        .where(Ticket.id == ticket_id)
        .options(
            selectinload(Ticket.messages).selectinload(Message.attachments),
            selectinload(Ticket.suggestions),
            selectinload(Ticket.notes),
            selectinload(Ticket.events),
        )
    )
    ticket = db().scalar(query)
    if ticket is None:
        abort(404)
    return ticket


def flash_form_errors(form) -> None:
    for field_name, errors in form.errors.items():
        label = getattr(form, field_name).label.text if hasattr(form, field_name) else field_name
        for error in errors:
            flash(f"{label}: {error}", "error")


def published_articles(language: str) -> list[tuple[str, str]]:
    """Return (slug, title) of published articles for the insert list, in `language` or else Dutch."""
    from kb.models import DEFAULT_LANGUAGE, Article, ArticleStatus

    rows = db().execute(
        select(Article.slug, Article.language, Article.title).where(
            Article.status == ArticleStatus.PUBLISHED, Article.language.in_({language, DEFAULT_LANGUAGE})
        )
    ).all()
    titles: dict[str, str] = {}
    for row in sorted(rows, key=lambda row: row.language == language):
        titles[row.slug] = row.title or row.slug  # the ticket's language wins over Dutch
    return sorted(titles.items(), key=lambda item: item[1].lower())


def article_titles(slugs: list[str], language: str) -> dict[str, str]:
    """Return the title of each article slug in `language`, else in Dutch; a slug without any article is left out."""
    from kb.models import DEFAULT_LANGUAGE, Article

    if not slugs:
        return {}
    rows = db().execute(
        select(Article.slug, Article.language, Article.title).where(
            Article.slug.in_(set(slugs)), Article.language.in_({language, DEFAULT_LANGUAGE})
        )
    ).all()
    titles: dict[str, str] = {}
    for row in sorted(rows, key=lambda row: row.language == language):
        if row.title:
            titles[row.slug] = row.title  # the ticket's language wins over Dutch
    return titles


def shown_terms(terms: list[str], language: str | None) -> list[str]:
    """Return the matched words worth showing to staff: no stop words, not even the ones (niet, geen) that search keeps."""
    from kb.text import MEANINGFUL_STOP_WORDS, fold, stop_words

    ignored = stop_words(language or "nl") | MEANINGFUL_STOP_WORDS
    return [term for term in terms if fold(term) not in ignored]


def article_snippet(slug: str, language: str) -> str | None:
    """Return the text an inserted article adds to a draft: title, short answer and FAQ link."""
    from kb.drafts import faq_url
    from kb.models import DEFAULT_LANGUAGE, Article, ArticleStatus

    rows = db().scalars(
        select(Article).where(
            Article.slug == slug, Article.status == ArticleStatus.PUBLISHED, Article.language.in_({language, DEFAULT_LANGUAGE})
        )
    ).all()
    if not rows:
        return None
    article = next((row for row in rows if row.language == language), rows[0])
    return f"{article.title}\n{article.short_answer.strip()}\n{faq_url(current_settings(), article.language, slug)}"
