"""Queueing and delivering replies through the file outbox and a real SMTP server."""

from __future__ import annotations

import datetime as dt
import email
import email.policy

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from helpdesk.accounts.models import User
from helpdesk.crypto import address_hash, encrypt
from helpdesk.db import as_utc, session_scope, utcnow
from helpdesk.outbound.services import (
    CLAIM_SECONDS,
    MAX_DELIVERY_ATTEMPTS,
    RETRY_BASE_SECONDS,
    RETRY_MAX_DELAY_SECONDS,
    ReplyError,
    deliver,
    due_message_ids,
    queue_reply,
    retry_delay,
)
from helpdesk.tickets.models import DeliveryState, Direction, Message, Ticket, TicketEvent, TicketStatus
from tests.services.ports import free_port

CLIENT = "klant.anoniem@example.org"


def make_ticket(session, settings, *, subject="Condoom gescheurd", language="nl", sender=CLIENT, **fields) -> Ticket:
    """Store a ticket with one inbound client message that is part of an earlier thread."""
    ticket = Ticket(
        subject=subject,
        language=language,
        status=TicketStatus.NEW,
        sender_encrypted=encrypt(settings, sender) if sender else None,
        sender_hash=address_hash(settings, sender) if sender else None,
        **fields,
    )
    session.add(ticket)
    session.add(
        Message(
            ticket=ticket,
            direction=Direction.INBOUND,
            message_id="vraag-2@client.example",
            in_reply_to="vraag-1@client.example",
            references="<vraag-0@client.example> <vraag-1@client.example>",
            subject=subject,
            body="Wat moet ik doen?",
            new_text="Wat moet ik doen?",
            received_at=utcnow() - dt.timedelta(hours=1),
        )
    )
    session.flush()
    return ticket


def make_staff(session) -> User:
    user = User(email="medewerker@helpdesk.test", display_name="Medewerker", password_hash="x")
    session.add(user)
    session.flush()
    return user


def queue_one_reply(settings, body="Beste,\n\nGa vandaag nog naar de spoed voor PEP.\n\nGroeten") -> tuple[int, int]:
    """Queue a staff reply on a new ticket and return (ticket id, message row id)."""
    with session_scope(settings) as session:
        ticket = make_ticket(session, settings)
        message = queue_reply(session, settings, ticket, body, make_staff(session))
        return ticket.id, message.id


def load_message(settings, message_id) -> Message:
    with session_scope(settings) as session:
        message = session.get(Message, message_id)
        session.expunge(message)
        return message


class RejectingHandler:
    """An aiosmtpd handler that replies to every RCPT TO with a fixed reply."""

    def __init__(self, reply: str) -> None:
        self.reply = reply

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        return self.reply


@pytest.fixture
def rejecting_server():
    """Start an SMTP server whose RCPT reply the test sets; yields a function taking the reply."""
    controllers = []

    def start(reply: str) -> str:
        port = free_port()
        controller = Controller(RejectingHandler(reply), hostname="127.0.0.1", port=port)
        controller.start()
        controllers.append(controller)
        return f"smtp://127.0.0.1:{port}"

    yield start
    for controller in controllers:
        controller.stop()


def test_reply_headers_thread_the_conversation(settings, smtp_server):
    settings = settings.with_overrides(smtp_url=smtp_server.url)
    ticket_id, message_id = queue_one_reply(settings, body="Beste,\n\nGa naar de spoed: PEP werkt tot 72 uur.\n\nGroeten")

    with session_scope(settings) as session:
        outcome = deliver(session, settings, message_id)

    assert outcome.state == "sent"
    received = smtp_server.wait_for(1)[0]
    mail = received.message
    stored = load_message(settings, message_id)
    assert received.envelope_to == [CLIENT]
    assert received.envelope_from == "vragen@helpdesk.test"
    assert mail["From"] == "Helpdesk Test <vragen@helpdesk.test>"
    assert mail["To"] == CLIENT
    assert mail["Subject"] == f"Re: Condoom gescheurd [#{ticket_id}]"
    assert mail["Message-ID"] == f"<{stored.message_id}>"
    assert stored.message_id.endswith("@helpdesk.test")
    assert mail["In-Reply-To"] == "<vraag-2@client.example>"
    assert mail["References"].split() == ["<vraag-0@client.example>", "<vraag-1@client.example>", "<vraag-2@client.example>"]
    assert mail["Auto-Submitted"] == "no"
    assert mail.get_content_type() == "text/plain"
    assert mail.get_content_charset() == "utf-8"
    # SMTP carries CRLF line ends, which the parser keeps in the decoded text.
    assert mail.get_content().replace("\r\n", "\n") == "Beste,\n\nGa naar de spoed: PEP werkt tot 72 uur.\n\nGroeten\n"


def test_reply_records_sent_state(settings, smtp_server):
    settings = settings.with_overrides(smtp_url=smtp_server.url)
    ticket_id, message_id = queue_one_reply(settings)

    with session_scope(settings) as session:
        deliver(session, settings, message_id)

    with session_scope(settings) as session:
        message = session.get(Message, message_id)
        ticket = session.get(Ticket, ticket_id)
        kinds = session.scalars(select(TicketEvent.kind).where(TicketEvent.ticket_id == ticket_id)).all()
        assert message.delivery_state == DeliveryState.SENT
        assert message.sent_at is not None
        assert message.delivery_attempts == 1
        assert message.delivery_error is None
        assert message.next_attempt_at is None
        assert ticket.first_response_at is not None
        assert ticket.status == TicketStatus.WAITING
        assert "reply_sent" in kinds
        assert "status_changed" in kinds


def test_queued_reply_keeps_text_as_written(settings):
    body = "Dag Jan,\n\nbel 0470 12 34 56 als het dringend is.\n"
    ticket_id, message_id = queue_one_reply(settings, body=body)

    message = load_message(settings, message_id)
    assert message.body == body
    assert message.direction == Direction.OUTBOUND
    assert message.delivery_state == DeliveryState.QUEUED
    assert message.author_id is not None
    assert message.subject == f"Re: Condoom gescheurd [#{ticket_id}]"


def test_file_outbox_writes_one_eml(settings):
    _ticket_id, message_id = queue_one_reply(settings, body="Één antwoord met accenten: café, naïef.")

    with session_scope(settings) as session:
        outcome = deliver(session, settings, message_id)

    assert outcome.state == "sent"
    files = sorted(settings.outbox_dir.iterdir())
    assert [path.suffix for path in files] == [".eml"]
    mail = email.message_from_bytes(files[0].read_bytes(), policy=email.policy.default)
    assert mail["To"] == CLIENT
    assert mail["In-Reply-To"] == "<vraag-2@client.example>"
    assert mail.get_content() == "Één antwoord met accenten: café, naïef.\n"


def test_server_down_then_back(settings, smtp_server):
    down_url = f"smtp://127.0.0.1:{free_port()}?timeout=5"
    _ticket_id, message_id = queue_one_reply(settings.with_overrides(smtp_url=down_url))

    with session_scope(settings) as session:
        failed = deliver(session, settings.with_overrides(smtp_url=down_url), message_id)

    message = load_message(settings, message_id)
    assert failed.state == "failed"
    assert failed.retry_in == RETRY_BASE_SECONDS
    assert message.delivery_state == DeliveryState.FAILED
    assert message.delivery_attempts == 1
    assert "SMTP connection to 127.0.0.1" in message.delivery_error
    assert message.next_attempt_at is not None
    assert message.body  # the text waits for the next attempt

    # Not due yet: a second call must not send.
    back = settings.with_overrides(smtp_url=smtp_server.url)
    with session_scope(settings) as session:
        assert deliver(session, back, message_id).state == "skipped"
    assert smtp_server.received == []

    # Once the retry time has come and a server accepts mail again, the reply goes out.
    with session_scope(settings) as session:
        session.get(Message, message_id).next_attempt_at = utcnow() - dt.timedelta(seconds=1)
    with session_scope(settings) as session:
        assert message_id in due_message_ids(session)
        outcome = deliver(session, back, message_id)

    assert outcome.state == "sent"
    assert len(smtp_server.wait_for(1)) == 1
    message = load_message(settings, message_id)
    assert message.delivery_state == DeliveryState.SENT
    assert message.delivery_attempts == 2
    assert message.delivery_error is None


def test_permanent_rejection_is_not_retried(settings, rejecting_server):
    url = rejecting_server(f"550 5.1.1 <{CLIENT}>: Recipient address rejected")
    settings = settings.with_overrides(smtp_url=url)
    _ticket_id, message_id = queue_one_reply(settings)

    with session_scope(settings) as session:
        outcome = deliver(session, settings, message_id)

    message = load_message(settings, message_id)
    assert outcome.state == "failed"
    assert outcome.retry_in is None
    assert message.delivery_state == DeliveryState.FAILED
    assert message.next_attempt_at is None
    assert message.delivery_error.startswith("550 5.1.1")
    assert "Recipient address rejected" in message.delivery_error
    assert CLIENT not in message.delivery_error
    with session_scope(settings) as session:
        assert message_id not in due_message_ids(session, utcnow() + dt.timedelta(days=30))


def test_temporary_rejection_is_retried(settings, rejecting_server):
    settings = settings.with_overrides(smtp_url=rejecting_server("451 4.3.0 Try again later"))
    _ticket_id, message_id = queue_one_reply(settings)

    with session_scope(settings) as session:
        outcome = deliver(session, settings, message_id)

    message = load_message(settings, message_id)
    assert outcome.state == "failed"
    assert outcome.retry_in == RETRY_BASE_SECONDS
    assert message.delivery_error == "451 4.3.0 Try again later"
    next_attempt = as_utc(message.next_attempt_at)
    assert utcnow() < next_attempt <= utcnow() + dt.timedelta(seconds=RETRY_BASE_SECONDS)


def test_delivery_stops_after_max_attempts(settings, rejecting_server):
    settings = settings.with_overrides(smtp_url=rejecting_server("421 4.3.2 Service not available"))
    _ticket_id, message_id = queue_one_reply(settings)
    with session_scope(settings) as session:
        message = session.get(Message, message_id)
        message.delivery_attempts = MAX_DELIVERY_ATTEMPTS - 1

    with session_scope(settings) as session:
        outcome = deliver(session, settings, message_id)

    message = load_message(settings, message_id)
    assert outcome.state == "failed"
    assert outcome.retry_in is None
    assert message.delivery_attempts == MAX_DELIVERY_ATTEMPTS
    assert message.next_attempt_at is None


def test_second_deliver_sends_nothing(settings, smtp_server):
    settings = settings.with_overrides(smtp_url=smtp_server.url)
    _ticket_id, message_id = queue_one_reply(settings)

    with session_scope(settings) as session:
        first = deliver(session, settings, message_id)
    with session_scope(settings) as session:
        second = deliver(session, settings, message_id)

    assert first.state == "sent"
    assert second.state == "skipped"
    assert len(smtp_server.wait_for(1)) == 1
    assert load_message(settings, message_id).delivery_attempts == 1


def test_claimed_message_is_not_taken_twice(settings, smtp_server):
    settings = settings.with_overrides(smtp_url=smtp_server.url)
    _ticket_id, message_id = queue_one_reply(settings)

    # Another worker claimed the message and is still sending it.
    with session_scope(settings) as session:
        message = session.get(Message, message_id)
        message.delivery_attempts = 1
        message.next_attempt_at = utcnow() + dt.timedelta(seconds=CLAIM_SECONDS)

    with session_scope(settings) as session:
        assert message_id not in due_message_ids(session)
        assert deliver(session, settings, message_id).state == "skipped"
    assert smtp_server.received == []


def test_erased_sender_fails_permanently(settings, smtp_server):
    settings = settings.with_overrides(smtp_url=smtp_server.url)
    ticket_id, message_id = queue_one_reply(settings)
    with session_scope(settings) as session:
        session.get(Ticket, ticket_id).sender_encrypted = None

    with session_scope(settings) as session:
        outcome = deliver(session, settings, message_id)

    assert outcome.state == "failed"
    assert outcome.retry_in is None
    assert "no valid sender address" in load_message(settings, message_id).delivery_error
    assert smtp_server.received == []


def test_queue_reply_rejects_empty_body(settings):
    with session_scope(settings) as session:
        ticket = make_ticket(session, settings)
        with pytest.raises(ReplyError, match="leeg"):
            queue_reply(session, settings, ticket, "  \n ", None)


def test_queue_reply_rejects_ticket_without_sender(settings):
    with session_scope(settings) as session:
        ticket = make_ticket(session, settings, sender=None)
        with pytest.raises(ReplyError, match="geen afzenderadres"):
            queue_reply(session, settings, ticket, "Antwoord", None)


def test_quarantined_ticket_keeps_status(settings):
    with session_scope(settings) as session:
        ticket = make_ticket(session, settings)
        ticket.status = TicketStatus.QUARANTINED
        queue_reply(session, settings, ticket, "Antwoord", None)
        assert ticket.status == TicketStatus.QUARANTINED


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("Condoom gescheurd", "Re: Condoom gescheurd [#{id}]"),
        ("RE: Antw: condoom gescheurd", "Re: condoom gescheurd [#{id}]"),
        ("Re: Condoom gescheurd [#{id}]", "Re: Condoom gescheurd [#{id}]"),
        ("  lange\n  regel  ", "Re: lange regel [#{id}]"),
        ("", "Re: [#{id}]"),
    ],
)
def test_reply_subject_forms(settings, subject, expected):
    with session_scope(settings) as session:
        ticket = make_ticket(session, settings)
        ticket.subject = subject.replace("{id}", str(ticket.id))
        message = queue_reply(session, settings, ticket, "Antwoord", None)
        assert message.subject == expected.replace("{id}", str(ticket.id))


def test_due_message_ids_lists_waiting_mail(settings):
    now = utcnow()
    with session_scope(settings) as session:
        ticket = make_ticket(session, settings)
        states = {
            "queued": (DeliveryState.QUEUED, now),
            "queued_without_time": (DeliveryState.QUEUED, None),
            "failed_due": (DeliveryState.FAILED, now - dt.timedelta(minutes=1)),
            "failed_later": (DeliveryState.FAILED, now + dt.timedelta(minutes=5)),
            "failed_permanently": (DeliveryState.FAILED, None),
            "sent": (DeliveryState.SENT, None),
        }
        ids = {}
        for name, (state, next_attempt_at) in states.items():
            message = queue_reply(session, settings, ticket, name, None)
            message.delivery_state = state
            message.next_attempt_at = next_attempt_at
            ids[name] = message.id

    with session_scope(settings) as session:
        due = due_message_ids(session, now + dt.timedelta(seconds=1))

    assert ids["queued"] in due
    assert ids["queued_without_time"] in due
    assert ids["failed_due"] in due
    assert ids["failed_later"] not in due
    assert ids["failed_permanently"] not in due
    assert ids["sent"] not in due


def test_retry_delay_doubles_up_to_cap():
    delays = [retry_delay(attempts) for attempts in range(1, 10)]

    assert delays[:4] == [60, 120, 240, 480]
    assert max(delays) == RETRY_MAX_DELAY_SECONDS
    assert delays == sorted(delays)


@pytest.mark.parametrize(
    "instruction", ["[Schrijf hier het antwoord.]", "[Écrivez la réponse ici.]", "[Write the answer here.]"]
)
def test_reply_with_draft_instruction_rejected(sqlite_settings, instruction):
    with session_scope(sqlite_settings) as session:
        ticket = make_ticket(session, sqlite_settings)
        with pytest.raises(ReplyError, match="aanwijzing"):
            queue_reply(session, sqlite_settings, ticket, f"Dag,\n\n{instruction}\n\nGroeten", None)


def test_reply_with_redaction_placeholder_accepted(sqlite_settings):
    with session_scope(sqlite_settings) as session:
        ticket = make_ticket(session, sqlite_settings)
        message = queue_reply(session, sqlite_settings, ticket, "Dag [naam],\n\nZie ons artikel.", None)
        assert message.delivery_state == DeliveryState.QUEUED
