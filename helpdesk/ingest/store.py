"""Writing an ingested mail: redacted message rows, encrypted originals and attachments."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.orm import Session

from helpdesk.config import Settings
from helpdesk.crypto import address_hash, encrypt
from helpdesk.db import utcnow
from helpdesk.deferred_rows import insert_rows
from helpdesk.ingest.outcomes import Source
from helpdesk.mail import ParsedAttachment, ParsedMessage, rewrite_html_text, sanitize_html
from helpdesk.mail.problems import SEPARATOR
from helpdesk.prepared_cache import lent
from helpdesk.redaction import redact, redact_filename
from helpdesk.teams.routing import team_for_mailbox
from helpdesk.tickets.models import Attachment, Direction, Message, Ticket, TicketEvent

MAX_CONTENT_TYPE_LENGTH = 255
MAX_FILENAME_LENGTH = 255
MAX_PROBLEM_LENGTH = 2000


def redacted(text: str) -> str:
    return redact(text).text if text else ""


# Results of redacted_html computed in other processes, by original HTML
# (see helpdesk.ingest.prepare). Each is a pure result of its key, so
# threads may share them and a missing entry only costs the work.
_prepared_html: dict[str, str] = {}


def redacted_html(html: str | None) -> str | None:
    """Return the HTML part sanitised, with every text node and attribute redacted."""
    if not html:
        return None
    prepared = _prepared_html.get(html)
    if prepared is not None:
        return prepared
    return rewrite_html_text(sanitize_html(html), redacted)


@contextmanager
def prepared_html(results: dict[str, str]) -> Iterator[None]:
    """Let `redacted_html` return these results, computed elsewhere, inside the block."""
    with lent(_prepared_html, results):
        yield


# Results of redacted_filename computed in other processes, by original filename (see _prepared_html).
_prepared_filenames: dict[str, str] = {}


def redacted_filename(filename: str) -> str:
    """Return an attachment's filename with its identifying details replaced (see helpdesk.redaction.filenames)."""
    prepared = _prepared_filenames.get(filename)
    if prepared is not None:
        return prepared
    return redact_filename(filename)


@contextmanager
def prepared_filenames(results: dict[str, str]) -> Iterator[None]:
    """Let `redacted_filename` return these results, computed elsewhere, inside the block."""
    with lent(_prepared_filenames, results):
        yield


def original_text(parsed: ParsedMessage) -> str:
    """Return the unredacted text that staff may reveal, with its subject."""
    return f"Onderwerp: {parsed.subject}\n\n{parsed.text}"


def add_event(session: Session, ticket: Ticket, kind: str, **detail: object) -> None:
    """Add a history line to a ticket that has its id. `detail` contains ids and states only, never text.

    The line is a Core row rather than an ORM object, because a batch adds
    one or more per mail. Inside helpdesk.deferred_rows.deferring_inserts
    they go out in one statement.
    """
    row = {"ticket_id": ticket.id, "user_id": None, "kind": kind, "detail": detail, "created_at": utcnow()}
    insert_rows(session, TicketEvent.__table__, [row])


def new_ticket(session: Session, settings: Settings, parsed: ParsedMessage, mailbox: str | None) -> Ticket:
    ticket = Ticket(subject=redacted(parsed.subject), mailbox=mailbox, last_message_at=utcnow())
    ticket.team_id = team_for_mailbox(session, mailbox)
    if parsed.from_address:
        ticket.sender_encrypted = encrypt(settings, parsed.from_address)
        ticket.sender_hash = address_hash(settings, parsed.from_address)
    session.add(ticket)
    return ticket


def store_message(
    session: Session,
    settings: Settings,
    ticket: Ticket,
    parsed: ParsedMessage,
    raw: bytes,
    raw_sha256: str,
    source: Source | None,
    keep_raw: bool = False,
) -> Message:
    """Add the inbound message with redacted text, encrypted originals and attachments.

    The raw message is kept when settings.keep_originals is on, and always when
    `keep_raw` is set (quarantined mail, which staff can only read that way).
    """
    message = Message(
        ticket=ticket,
        direction=Direction.INBOUND,
        message_id=parsed.message_id,
        raw_sha256=raw_sha256,
        in_reply_to=" ".join(parsed.in_reply_to) or None,
        references=" ".join(parsed.references) or None,
        subject=redacted(parsed.subject),
        body=redacted(parsed.text),
        new_text=redacted(parsed.new_text),
        html_sanitized=redacted_html(parsed.html),
        raw_size=len(raw),
        # Set here rather than at insert, so that annotators see the day the message arrived.
        received_at=utcnow(),
        is_automatic=parsed.automatic is not None,
        automatic_reason=parsed.automatic[:64] if parsed.automatic else None,
        # Problems are codes with non-personal details (helpdesk.mail.problems), so no redaction is needed.
        parse_problem=SEPARATOR.join(parsed.problems)[:MAX_PROBLEM_LENGTH] or None,
    )
    if source is not None:
        message.mailbox = source.mailbox
        message.folder = source.folder
        message.uidvalidity = source.uidvalidity
        message.uid = source.uid
    if settings.keep_originals:
        message.original_encrypted = encrypt(settings, original_text(parsed))
    if settings.keep_originals or keep_raw:
        message.raw_encrypted = encrypt(settings, raw)

    for attachment in parsed.attachments:
        message.attachments.append(_attachment_row(settings, attachment))

    session.add(message)
    return message


def _attachment_row(settings: Settings, attachment: ParsedAttachment) -> Attachment:
    row = Attachment(
        filename=redacted_filename(attachment.filename)[:MAX_FILENAME_LENGTH],
        content_type=attachment.content_type[:MAX_CONTENT_TYPE_LENGTH],
        size=attachment.size,
        content_id=attachment.content_id,
    )
    if attachment.size > settings.max_attachment_bytes:
        row.dropped_reason = (
            f"niet bewaard: {attachment.size} bytes, meer dan de limiet van {settings.max_attachment_bytes} bytes"
        )
    else:
        row.data_encrypted = encrypt(settings, attachment.data)
    return row
