"""Queueing and delivering outbound mail.

An outbound `Message` row is the queue entry: `queue_reply` stores it in state
`queued`, and `deliver` sends it and records `sent` or `failed`. Nothing is
lost while the SMTP server is down: a failed message keeps its text and a
`next_attempt_at`, and `due_message_ids` finds it again.

Before talking to the server, `deliver` claims the row with a compare-and-set
update on `delivery_attempts` that sets the state `sending`, and commits, so
two workers never send one message at the same time, on SQLite as on
PostgreSQL. Once the server accepted the mail, a database outage does not
lose that fact: recording `sent` is retried for RECORD_RETRY_SECONDS.

A message still in `sending` when its claim expires (CLAIM_SECONDS) may or
may not have reached the server: the worker died, or the database stayed
away longer than the retries, between the server's reply and the commit.
It is not sent blindly a second time. It becomes `failed` without a next
attempt and with UNKNOWN_OUTCOME_ERROR, so staff check and resend it by hand.
NOTE: a message is therefore sent at most once unless staff resend it, and a
worker killed after its claim but before the SMTP conversation also leaves
such a message, although nothing was sent.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import and_, or_, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from helpdesk import metrics
from helpdesk.accounts.models import User
from helpdesk.config import Settings
from helpdesk.crypto import decrypt
from helpdesk.db import utcnow
from helpdesk.outbound.compose import build_email, new_message_id, recipient_address, reply_subject, threading_ids
from helpdesk.outbound.transports import DeliveryError, transport_for
from helpdesk.redaction import PLACEHOLDERS, detect
from helpdesk.teams.reply_addresses import reply_sender
from helpdesk.tickets.models import DeliveryState, Direction, Message, Ticket, TicketStatus

logger = logging.getLogger(__name__)

RETRY_BASE_SECONDS = 60
RETRY_MAX_DELAY_SECONDS = 3600
MAX_DELIVERY_ATTEMPTS = 12  # about six hours of retries with the delays above
CLAIM_SECONDS = 600  # far longer than one SMTP conversation with its timeouts
# How long an accepted mail's outcome is retried while the database is
# unreachable; well within CLAIM_SECONDS, so no other worker reclaims it meanwhile.
RECORD_RETRY_SECONDS = 120
RECORD_RETRY_MAX_DELAY_SECONDS = 15
MAX_ERROR_LENGTH = 2000
# Stored as delivery_error and shown to staff, so it is in Dutch.
UNKNOWN_OUTCOME_ERROR = (
    "Onbekend of dit antwoord verzonden is: de verwerking stopte tijdens het verzenden, "
    "voor de mailserver het antwoord bevestigde of voor die bevestiging bewaard werd. "
    "Controleer het logboek of de map Verzonden van de mailserver en verstuur het antwoord "
    "alleen opnieuw als het daar niet staat."
)

_SENDABLE = (DeliveryState.QUEUED, DeliveryState.FAILED)


class ReplyError(ValueError):
    """A reply cannot be queued; the message is in Dutch because staff see it."""


# A line that is only a bracketed instruction ending in a full stop, such as
# the draft's "[Schrijf hier het antwoord.]". Redaction placeholders like
# "[naam]" have no full stop, so they do not match.
UNFILLED_INSTRUCTION = re.compile(r"^[ \t]*\[[^\[\]\n]{3,120}\.\][ \t]*$", re.MULTILINE)


@dataclass(frozen=True)
class DeliveryOutcome:
    """The result of one `deliver` call.

    `state` is "sent", "failed", "unknown" (an earlier attempt stopped
    while sending, see UNKNOWN_OUTCOME_ERROR) or "skipped" (not due, already
    sent or claimed by another worker). `retry_in` is the number of seconds
    until the next attempt is due, or None when no retry follows.
    """

    state: str
    retry_in: float | None = None


def retry_delay(attempts: int) -> float:
    """Return the seconds to wait after the given number of failed attempts (exponential backoff)."""
    exponent = min(max(attempts - 1, 0), 20)
    return float(min(RETRY_BASE_SECONDS * 2**exponent, RETRY_MAX_DELAY_SECONDS))


def queue_reply(
    session: Session,
    settings: Settings,
    ticket: Ticket,
    body: str,
    author: User | None,
    article_slugs: Sequence[str] = (),
) -> Message:
    """Store a staff reply on `ticket` as a queued outbound message and mark the ticket waiting.

    A quarantined ticket keeps its status, because staff must still look at its raw mail.
    The text is stored and later sent exactly as written. The caller commits,
    then hands `message.id` to the `send_reply` task dispatcher.
    Raises ReplyError when the body is empty, still contains a draft
    instruction such as "[Schrijf hier het antwoord.]", or the ticket has no
    sender address.
    """
    if not body.strip():
        raise ReplyError(f"Het antwoord op ticket #{ticket.id} is leeg: schrijf eerst een tekst.")
    unfilled = UNFILLED_INSTRUCTION.search(body)
    if unfilled:
        raise ReplyError(
            f"Het antwoord op ticket #{ticket.id} bevat nog de aanwijzing {unfilled.group().strip()}: "
            "vervang die door je antwoord."
        )
    if ticket.sender_encrypted is None:
        raise ReplyError(
            f"Ticket #{ticket.id} heeft geen afzenderadres meer (gewist of nooit gekend): "
            "er kan geen antwoord verstuurd worden."
        )

    message = queue_outbound(
        session,
        settings,
        ticket,
        body=body,
        author_id=author.id if author is not None else None,
        article_slugs=article_slugs,
    )
    if ticket.status != TicketStatus.QUARANTINED:
        _tickets().set_status(session, ticket, TicketStatus.WAITING, author)
    session.flush()
    return message


def queue_outbound(
    session: Session,
    settings: Settings,
    ticket: Ticket,
    *,
    body: str,
    author_id: int | None = None,
    is_acknowledgement: bool = False,
    article_slugs: Sequence[str] = (),
) -> Message:
    """Store an outbound message on `ticket` in state queued, due at once, with threading headers."""
    in_reply_to, references = threading_ids(session, ticket)
    now = utcnow()
    message = Message(
        ticket=ticket,
        direction=Direction.OUTBOUND,
        message_id=new_message_id(settings),
        in_reply_to=in_reply_to,
        references=" ".join(references) or None,
        subject=reply_subject(ticket),
        body=body,
        new_text=body,
        language=ticket.language,
        author_id=author_id,
        delivery_state=DeliveryState.QUEUED,
        delivery_attempts=0,
        next_attempt_at=now,
        is_acknowledgement=is_acknowledgement,
        article_slugs=list(article_slugs),
        received_at=now,
    )
    session.add(message)
    session.flush()
    logger.info("outbound message queued", extra={"ticket_id": ticket.id, "message_row_id": message.id})
    return message


def due_message_ids(session: Session, now: dt.datetime | None = None, limit: int = 100) -> list[int]:
    """Return the ids of outbound messages that wait for a delivery attempt or whose sending claim expired."""
    now = now or utcnow()
    due = (
        select(Message.id)
        .where(
            Message.direction == Direction.OUTBOUND,
            or_(
                and_(Message.delivery_state.in_(_SENDABLE), Message.next_attempt_at <= now),
                and_(Message.delivery_state == DeliveryState.QUEUED, Message.next_attempt_at.is_(None)),
                and_(Message.delivery_state == DeliveryState.SENDING, Message.next_attempt_at <= now),
            ),
        )
        .order_by(Message.next_attempt_at, Message.id)
        .limit(limit)
    )
    return list(session.scalars(due))


def deliver(session: Session, settings: Settings, message_id: int) -> DeliveryOutcome:
    """Send the outbound message with row id `message_id` and record the outcome.

    Commits twice: once to claim the message before talking to the server,
    and once with the outcome. Returns "skipped" when the message is not due,
    already sent, or claimed by another worker, and "unknown" when an earlier
    claim expired in state sending.
    """
    now = utcnow()
    message = session.get(Message, message_id, populate_existing=True)
    if message is None or message.direction != Direction.OUTBOUND:
        logger.warning("outbound message not found", extra={"message_row_id": message_id})
        return DeliveryOutcome("skipped")
    if message.delivery_state == DeliveryState.SENDING:
        return _expire_sending_claim(session, message, now)
    if not _claim(session, message, now):
        logger.info("outbound message not due or taken", extra={"message_row_id": message_id})
        return DeliveryOutcome("skipped")

    ticket = message.ticket
    recipient = _recipient(settings, ticket)
    if recipient is None:
        return _record_failure(
            session,
            message,
            DeliveryError("the ticket has no valid sender address (erased or unreadable)", permanent=True),
        )

    # The envelope sender is the From address, so that bounces return to the
    # ticket's mailbox and SPF checks the same domain as DMARC does.
    sender = reply_sender(session, settings, ticket.mailbox)
    try:
        transport_for(settings).send(build_email(settings, message, recipient, sender), sender.address, recipient)
    except DeliveryError as error:
        return _record_despite_outage(session, message_id, lambda claimed: _record_failure(session, claimed, error))

    return _record_despite_outage(session, message_id, lambda claimed: _record_sent(session, claimed))


def _tickets():
    # Imported late because helpdesk.tickets.services imports this module.
    from helpdesk.tickets import services

    return services


def _claim(session: Session, message: Message, now: dt.datetime) -> bool:
    claimed = session.execute(
        update(Message)
        .where(
            Message.id == message.id,
            Message.delivery_state.in_(_SENDABLE),
            Message.delivery_attempts == message.delivery_attempts,
            or_(
                Message.next_attempt_at <= now,
                and_(Message.delivery_state == DeliveryState.QUEUED, Message.next_attempt_at.is_(None)),
            ),
        )
        .values(
            delivery_state=DeliveryState.SENDING,
            delivery_attempts=Message.delivery_attempts + 1,
            next_attempt_at=now + dt.timedelta(seconds=CLAIM_SECONDS),
        )
        .execution_options(synchronize_session=False)
    )
    session.commit()
    session.refresh(message)
    return claimed.rowcount == 1


def _expire_sending_claim(session: Session, message: Message, now: dt.datetime) -> DeliveryOutcome:
    """Mark a message whose claim expired in state sending as failed with an unknown outcome, without sending it."""
    expired = session.execute(
        update(Message)
        .where(
            Message.id == message.id,
            Message.delivery_state == DeliveryState.SENDING,
            Message.delivery_attempts == message.delivery_attempts,
            Message.next_attempt_at <= now,
        )
        .values(delivery_state=DeliveryState.FAILED, delivery_error=UNKNOWN_OUTCOME_ERROR, next_attempt_at=None)
        .execution_options(synchronize_session=False)
    )
    if expired.rowcount != 1:
        session.rollback()
        logger.info("outbound message is being sent by another worker", extra={"message_row_id": message.id})
        return DeliveryOutcome("skipped")

    session.refresh(message)
    _tickets().record_event(
        session,
        message.ticket,
        None,
        "reply_failed",
        message_id=message.id,
        attempts=message.delivery_attempts,
        outcome_unknown=True,
        will_retry=False,
    )
    session.commit()
    metrics.record_reply_failed(acknowledgement=message.is_acknowledgement, will_retry=False)
    logger.error(
        "outbound message outcome unknown after an interrupted attempt; staff must check and resend",
        extra={"ticket_id": message.ticket_id, "message_row_id": message.id, "attempt": message.delivery_attempts},
    )
    return DeliveryOutcome("unknown")


def _record_despite_outage(
    session: Session, message_id: int, record: Callable[[Message], DeliveryOutcome]
) -> DeliveryOutcome:
    """Run `record` on the freshly read message, retrying for RECORD_RETRY_SECONDS while the database is unreachable.

    The mail server already replied, so giving up early would leave the
    message in state sending and make its outcome unknown.
    """
    deadline = time.monotonic() + RECORD_RETRY_SECONDS
    delay = 1.0
    while True:
        try:
            message = session.get(Message, message_id, populate_existing=True)
            return record(message)
        except OperationalError as error:
            session.rollback()
            if time.monotonic() + delay > deadline:
                logger.error(
                    "recording the delivery outcome failed; the message stays in state sending",
                    extra={"message_row_id": message_id, "error": type(error).__name__},
                )
                raise
            logger.warning(
                "recording the delivery outcome failed, retrying",
                extra={"message_row_id": message_id, "error": type(error).__name__, "retry_in": delay},
            )
            time.sleep(delay)
            delay = min(delay * 2, RECORD_RETRY_MAX_DELAY_SECONDS)


def _recipient(settings: Settings, ticket: Ticket) -> str | None:
    if ticket.sender_encrypted is None:
        return None
    return recipient_address(decrypt(settings, ticket.sender_encrypted))


def _record_failure(session: Session, message: Message, error: DeliveryError) -> DeliveryOutcome:
    now = utcnow()
    retry = not error.permanent and message.delivery_attempts < MAX_DELIVERY_ATTEMPTS
    delay = retry_delay(message.delivery_attempts) if retry else None

    message.delivery_state = DeliveryState.FAILED
    message.delivery_error = _without_addresses(error.reply)[:MAX_ERROR_LENGTH]
    message.next_attempt_at = now + dt.timedelta(seconds=delay) if delay is not None else None
    _tickets().record_event(
        session,
        message.ticket,
        None,
        "reply_failed",
        message_id=message.id,
        attempts=message.delivery_attempts,
        smtp_code=error.code,
        will_retry=retry,
    )
    session.commit()
    metrics.record_reply_failed(acknowledgement=message.is_acknowledgement, will_retry=retry)

    logger.warning(
        "outbound message delivery failed",
        extra={
            "ticket_id": message.ticket_id,
            "message_row_id": message.id,
            "attempt": message.delivery_attempts,
            "smtp_code": error.code,
            "permanent": error.permanent,
            "retry_in": delay,
        },
    )
    return DeliveryOutcome("failed", delay)


def _without_addresses(reply: str) -> str:
    # Servers quote the recipient address in their replies, and addresses are
    # stored only encrypted. Other details (reply codes) must stay readable.
    parts: list[str] = []
    position = 0
    for entity in detect(reply):
        if entity.type == "EMAIL":
            parts.append(reply[position:entity.start])
            parts.append(PLACEHOLDERS["EMAIL"])
            position = entity.end
    parts.append(reply[position:])
    return "".join(parts)


def _record_sent(session: Session, message: Message) -> DeliveryOutcome:
    now = utcnow()
    message.delivery_state = DeliveryState.SENT
    message.sent_at = now
    message.delivery_error = None
    message.next_attempt_at = None

    # The acknowledgement is not an answer, so it does not stop the response clock.
    ticket = message.ticket
    if not message.is_acknowledgement and ticket.first_response_at is None:
        ticket.first_response_at = now
    _tickets().record_event(session, ticket, None, "reply_sent", message_id=message.id)
    session.commit()
    metrics.record_reply_sent(acknowledgement=message.is_acknowledgement)

    logger.info(
        "outbound message sent",
        extra={"ticket_id": ticket.id, "message_row_id": message.id, "attempt": message.delivery_attempts},
    )
    return DeliveryOutcome("sent")

