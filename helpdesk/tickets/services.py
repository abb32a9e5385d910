"""Staff actions on tickets: status, assignment, notes, drafts, merging, replies and raw downloads.

Each action writes a TicketEvent; the sensitive ones (sending, merging,
downloading a raw message) also write an audit entry. Events hold ids and
states only, never message text.
"""

from __future__ import annotations

import logging

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from helpdesk.accounts.models import Role, User
from helpdesk.accounts.services import audit
from helpdesk.config import Settings
from helpdesk.crypto import decrypt_bytes
from helpdesk.db import session_scope, utcnow
from helpdesk.outbound.services import ReplyError, deliver, queue_reply
from helpdesk.plugins import get_registry
from helpdesk.ingest.removal import RemovalSummary, delete_mailbox_copies
from helpdesk.privacy.erasure import erase_ticket
from helpdesk.privacy.reveal import MIN_REASON_LENGTH, RevealRefused, reveal_original
from helpdesk.teams.access import can_open
from helpdesk.tickets.draft_insert import insert_snippet
from helpdesk.tickets.models import (
    DeliveryState,
    Direction,
    Message,
    Note,
    Suggestion,
    Ticket,
    TicketEvent,
    TicketStatus,
)

logger = logging.getLogger(__name__)

MAX_NOTE_LENGTH = 10_000


class TicketActionError(ValueError):
    """A staff action cannot be done. The message is Dutch text for the screen and states the reason."""


def record_event(session: Session, ticket: Ticket, user: User | None, kind: str, **detail) -> TicketEvent:
    event = TicketEvent(ticket_id=ticket.id, user_id=user.id if user else None, kind=kind, detail=detail)
    session.add(event)
    return event


def set_status(session: Session, ticket: Ticket, status: TicketStatus | str, user: User | None) -> None:
    try:
        status = TicketStatus(status)
    except ValueError:
        raise TicketActionError(f"Onbekende status {status!r}: kies new, open, waiting, closed of quarantined.") from None
    if status == ticket.status:
        return
    previous = ticket.status
    ticket.status = status
    record_event(session, ticket, user, "status_changed", **{"from": previous.value, "to": status.value})


def assign(session: Session, ticket: Ticket, assignee: User | None, user: User | None) -> None:
    """Assign the ticket to `assignee`, or unassign it when `assignee` is None."""
    if assignee is not None and not assignee.active:
        raise TicketActionError(f"Gebruiker {assignee.id} is niet actief en kan geen tickets krijgen.")
    if assignee is not None and not can_open(session, assignee, ticket.team_id):
        raise TicketActionError(
            f"Gebruiker {assignee.id} is geen lid van het team van ticket #{ticket.id}: kies een teamlid of verplaats het ticket eerst."
        )
    new_id = assignee.id if assignee else None
    if new_id == ticket.assignee_id:
        return
    previous = ticket.assignee_id
    ticket.assignee_id = new_id
    record_event(session, ticket, user, "assigned", **{"from": previous, "to": new_id})


def add_note(session: Session, ticket: Ticket, user: User, body: str) -> Note:
    body = body.strip()
    if not body:
        raise TicketActionError("De notitie is leeg: typ eerst een tekst.")
    if len(body) > MAX_NOTE_LENGTH:
        raise TicketActionError(f"De notitie is {len(body)} tekens lang: houd ze onder {MAX_NOTE_LENGTH}.")
    note = Note(ticket_id=ticket.id, author_id=user.id, body=body)
    session.add(note)
    session.flush()
    record_event(session, ticket, user, "note_added", note_id=note.id)
    return note


def save_draft(session: Session, ticket: Ticket, body: str, user: User | None, slugs: list[str] | None = None) -> None:
    """Store the reply draft; `slugs` replaces the list of articles it was composed from when given."""
    ticket.draft = body
    if slugs is not None:
        ticket.draft_slugs = list(slugs)
        record_event(session, ticket, user, "draft_recomposed", slugs=list(slugs))


def merge_tickets(session: Session, source: Ticket, target: Ticket, user: User | None) -> None:
    """Move the messages, notes and suggestions of `source` into `target` and close `source`.

    Only tickets of the same client (same sender hash) can be merged, because a
    reply on the merged ticket goes to the sender of `target`.
    """
    if source.id == target.id:
        raise TicketActionError("Een ticket kan niet met zichzelf samengevoegd worden.")
    if source.merged_into_id is not None:
        raise TicketActionError(f"Ticket #{source.id} is al samengevoegd met #{source.merged_into_id}.")
    if target.merged_into_id is not None:
        raise TicketActionError(f"Ticket #{target.id} is zelf al samengevoegd met #{target.merged_into_id}: kies dat ticket.")
    if not source.sender_hash or source.sender_hash != target.sender_hash:
        raise TicketActionError(
            f"Ticket #{source.id} en #{target.id} komen niet van dezelfde afzender en kunnen niet samengevoegd worden."
        )

    # Bulk updates avoid loading every message; the relationships are then refreshed.
    for model in (Message, Note, Suggestion):
        session.execute(
            update(model).where(model.ticket_id == source.id).values(ticket_id=target.id),
            execution_options={"synchronize_session": False},
        )
    target.last_message_at = max(target.last_message_at, source.last_message_at)
    target.urgent = target.urgent or source.urgent
    target.urgent_reason = target.urgent_reason or source.urgent_reason
    source.merged_into_id = target.id
    source.status = TicketStatus.CLOSED

    record_event(session, source, user, "merged_into", target_id=target.id)
    record_event(session, target, user, "merged_from", source_id=source.id)
    audit(session, user, "merge", "ticket", target.id, detail={"source_id": source.id})
    session.flush()
    session.expire(source)
    session.expire(target)
    logger.info("tickets merged", extra={"source_ticket_id": source.id, "ticket_id": target.id})


def tickets_of_same_client(session: Session, ticket: Ticket, limit: int = 20) -> list[Ticket]:
    """Return other unmerged tickets with the same sender hash, newest first."""
    if not ticket.sender_hash:
        return []
    query = (
        select(Ticket)
        .where(Ticket.sender_hash == ticket.sender_hash, Ticket.id != ticket.id, Ticket.merged_into_id.is_(None))
        .order_by(Ticket.last_message_at.desc())
        .limit(limit)
    )
    return list(session.scalars(query))


class ReplyCollision(TicketActionError):
    """A reply was stored on the ticket after the sender loaded the page. `authors` are the user ids of those replies."""

    def __init__(self, message: str, authors: list[int | None]) -> None:
        super().__init__(message)
        self.authors = authors


def last_reply_id(session: Session, ticket: Ticket) -> int:
    """Return the row id of the newest staff reply on the ticket (acknowledgements excluded), or 0."""
    newest = session.scalar(
        select(func.max(Message.id)).where(
            Message.ticket_id == ticket.id,
            Message.direction == Direction.OUTBOUND,
            Message.is_acknowledgement.is_(False),
        )
    )
    return newest or 0


def replies_since(session: Session, ticket: Ticket, seen_reply_id: int) -> list[Message]:
    """Return the staff replies stored on the ticket after the reply with row id `seen_reply_id`."""
    return list(
        session.scalars(
            select(Message)
            .where(
                Message.ticket_id == ticket.id,
                Message.direction == Direction.OUTBOUND,
                Message.is_acknowledgement.is_(False),
                Message.id > seen_reply_id,
            )
            .order_by(Message.id)
        )
    )


def queue_ticket_reply(
    session: Session,
    settings: Settings,
    ticket: Ticket,
    body: str,
    author: User,
    *,
    seen_reply_id: int | None = None,
    confirmed: bool = False,
) -> Message:
    """Store a reply to the client in state queued and clear the draft; call dispatch_delivery after committing.

    `seen_reply_id` is last_reply_id() when the sender loaded the page. When
    someone answered since then, the reply is rejected with ReplyCollision
    unless `confirmed`, so that a client does not get two answers by accident.
    Raises TicketActionError (in Dutch) when the body is empty or the ticket
    has no sender address.
    """
    if seen_reply_id is not None and not confirmed:
        newer = replies_since(session, ticket, seen_reply_id)
        if newer:
            raise ReplyCollision(
                f"Ticket #{ticket.id} is beantwoord nadat je de pagina opende. Lees dat antwoord en bevestig als je toch wilt verzenden.",
                [message.author_id for message in newer],
            )
    try:
        message = queue_reply(session, settings, ticket, body, author, article_slugs=ticket.draft_slugs or [])
    except ReplyError as error:
        raise TicketActionError(str(error)) from None
    ticket.draft = ""
    ticket.draft_slugs = []
    audit(session, author, "send", "message", message.id, detail={"ticket_id": ticket.id})
    return message


def retry_delivery(session: Session, message: Message, user: User) -> None:
    """Put a failed outbound message back in the queue; call dispatch_delivery after committing."""
    if message.direction != Direction.OUTBOUND or message.delivery_state != DeliveryState.FAILED:
        raise TicketActionError(f"Bericht {message.id} is niet mislukt en hoeft niet opnieuw verzonden te worden.")
    message.delivery_state = DeliveryState.QUEUED
    message.next_attempt_at = utcnow()  # due at once, also after a permanent failure
    record_event(session, message.ticket, user, "reply_retried", message_id=message.id)
    audit(session, user, "send", "message", message.id, detail={"ticket_id": message.ticket_id, "retry": True})


def dispatch_delivery(settings: Settings, message_id: int) -> None:
    """Hand a committed, queued message to the `send_reply` task, or send it here when no worker is registered.

    Delivery errors are recorded on the message by the sending code, so the
    caller reads the state afterwards instead of catching them.
    """
    dispatcher = get_registry().task_dispatchers.get("send_reply")
    if dispatcher is not None:
        dispatcher(message_id, settings=settings)
        return
    with session_scope(settings) as session:
        deliver(session, settings, message_id)


def raw_message_for_download(session: Session, settings: Settings, message: Message, user: User, reason: str) -> bytes:
    """Return the decrypted raw mail of a message and audit-log who downloaded it and why.

    Raises RevealRefused (with a Dutch message) without the reveal right, without
    a reason of MIN_REASON_LENGTH characters, or when the raw copy is gone.
    """
    if not (user.can_reveal or user.role == Role.ADMIN):
        raise RevealRefused("Je hebt geen recht om originele berichten te downloaden.")
    reason = reason.strip()
    if len(reason) < MIN_REASON_LENGTH:
        raise RevealRefused(f"Geef een reden van minstens {MIN_REASON_LENGTH} tekens op om het bericht te downloaden.")
    if message.raw_encrypted is None:
        raise RevealRefused("De ruwe kopie van dit bericht is niet bewaard of al verwijderd na de bewaartermijn.")

    audit(session, user, "export", "message", message.id, reason=reason, detail={"ticket_id": message.ticket_id, "raw": True})
    record_event(session, message.ticket, user, "raw_downloaded", message_id=message.id)
    logger.info("raw message downloaded", extra={"message_id": message.id, "user_id": user.id})
    return decrypt_bytes(settings, message.raw_encrypted)


def insert_into_draft(
    session: Session, ticket: Ticket, body: str, snippet: str, user: User, *, slug: str | None = None, macro_id: int | None = None,
    cursor: int | None = None,
) -> None:
    """Insert a canned reply or an article into the draft text `body` and store the result.

    `body` is what staff have in the text field now, so their edits stay. The
    snippet goes at `cursor`, or before the sign-off when there is no cursor
    (see helpdesk.tickets.draft_insert). An inserted article's slug joins the
    draft's article list, which the sent reply records.
    """
    ticket.draft = insert_snippet(body, snippet, cursor)
    if slug is not None and slug not in (ticket.draft_slugs or []):
        ticket.draft_slugs = [*(ticket.draft_slugs or []), slug]
    detail = {"slug": slug} if slug is not None else {"macro_id": macro_id}
    record_event(session, ticket, user, "draft_snippet_inserted", **detail)


def reveal_message_original(session: Session, settings: Settings, message: Message, user: User, reason: str) -> str:
    """Return the original text of a message for display, audit-logged and in the ticket's history.

    Raises RevealRefused (in Dutch) without the reveal right, without a reason
    or when the original is gone.
    """
    original = reveal_original(session, settings, message.id, user, reason)
    record_event(session, message.ticket, user, "original_revealed", message_id=message.id)
    return original


ERASE_ROLES = frozenset({Role.ADMIN})


def erase_ticket_everywhere(session: Session, settings: Settings, ticket: Ticket, user: User, reason: str) -> RemovalSummary:
    """Erase a ticket on the client's request, commit, then delete its mail from the mail server.

    Only administrators may erase, and only with a reason of MIN_REASON_LENGTH
    characters. The server copies are deleted after the commit, so a failed
    transaction never leaves the database pointing at mail that is gone. They
    are deleted even when HELPDESK_RETENTION_DELETE_FROM_MAILBOX is false,
    because that setting governs retention only. The returned summary counts copies deleted, not found and failed; failed ones
    are logged by the removal code.
    """
    if user.role not in ERASE_ROLES:
        raise TicketActionError("Alleen beheerders mogen een ticket wissen.")
    reason = reason.strip()
    if len(reason) < MIN_REASON_LENGTH:
        raise TicketActionError(f"Geef een reden van minstens {MIN_REASON_LENGTH} tekens op om het ticket te wissen.")

    ticket_id = ticket.id
    copies = erase_ticket(session, settings, ticket_id, user, reason)
    session.commit()
    # NOTE: this talks to the mail server inside the web request, so an IMAP
    # server that does not respond delays the page by up to the IMAP timeout.
    summary = delete_mailbox_copies(settings, copies)
    logger.info(
        "ticket erased on request",
        extra={"ticket_id": ticket_id, "user_id": user.id, "copies_deleted": summary.deleted, "copies_failed": summary.failed},
    )
    return summary
