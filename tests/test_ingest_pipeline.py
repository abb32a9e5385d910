"""ingest_raw: threading, duplicates, loops, automatic mail, bounces, quarantine and privacy."""

from __future__ import annotations

import threading
import time
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import event, func, select

from helpdesk.crypto import address_hash, decrypt, decrypt_bytes
from helpdesk.db import get_engine, session_scope, utcnow
from helpdesk.ingest.models import IngestRecord
from helpdesk.ingest.outcomes import IngestStatus, Source
from helpdesk.ingest.pipeline import ingest_raw, quarantine_raw
from helpdesk.ingest.state import ingest_batch
from helpdesk.plugins import get_registry
from helpdesk.tickets.models import DeliveryState, Direction, Message, Suggestion, Ticket, TicketEvent, TicketStatus
from kb.transfer import import_directory

FIXTURES = Path(__file__).parent / "fixtures" / "mail"
KB_CONTENT = Path(__file__).resolve().parents[1] / "kb" / "content"
CLIENT = "client.een@example.net"


def make_mail(
    body: str = "Hallo, hoe lang na een risico kan ik me laten testen?",
    subject: str = "Vraag over een test",
    sender: str = f"Client Een <{CLIENT}>",
    message_id: str | None = "first-1@example.net",
    in_reply_to: str | None = None,
    references: str | None = None,
    headers: dict[str, str] | None = None,
) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = "vragen@helpdesk.test"
    message["Subject"] = subject
    message["Date"] = format_datetime(utcnow())
    if message_id:
        message["Message-ID"] = f"<{message_id}>"
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
    if references:
        message["References"] = references
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(body)
    return message.as_bytes()


def ingest(settings, raw: bytes, source: Source | None = None):
    with session_scope(settings) as session:
        return ingest_raw(session, settings, raw, source)


def add_outbound(settings, ticket_id: int, message_id: str = "out-1@helpdesk.test") -> int:
    with session_scope(settings) as session:
        message = Message(
            ticket_id=ticket_id,
            direction=Direction.OUTBOUND,
            message_id=message_id,
            subject="Re: Vraag over een test [#1]",
            body="Je kan je gratis laten testen.",
            delivery_state=DeliveryState.SENT,
        )
        session.add(message)
        session.flush()
        return message.id


def set_status(settings, ticket_id: int, status: TicketStatus) -> None:
    with session_scope(settings) as session:
        session.get(Ticket, ticket_id).status = status


def ticket_of(settings, ticket_id: int) -> Ticket:
    with session_scope(settings) as session:
        ticket = session.get(Ticket, ticket_id)
        ticket.messages, ticket.events  # load before the session closes
        for message in ticket.messages:
            message.attachments
        return ticket


def count(settings, model) -> int:
    with session_scope(settings) as session:
        return session.scalar(select(func.count()).select_from(model))


def test_new_mail_opens_ticket(settings):
    outcome = ingest(settings, make_mail(body="Mijn nummer is 0470 12 34 56, bel me terug."))

    assert outcome.status == IngestStatus.INGESTED
    ticket = ticket_of(settings, outcome.ticket_id)
    assert ticket.status == TicketStatus.NEW
    assert ticket.subject == "Vraag over een test"
    assert [message.id for message in ticket.messages] == [outcome.message_id]
    message = ticket.messages[0]
    assert message.direction == Direction.INBOUND
    assert "0470" not in message.body
    assert "[telefoonnummer]" in message.new_text
    assert [event.kind for event in ticket.events] == ["created"]


def test_sender_stored_encrypted_only(settings):
    outcome = ingest(settings, make_mail(body=f"Mijn adres is {CLIENT}"))

    ticket = ticket_of(settings, outcome.ticket_id)
    assert decrypt(settings, ticket.sender_encrypted) == CLIENT
    assert ticket.sender_hash == address_hash(settings, CLIENT)
    message = ticket.messages[0]
    for text in (ticket.subject, message.subject, message.body, message.new_text):
        assert CLIENT not in text
    assert "[e-mailadres]" in message.body


def test_originals_kept_encrypted(settings):
    raw = make_mail(body="Ik ben Jan, mijn nummer is 0470 12 34 56.")

    outcome = ingest(settings, raw)

    message = ticket_of(settings, outcome.ticket_id).messages[0]
    assert decrypt_bytes(settings, message.raw_encrypted) == raw
    assert "0470 12 34 56" in decrypt(settings, message.original_encrypted)
    assert message.raw_size == len(raw)


def test_originals_not_kept_when_disabled(settings):
    settings = settings.with_overrides(keep_originals=False)

    outcome = ingest(settings, make_mail())

    message = ticket_of(settings, outcome.ticket_id).messages[0]
    assert message.raw_encrypted is None
    assert message.original_encrypted is None


def test_same_raw_is_duplicate(settings):
    raw = make_mail()

    first = ingest(settings, raw)
    second = ingest(settings, raw)

    assert second.status == IngestStatus.DUPLICATE
    assert second.ticket_id == first.ticket_id
    assert count(settings, Message) == 1


def test_same_message_id_is_duplicate(settings):
    first = ingest(settings, make_mail(body="Eerste versie"))
    second = ingest(settings, make_mail(body="Tweede kopie met andere bytes"))

    assert second.status == IngestStatus.DUPLICATE
    assert second.ticket_id == first.ticket_id
    assert count(settings, Ticket) == 1


def test_concurrent_ingest_stores_once(settings):
    raw = make_mail()
    outcomes = []

    with session_scope(settings) as first_session:
        outcomes.append(ingest_raw(first_session, settings, raw))
        worker = threading.Thread(target=lambda: outcomes.append(ingest(settings, raw)))
        worker.start()
        # Give the second worker time to pass its checks and wait on the
        # unique index; if it is slower, it sees the committed row instead.
        time.sleep(0.5)
    worker.join(timeout=60)

    assert not worker.is_alive()
    assert sorted(outcome.status.value for outcome in outcomes) == ["duplicate", "ingested"]
    assert count(settings, Message) == 1
    assert count(settings, IngestRecord) == 1


def test_reply_threads_by_in_reply_to(settings):
    first = ingest(settings, make_mail())
    add_outbound(settings, first.ticket_id)

    reply = ingest(settings, make_mail(subject="Re: iets anders", message_id="reply-1@example.net", in_reply_to="<out-1@helpdesk.test>"))

    assert reply.ticket_id == first.ticket_id
    assert [event.kind for event in ticket_of(settings, first.ticket_id).events] == ["created", "client_reply"]


def test_reply_threads_by_references(settings):
    first = ingest(settings, make_mail())

    reply = ingest(
        settings,
        make_mail(
            subject="Nog een vraag",
            message_id="reply-2@example.net",
            references="<unknown@example.net> <first-1@example.net>",
        ),
    )

    assert reply.ticket_id == first.ticket_id


def test_several_in_reply_to_ids(settings):
    first = ingest(settings, make_mail())

    reply = ingest(
        settings,
        make_mail(message_id="reply-3@example.net", in_reply_to="<unknown@example.net> <first-1@example.net>"),
    )

    assert reply.ticket_id == first.ticket_id


def test_reply_threads_by_subject_reference(settings):
    first = ingest(settings, make_mail())

    reply = ingest(settings, make_mail(subject=f"Re: vraag [#{first.ticket_id}]", message_id="reply-4@example.net"))

    assert reply.ticket_id == first.ticket_id


def test_subject_reference_from_stranger_opens_new_ticket(settings):
    first = ingest(settings, make_mail())

    other = ingest(
        settings,
        make_mail(
            subject=f"Re: vraag [#{first.ticket_id}]",
            sender="Iemand <someone.else@example.org>",
            message_id="stranger@example.org",
        ),
    )

    assert other.status == IngestStatus.INGESTED
    assert other.ticket_id != first.ticket_id


@pytest.mark.parametrize("status", [TicketStatus.CLOSED, TicketStatus.WAITING])
def test_client_reply_reopens(settings, status):
    first = ingest(settings, make_mail())
    set_status(settings, first.ticket_id, status)

    ingest(settings, make_mail(message_id="reply-5@example.net", in_reply_to="<first-1@example.net>"))

    ticket = ticket_of(settings, first.ticket_id)
    assert ticket.status == TicketStatus.OPEN
    assert "reopened" in [event.kind for event in ticket.events]


def test_own_address_is_ignored(settings):
    outcome = ingest(settings, make_mail(sender="Helpdesk <vragen@helpdesk.test>", message_id="loop@helpdesk.test"))

    assert outcome.status == IngestStatus.IGNORED
    assert outcome.reason == "own-address"
    assert count(settings, Ticket) == 0


def test_own_outbound_message_is_ignored(settings):
    first = ingest(settings, make_mail())
    add_outbound(settings, first.ticket_id)

    outcome = ingest(settings, make_mail(sender="Relay <relay@example.org>", message_id="out-1@helpdesk.test"))

    assert outcome.status == IngestStatus.IGNORED
    assert outcome.reason == "own-message"
    assert count(settings, Message) == 2


def test_ignored_mail_is_duplicate_later(settings):
    raw = make_mail(sender="vragen@helpdesk.test", message_id="loop-2@helpdesk.test")

    ingest(settings, raw)
    again = ingest(settings, raw)

    assert again.status == IngestStatus.DUPLICATE


def test_auto_reply_attached_without_reopening(settings):
    first = ingest(settings, make_mail())
    add_outbound(settings, first.ticket_id)
    set_status(settings, first.ticket_id, TicketStatus.WAITING)

    outcome = ingest(settings, (FIXTURES / "auto-submitted-out-of-office.eml").read_bytes())

    assert outcome.status == IngestStatus.INGESTED
    assert outcome.automatic
    assert outcome.ticket_id == first.ticket_id
    ticket = ticket_of(settings, first.ticket_id)
    assert ticket.status == TicketStatus.WAITING
    automatic = [message for message in ticket.messages if message.is_automatic]
    assert [message.automatic_reason for message in automatic] == ["auto-submitted:auto-replied"]


@pytest.mark.parametrize(
    "name", ["out-of-office-subject-only-nl.eml", "out-of-office-subject-only-fr.eml", "mailing-list.eml"]
)
def test_automatic_mail_without_ticket_ignored(settings, name):
    outcome = ingest(settings, (FIXTURES / name).read_bytes())

    assert outcome.status == IngestStatus.IGNORED
    assert outcome.automatic
    assert count(settings, Ticket) == 0
    assert count(settings, IngestRecord) == 1


def test_bounce_marks_outbound_bounced(settings):
    first = ingest(settings, make_mail())
    outbound_id = add_outbound(settings, first.ticket_id)

    outcome = ingest(settings, (FIXTURES / "bounce-dsn.eml").read_bytes())

    assert outcome.ticket_id == first.ticket_id
    assert outcome.automatic
    with session_scope(settings) as session:
        outbound = session.get(Message, outbound_id)
        assert outbound.delivery_state == DeliveryState.BOUNCED
        assert "5.1.1" in outbound.delivery_error
        assert "User unknown" in outbound.delivery_error
        kinds = session.scalars(select(TicketEvent.kind).where(TicketEvent.ticket_id == first.ticket_id)).all()
    assert "reply_bounced" in kinds
    assert ticket_of(settings, first.ticket_id).status == TicketStatus.NEW


def test_bounce_of_unknown_message_ignored(settings):
    outcome = ingest(settings, (FIXTURES / "bounce-dsn.eml").read_bytes())

    assert outcome.status == IngestStatus.IGNORED
    assert count(settings, Ticket) == 0


def test_too_large_mail_quarantined(settings):
    settings = settings.with_overrides(max_message_bytes=300, keep_originals=False)
    raw = make_mail(body="x" * 2000)

    outcome = ingest(settings, raw)

    assert outcome.status == IngestStatus.QUARANTINED
    ticket = ticket_of(settings, outcome.ticket_id)
    assert ticket.status == TicketStatus.QUARANTINED
    assert ticket.quarantine_reason == f"too_large:{len(raw)}"
    assert ticket.subject == "Vraag over een test"
    assert decrypt_bytes(settings, ticket.messages[0].raw_encrypted) == raw


def test_unreadable_mail_quarantined(settings):
    raw = (
        b"From: a@example.net\r\nSubject: Geheim\r\nMessage-ID: <enc@example.net>\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: application/pkcs7-mime; smime-type=enveloped-data\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\nMIAGCSqGSIb3DQEHA6CAMIACAQA=\r\n"
    )

    outcome = ingest(settings, raw)

    assert outcome.status == IngestStatus.QUARANTINED
    assert outcome.reason == "smime_encrypted"
    ticket = ticket_of(settings, outcome.ticket_id)
    assert ticket.quarantine_reason == outcome.reason
    assert decrypt_bytes(settings, ticket.messages[0].raw_encrypted) == raw


def test_parse_problem_holds_no_mail_content(settings):
    # A sender can put an address in a content type, so problems never quote one.
    raw = (
        b"From: Client Een <client.een@example.net>\r\nSubject: Vraag\r\nMessage-ID: <problem@example.net>\r\n"
        b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
        b"--b\r\nContent-Type: text/plain\r\n\r\nHallo\r\n"
        b"--b\r\nContent-Type: application/marie.dubois@example.net\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        b"QUJD=\r\n--b--\r\n"
    )

    with session_scope(settings) as session:
        outcome = ingest_raw(session, settings, raw)
        problem = session.get(Message, outcome.message_id).parse_problem

    assert "mime_defects:InvalidBase64PaddingDefect" in problem.split("; ")
    assert "marie.dubois" not in problem
    assert "application/" not in problem


def test_large_attachment_dropped_with_reason(settings):
    settings = settings.with_overrides(max_attachment_bytes=10)
    message = EmailMessage()
    message["From"] = CLIENT
    message["Subject"] = "Bijlagen"
    message["Message-ID"] = "<attachments@example.net>"
    message.set_content("Zie bijlagen")
    message.add_attachment(b"small", maintype="application", subtype="octet-stream", filename="klein.bin")
    message.add_attachment(b"x" * 100, maintype="application", subtype="octet-stream", filename="groot.bin")

    outcome = ingest(settings, message.as_bytes())

    attachments = ticket_of(settings, outcome.ticket_id).messages[0].attachments
    assert [attachment.filename for attachment in attachments] == ["klein.bin", "groot.bin"]
    assert decrypt_bytes(settings, attachments[0].data_encrypted) == b"small"
    assert attachments[0].dropped_reason is None
    assert attachments[1].data_encrypted is None
    assert "100 bytes" in attachments[1].dropped_reason


def test_source_recorded(settings):
    source = Source(mailbox="imap://vragen@mail.example.org:993", folder="INBOX", uidvalidity=7, uid=42)

    outcome = ingest(settings, make_mail(), source)

    message = ticket_of(settings, outcome.ticket_id).messages[0]
    assert (message.mailbox, message.folder, message.uidvalidity, message.uid) == (source.mailbox, "INBOX", 7, 42)
    assert ticket_of(settings, outcome.ticket_id).mailbox == source.mailbox


@pytest.fixture
def recorded_steps():
    registry = get_registry()
    calls: list[tuple[int, int]] = []

    def record(session, settings, ticket, message):
        calls.append((ticket.id, message.id))

    def fail(session, settings, ticket, message):
        raise RuntimeError("broken step")

    registry.ingest_steps.extend([fail, record])
    try:
        yield calls
    finally:
        registry.ingest_steps.remove(fail)
        registry.ingest_steps.remove(record)


def test_ingest_steps_run_for_client_mail(settings, recorded_steps):
    outcome = ingest(settings, make_mail())

    assert recorded_steps == [(outcome.ticket_id, outcome.message_id)]
    kinds = [event.kind for event in ticket_of(settings, outcome.ticket_id).events]
    assert "ingest_step_failed" in kinds


def test_ingest_steps_skip_automatic_mail(settings, recorded_steps):
    first = ingest(settings, make_mail())
    add_outbound(settings, first.ticket_id)
    recorded_steps.clear()

    ingest(settings, (FIXTURES / "auto-submitted-out-of-office.eml").read_bytes())

    assert recorded_steps == []


def batch_sources(count: int) -> list[Source]:
    return [Source("box", "INBOX", 7, uid) for uid in range(1, count + 1)]


def test_batch_threads_reply_to_mail_of_same_batch(settings):
    question = make_mail(message_id="first-1@example.net")
    reply = make_mail(body="Hoe lang duurt het voor de uitslag?", message_id="second-2@example.net", in_reply_to="<first-1@example.net>")
    other = make_mail(sender="Iemand Anders <ander@example.net>", message_id="other-3@example.net")

    outcomes = ingest_batch(settings, list(zip([question, reply, other], batch_sources(3))))

    assert [outcome.status for outcome in outcomes] == [IngestStatus.INGESTED] * 3
    assert outcomes[0].ticket_id == outcomes[1].ticket_id
    assert outcomes[2].ticket_id != outcomes[0].ticket_id
    ticket = ticket_of(settings, outcomes[0].ticket_id)
    assert [message.message_id for message in ticket.messages] == ["first-1@example.net", "second-2@example.net"]
    assert [event.kind for event in ticket.events] == ["created", "client_reply"]
    assert [event.detail["message_id"] for event in ticket.events] == [outcomes[0].message_id, outcomes[1].message_id]


def test_batch_reply_prefers_earlier_stored_id(settings):
    stored = ingest(settings, make_mail(message_id="stored-1@example.net"))
    question = make_mail(body="Een tweede vraag.", message_id="new-2@example.net")
    reply = make_mail(
        body="Nog iets.",
        message_id="reply-3@example.net",
        in_reply_to="<stored-1@example.net>",
        references="<new-2@example.net> <stored-1@example.net>",
    )

    outcomes = ingest_batch(settings, list(zip([question, reply], batch_sources(2))))

    assert outcomes[0].ticket_id != stored.ticket_id
    assert outcomes[1].ticket_id == stored.ticket_id


def test_pending_reply_queries_no_messages(settings, statements):
    question = make_mail(message_id="first-1@example.net")
    reply = make_mail(body="Nog iets.", message_id="second-2@example.net", in_reply_to="<first-1@example.net>")
    statements.clear()

    outcomes = ingest_batch(settings, list(zip([question, reply], batch_sources(2))))

    assert outcomes[0].ticket_id == outcomes[1].ticket_id
    lookups = [statement for statement in statements if statement.startswith("SELECT messages.message_id, messages.ticket_id")]
    assert lookups == []


def test_batch_records_each_outcome(settings):
    mails = [make_mail(message_id=f"batch-{number}@example.net") for number in range(1, 4)]

    outcomes = ingest_batch(settings, list(zip(mails, batch_sources(3))))

    with session_scope(settings) as session:
        records = session.scalars(select(IngestRecord).order_by(IngestRecord.uid)).all()
        record_ids = [(record.status, record.ticket_id, record.message_row_id, record.uid) for record in records]
    assert record_ids == [("ingested", outcome.ticket_id, outcome.message_id, uid) for uid, outcome in enumerate(outcomes, 1)]


def test_batch_suggestions_follow_newest_message(settings):
    with session_scope(settings) as session:
        import_directory(session, KB_CONTENT)
    question = make_mail(message_id="first-1@example.net")
    reply = make_mail(body="Waar kan ik PrEP krijgen?", message_id="second-2@example.net", in_reply_to="<first-1@example.net>")

    outcomes = ingest_batch(settings, list(zip([question, reply], batch_sources(2))))

    with session_scope(settings) as session:
        message_ids = set(session.scalars(select(Suggestion.message_id).where(Suggestion.ticket_id == outcomes[1].ticket_id)))
        language = session.get(Ticket, outcomes[1].ticket_id).language
    assert message_ids == {outcomes[1].message_id}
    assert language == "nl"


def test_batch_reply_reopens_closed_ticket_once(settings):
    first = ingest(settings, make_mail(message_id="first-1@example.net"))
    set_status(settings, first.ticket_id, TicketStatus.CLOSED)
    replies = [
        make_mail(body="Nog een vraag.", message_id="reply-2@example.net", in_reply_to="<first-1@example.net>"),
        make_mail(body="En nog een.", message_id="reply-3@example.net", in_reply_to="<first-1@example.net>"),
    ]

    ingest_batch(settings, list(zip(replies, batch_sources(2))))

    ticket = ticket_of(settings, first.ticket_id)
    assert ticket.status == TicketStatus.OPEN
    assert [event.kind for event in ticket.events] == ["created", "client_reply", "reopened", "client_reply"]


def test_batch_acknowledges_question_before_its_reply(settings):
    settings = settings.with_overrides(autoreply_enabled=True)
    question = make_mail(message_id="first-1@example.net")
    reply = make_mail(body="Nog iets vergeten.", message_id="second-2@example.net", in_reply_to="<first-1@example.net>")

    outcomes = ingest_batch(settings, list(zip([question, reply], batch_sources(2))))

    with session_scope(settings) as session:
        acknowledgements = session.scalars(
            select(Message.ticket_id).where(Message.direction == Direction.OUTBOUND, Message.is_acknowledgement.is_(True))
        ).all()
    assert acknowledgements == [outcomes[0].ticket_id]


@pytest.fixture
def statements(settings, monkeypatch):
    """The SQL statements that the settings' database runs while the test runs, collapsed to one line each.

    COPY statements go to psycopg directly (helpdesk.deferred_rows), so they are recorded there.
    """
    executed: list[str] = []
    engine = get_engine(settings.database_url)

    def record(connection, cursor, statement, parameters, context, executemany):
        executed.append(" ".join(statement.split()))

    copy = psycopg.Cursor.copy

    def record_copy(cursor, statement, *args, **kwargs):
        executed.append(" ".join(str(statement).split()))
        return copy(cursor, statement, *args, **kwargs)

    monkeypatch.setattr(psycopg.Cursor, "copy", record_copy)
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield executed
    finally:
        event.remove(engine, "before_cursor_execute", record)


def test_batch_inserts_each_table_once(settings, statements):
    with session_scope(settings) as session:
        import_directory(session, KB_CONTENT)
    mails = [make_mail(body=f"Vraag {number}: waar kan ik me anoniem laten testen op soa?", message_id=f"batch-{number}@example.net")
             for number in range(1, 6)]
    statements.clear()

    outcomes = ingest_batch(settings, list(zip(mails, batch_sources(5))))

    inserts = {
        table: sum(statement.startswith((f"INSERT INTO {table} ", f"COPY {table} ")) for statement in statements)
        for table in ("tickets", "messages", "ticket_events", "ingest_records", "suggestions")
    }
    assert inserts == {"tickets": 1, "messages": 1, "ticket_events": 1, "ingest_records": 1, "suggestions": 1}
    assert not [statement for statement in statements if statement.startswith("UPDATE tickets")]
    with session_scope(settings) as session:
        tickets = [session.get(Ticket, outcome.ticket_id) for outcome in outcomes]
        assert [ticket.language for ticket in tickets] == ["nl"] * 5
        assert all(ticket.draft for ticket in tickets)
        assert all(ticket.messages[0].language == "nl" for ticket in tickets)


def test_batch_numbers_rows_in_mail_order(settings):
    ingest(settings, make_mail(message_id="earlier@example.net"))
    mails = [make_mail(message_id=f"batch-{number}@example.net") for number in range(1, 5)]

    outcomes = ingest_batch(settings, list(zip(mails, batch_sources(4))))

    ticket_ids = [outcome.ticket_id for outcome in outcomes]
    message_ids = [outcome.message_id for outcome in outcomes]
    assert ticket_ids == sorted(set(ticket_ids))
    assert message_ids == sorted(set(message_ids))
    with session_scope(settings) as session:
        stored = session.execute(select(Message.message_id).order_by(Message.id)).scalars().all()
    assert stored == ["earlier@example.net", *[f"batch-{number}@example.net" for number in range(1, 5)]]


def test_batch_acknowledges_question_in_its_own_language(settings):
    settings = settings.with_overrides(autoreply_enabled=True)
    question = make_mail(message_id="first-1@example.net")
    reply = make_mail(
        body="Sorry, I forgot to ask: can I also get tested anonymously in Antwerp?",
        message_id="second-2@example.net",
        in_reply_to="<first-1@example.net>",
    )

    outcomes = ingest_batch(settings, list(zip([question, reply], batch_sources(2))))

    with session_scope(settings) as session:
        ticket = session.get(Ticket, outcomes[0].ticket_id)
        acknowledgements = [message for message in ticket.messages if message.is_acknowledgement]
        assert [message.language for message in acknowledgements] == ["nl"]
        assert ticket.language == "en"


def test_batch_acknowledgement_links_deferred_suggestions(settings):
    with session_scope(settings) as session:
        import_directory(session, KB_CONTENT)
    settings = settings.with_overrides(autoreply_enabled=True)
    mails = [
        make_mail(body="Waar kan ik PrEP krijgen en wat kost dat?", message_id="first-1@example.net"),
        make_mail(
            body="Hoe lang na een risico kan ik me laten testen op hiv?",
            sender="Iemand Anders <ander@example.net>",
            message_id="other-2@example.net",
        ),
    ]

    outcomes = ingest_batch(settings, list(zip(mails, batch_sources(2))))

    with session_scope(settings) as session:
        for outcome in outcomes:
            ticket = session.get(Ticket, outcome.ticket_id)
            ranked = sorted(ticket.suggestions, key=lambda suggestion: (suggestion.rank, suggestion.id))
            confident = [suggestion.slug for suggestion in ranked if suggestion.confident]
            acknowledgement = next(message for message in ticket.messages if message.is_acknowledgement)
            assert confident
            assert acknowledgement.article_slugs == confident


@pytest.fixture
def failing_annotator():
    registry = get_registry()

    def fail(session, settings, ticket, message):
        ticket.language = "xx"
        raise RuntimeError("broken annotator")

    registry.ingest_annotators.insert(0, fail)
    try:
        yield
    finally:
        registry.ingest_annotators.remove(fail)


def test_failing_annotator_leaves_values_to_step(settings, failing_annotator):
    outcome = ingest(settings, make_mail())

    ticket = ticket_of(settings, outcome.ticket_id)
    assert outcome.status == IngestStatus.INGESTED
    assert ticket.language == "nl"
    assert ticket.draft


def test_failing_annotator_in_batch_stores_every_mail(settings, failing_annotator):
    mails = [make_mail(message_id=f"batch-{number}@example.net") for number in range(1, 4)]

    outcomes = ingest_batch(settings, list(zip(mails, batch_sources(3))))

    assert [outcome.status for outcome in outcomes] == [IngestStatus.INGESTED] * 3
    assert [ticket_of(settings, outcome.ticket_id).language for outcome in outcomes] == ["nl"] * 3


def test_quarantine_raw_keeps_mail_once(settings):
    raw = make_mail(message_id="kapot-1@example.net")

    with session_scope(settings) as session:
        first = quarantine_raw(session, settings, raw, Source("box", "INBOX", 7, 1), "ingest_failed:DataError")
    with session_scope(settings) as session:
        again = quarantine_raw(session, settings, raw, Source("box", "INBOX", 7, 1), "ingest_failed:DataError")

    assert first.status == IngestStatus.QUARANTINED
    assert again.status == IngestStatus.DUPLICATE
    with session_scope(settings) as session:
        ticket = session.get(Ticket, first.ticket_id)
        assert ticket.status == TicketStatus.QUARANTINED
        assert ticket.quarantine_reason == "ingest_failed:DataError"
        assert decrypt_bytes(settings, ticket.messages[0].raw_encrypted) == raw
