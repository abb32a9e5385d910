"""The automatic acknowledgement of a new question (HELPDESK_AUTOREPLY_ENABLED).

It confirms that the question arrived, states when to expect an answer,
lists the FAQ articles already suggested for the ticket, and carries the
emergency facts (PEP within 72 hours, 112) when the ticket is urgent. It is
written in the question's language when that is known, else in the default
language, and marked `Auto-Submitted: auto-replied` (RFC 3834).

`acknowledge_new_question` runs as an ingest step. It must run after the
knowledge-base step, which sets the language, the urgency and the suggestions.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from helpdesk.config import Settings
from helpdesk.crypto import decrypt
from helpdesk.deferred_rows import write_deferred_rows
from helpdesk.db import utcnow
from helpdesk.outbound.compose import mail_templates, recipient_address
from helpdesk.outbound.services import queue_outbound
from helpdesk.teams.reply_addresses import is_own_address, reply_sender
from helpdesk.tickets.models import Direction, Message, Suggestion, Ticket, TicketStatus

logger = logging.getLogger(__name__)

LANGUAGES = ("nl", "fr", "en")
MAX_LINKED_ARTICLES = 3


@dataclass(frozen=True)
class LinkedArticle:
    slug: str
    title: str
    url: str


def acknowledge_new_question(session: Session, settings: Settings, ticket: Ticket, message: Message) -> Message | None:
    """Queue the acknowledgement for a client's new question, unless a rule forbids it.

    Returns the queued outbound message, or None when nothing was queued.
    """
    reason = skip_reason(session, settings, ticket, message)
    if reason is not None:
        logger.debug("acknowledgement skipped", extra={"ticket_id": ticket.id, "message_row_id": message.id, "reason": reason})
        return None

    language = acknowledgement_language(settings, ticket)
    articles = linked_articles(session, settings, ticket, language)
    body = mail_templates().get_template(f"acknowledgement/{language}.txt.j2").render(
        reference=ticket.reference,
        answer_days=settings.autoreply_answer_days,
        urgent=ticket.urgent,
        articles=articles,
        from_name=reply_sender(session, settings, ticket.mailbox).name,
    )
    return queue_outbound(
        session,
        settings,
        ticket,
        body=body,
        is_acknowledgement=True,
        article_slugs=[article.slug for article in articles],
    )


def skip_reason(session: Session, settings: Settings, ticket: Ticket, message: Message) -> str | None:
    """Return why no acknowledgement may go out for `message`, or None when one may."""
    if not settings.autoreply_enabled:
        return "disabled"
    if message.direction != Direction.INBOUND:
        return "not_inbound"
    # Answering automatic mail (out-of-office notes, bounces, lists) risks a mail loop.
    if message.is_automatic:
        return "automatic_mail"
    if ticket.status == TicketStatus.QUARANTINED or message.parse_problem:
        return "unreadable"
    if ticket.sender_encrypted is None or not ticket.sender_hash:
        return "no_sender"

    recipient = recipient_address(decrypt(settings, ticket.sender_encrypted))
    if recipient is None or is_own_address(session, settings, recipient):
        return "invalid_or_own_address"
    if _is_follow_up(session, ticket, message):
        return "follow_up"
    if _sent_today(session, ticket.sender_hash) >= settings.autoreply_per_sender_per_day:
        return "rate_limited"
    return None


def acknowledgement_language(settings: Settings, ticket: Ticket) -> str:
    """Return the language of the acknowledgement: the question's, else the default, else Dutch."""
    for language in (ticket.language, settings.default_language):
        if language in LANGUAGES:
            return language
    return "nl"


def linked_articles(session: Session, settings: Settings, ticket: Ticket, language: str) -> list[LinkedArticle]:
    """Return the confident FAQ suggestions of `ticket` with their public addresses, best first."""
    # The knowledge-base step of a batch defers its suggestion rows (helpdesk.deferred_rows).
    write_deferred_rows(session)
    suggestions = session.scalars(
        select(Suggestion)
        .where(Suggestion.ticket_id == ticket.id, Suggestion.confident.is_(True))
        .order_by(Suggestion.rank, Suggestion.id)
        .limit(MAX_LINKED_ARTICLES)
    )
    return [
        LinkedArticle(
            slug=suggestion.slug,
            title=suggestion.title or suggestion.slug,
            url=article_url(settings, language, suggestion.slug),
        )
        for suggestion in suggestions
    ]


def article_url(settings: Settings, language: str, slug: str) -> str:
    """Return the public FAQ address of an article (the web app serves /faq/<language>/<slug>)."""
    return f"{settings.public_url}/faq/{language}/{slug}"


def _is_follow_up(session: Session, ticket: Ticket, message: Message) -> bool:
    """Return whether the ticket got an inbound message before this one.

    Only lower ids count: a batch of ingested mail may have stored the
    client's next message on this ticket already (see helpdesk.ingest.pipeline).
    """
    session.flush()
    earlier = select(func.count(Message.id)).where(
        Message.ticket_id == ticket.id,
        Message.direction == Direction.INBOUND,
        Message.id < message.id,
    )
    return session.scalar(earlier) > 0


def _sent_today(session: Session, sender_hash: str) -> int:
    since = utcnow() - dt.timedelta(days=1)
    acknowledgements = (
        select(func.count(Message.id))
        .join(Ticket, Message.ticket_id == Ticket.id)
        .where(
            Ticket.sender_hash == sender_hash,
            Message.is_acknowledgement.is_(True),
            Message.received_at >= since,
        )
    )
    return session.scalar(acknowledgements)
