"""The ingest step: language, suggestions, urgency and a reply draft for each new client message."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING
from weakref import WeakKeyDictionary

from sqlalchemy import delete
from sqlalchemy.orm import Session

from helpdesk import metrics
from helpdesk.config import Settings
from helpdesk.db import session_factory
from helpdesk.deferred_rows import discard_rows, insert_rows
from helpdesk.prepared_cache import lent
from helpdesk.tickets.created import created_in_transaction, transaction_ids
from helpdesk.tickets.models import Message, Suggestion, Ticket
from kb.catalog import fingerprinted_index
from kb.drafts import render_draft
from kb.index import ArticleIndex
from kb.suggest import SuggestionResult, suggest

if TYPE_CHECKING:
    from helpdesk.ingest.prepare import PreparedText

logger = logging.getLogger(__name__)

# session.info key of the index that the session's current transaction uses.
TRANSACTION_INDEX_KEY = "kb.transaction_index"
# session.info key of the ids of the tickets that the current transaction wrote suggestions for.
SUGGESTED_TICKETS_KEY = "kb.suggested_tickets"


def annotate_message(session: Session, settings: Settings, ticket: Ticket, message: Message) -> None:
    """Set the ticket's language, theme, urgency and draft from a new inbound message, before its rows are inserted.

    The ingest annotator that kb/plugin.py registers: a new ticket's INSERT
    then carries these values, instead of an UPDATE after it.
    suggest_for_message takes the result and only adds the suggestion rows.
    """
    _annotated[message] = _annotate(session, settings, ticket, message)


def suggest_for_message(session: Session, settings: Settings, ticket: Ticket, message: Message) -> SuggestionResult:
    """Fill the ticket's language, theme, urgency, draft and suggestions from one inbound message.

    Works on the redacted subject and new text that ingestion stored. Replaces the
    ticket's earlier suggestions, because staff reply to the newest message. The
    theme is the best article's theme, or None when no article fits confidently.
    When annotate_message ran for this message, its result is reused.
    """
    if ticket.id is None or message.id is None:
        session.flush()
    result = _annotated.pop(message, None)
    if result is None:
        result = _annotate(session, settings, ticket, message)

    rows = [
        {
            "ticket_id": ticket.id,
            "message_id": message.id,
            "slug": suggested.slug,
            "title": suggested.title,
            "score": suggested.score,
            "rank": rank,
            "confident": suggested.confident,
            "matched_terms": suggested.matched_terms,
        }
        for rank, suggested in enumerate(result.suggestions, start=1)
    ]
    # Both statements touch only Suggestion rows, which nothing leaves pending
    # in the session, so no autoflush is needed first.
    with session.no_autoflush:
        if not _first_suggestions(session, ticket.id):
            discard_rows(session, Suggestion.__table__, "ticket_id", ticket.id)
            session.execute(delete(Suggestion).where(Suggestion.ticket_id == ticket.id))
        # Core inserts on the table: the ORM's bulk insert costs several times more per row.
        # Ingesting a batch defers them, to write the whole batch's rows in one statement.
        insert_rows(session, Suggestion.__table__, rows)
    session.expire(ticket, ["suggestions"])
    metrics.record_suggestions(result.suggestions)
    logger.info(
        "suggestions stored",
        extra={
            "ticket_id": ticket.id,
            "message_id": message.id,
            "suggestions": len(result.suggestions),
            "confident": result.confident,
            "urgent_reason": result.urgency.reason,
        },
    )
    return result


def _annotate(session: Session, settings: Settings, ticket: Ticket, message: Message) -> SuggestionResult:
    """Rank the articles for the message (or take the prepared ranking) and set the ticket's fields from it."""
    fingerprint, index = _transaction_index(session)
    subject = message.subject or ""
    text = message.new_text or message.body or ""
    received = message.received_at.date() if message.received_at else None
    prepared = _prepared.get((fingerprint, subject, text, received))
    if prepared is not None:
        result, draft = prepared
    else:
        result = suggest(index, subject, text, received=received)
        draft = _draft(settings, index, result)

    ticket.language = result.language
    if message.language is None:
        message.language = result.language
    best = result.suggestions[0] if result.confident else None
    ticket.theme = best.theme if best else None
    ticket.urgent = result.urgency.urgent
    ticket.urgent_reason = result.urgency.reason
    ticket.draft_slugs = result.confident_slugs
    ticket.draft = draft
    return result


def _draft(settings: Settings, index: ArticleIndex, result: SuggestionResult) -> str:
    return render_draft(settings, index.by_slug_language, result.confident_slugs, result.language, result.urgency.reason)


def _first_suggestions(session: Session, ticket_id: int) -> bool:
    """Return whether the ticket has no suggestions yet: inserted by this transaction, and not suggested for in it.

    A new ticket needs no delete of earlier suggestions, which saves one
    statement for most ingested mail.
    """
    suggested = transaction_ids(session, SUGGESTED_TICKETS_KEY)
    first = created_in_transaction(session, ticket_id) and ticket_id not in suggested
    suggested.add(ticket_id)
    return first


def _transaction_index(session: Session) -> tuple[tuple, ArticleIndex]:
    """Return the articles' fingerprint and index, checking whether articles changed once per transaction.

    A batch of mails ingested in one transaction thus makes one fingerprint
    query. Articles published while the transaction runs are used from the next one.
    """
    transaction = session.get_transaction()
    cached = session.info.get(TRANSACTION_INDEX_KEY)
    if transaction is not None and cached is not None and cached[0] is transaction:
        return cached[1], cached[2]
    fingerprint, index = fingerprinted_index(session)
    session.info[TRANSACTION_INDEX_KEY] = (transaction, fingerprint, index)
    return fingerprint, index


# Results of annotate_message for messages whose suggestion rows are not stored yet.
_annotated: WeakKeyDictionary[Message, SuggestionResult] = WeakKeyDictionary()

# Suggestion results and drafts computed in a worker process with the same
# settings (see SuggestionPreparer), by (article fingerprint, redacted subject,
# redacted text, day received): the inputs that decide the result of `suggest`.
_prepared: dict[tuple, tuple[SuggestionResult, str]] = {}


# How long a worker process ranks with the articles it last read before it
# checks their fingerprint again. Checking costs a connection and a query,
# which for chunks of ten mails was about 5% of the work. A result ranked
# with articles changed in between has a stale fingerprint, so the
# transaction ranks that mail again.
INDEX_CHECK_SECONDS = 1.0


class SuggestionPreparer:
    """Ranks the articles for a fetch batch in a worker process, ahead of suggest_for_message.

    See helpdesk.ingest.prepare. suggest_for_message uses a result only when
    its key matches, so articles published in between are taken into account.
    """

    name = "kb.suggestions"

    def __init__(self) -> None:
        # The last index read, by database URL, with the monotonic time it was read.
        self._indexes: dict[str, tuple[float, tuple, ArticleIndex]] = {}

    def prepare(self, settings: Settings, mails: list[PreparedText]) -> list[tuple | None]:
        if not mails:
            return []
        fingerprint, index = self._index(settings)
        results: list[tuple | None] = []
        for mail in mails:
            text = mail.new_text or mail.body
            key = (fingerprint, mail.subject, text, mail.received)
            result = suggest(index, mail.subject, text, received=mail.received)
            results.append((key, (result, _draft(settings, index, result))))
        return results

    def _index(self, settings: Settings) -> tuple[tuple, ArticleIndex]:
        """Return the fingerprinted index, read again when the last read is older than INDEX_CHECK_SECONDS."""
        cached = self._indexes.get(settings.database_url)
        if cached is not None and time.monotonic() - cached[0] < INDEX_CHECK_SECONDS:
            return cached[1], cached[2]
        with session_factory(settings)() as session:
            fingerprint, index = fingerprinted_index(session)
        self._indexes[settings.database_url] = (time.monotonic(), fingerprint, index)
        return fingerprint, index

    @contextmanager
    def use(self, results: list[tuple]) -> Iterator[None]:
        with lent(_prepared, dict(results)):
            yield
