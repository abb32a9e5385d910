"""From an IMAP mailbox to tickets: Dovecot, a Celery worker on Redis, and the database.

Twenty example questions from the demo mailbox are put into a real Dovecot
INBOX; a real worker process polls it once through the poll_mailboxes task.
Every question must become one ticket with a decoded subject, redacted text
and at least one FAQ suggestion, and a second poll must store nothing twice.
"""

from __future__ import annotations

import email
import email.policy

import pytest
from sqlalchemy import func, select

from helpdesk.config import PROJECT_ROOT
from helpdesk.db import session_scope
from helpdesk.redaction import detect, redact
from helpdesk.tickets.models import Direction, Message, Suggestion, Ticket
from tests.services.worker import wait_until
from workers.dispatch import send_task

pytestmark = [pytest.mark.dovecot, pytest.mark.redis, pytest.mark.slow]

DEMO_MESSAGES = PROJECT_ROOT / "helpdesk" / "demo" / "messages"
QUESTION_COUNT = 20
POLL_TIMEOUT_SECONDS = 180
# Stored text must not contain details of these kinds; they are replaced by placeholders.
IDENTIFYING_TYPES = {"EMAIL", "PHONE", "IBAN", "NATIONAL_ID"}


def is_new_question(raw: bytes) -> bool:
    """Return whether a raw mail is a person's first message: not automatic, not part of a thread."""
    headers = email.message_from_bytes(raw, policy=email.policy.default)
    if headers["In-Reply-To"] or headers["References"]:
        return False
    if (headers["Auto-Submitted"] or "no").strip().lower() != "no":
        return False
    return not str(headers["Subject"] or "").lower().startswith(("re:", "antw:", "afwezig", "out of office"))


def new_questions() -> list[bytes]:
    paths = sorted(DEMO_MESSAGES.glob("*.eml"))
    if not paths:
        pytest.skip(f"no demo messages in {DEMO_MESSAGES}")
    questions = [path.read_bytes() for path in paths if is_new_question(path.read_bytes())]
    if len(questions) < QUESTION_COUNT:
        pytest.fail(f"the demo mailbox has {len(questions)} new questions; this test needs {QUESTION_COUNT}")
    return questions[:QUESTION_COUNT]


def import_articles(settings) -> None:
    from kb.transfer import CONTENT_DIR, import_directory

    with session_scope(settings) as session:
        summary = import_directory(session, CONTENT_DIR)
    assert summary.errors == []


def poll_through_worker(settings, worker) -> None:
    task_id = send_task("workers.tasks.poll_mailboxes", [], settings)
    wait_until(
        lambda: f"[{task_id}] succeeded" in worker.log() or f"[{task_id}] raised" in worker.log(),
        POLL_TIMEOUT_SECONDS,
        f"poll task {task_id} to finish",
    )
    assert f"[{task_id}] succeeded" in worker.log(), worker.log()[-4000:]


def counts(settings) -> tuple[int, int]:
    """Return the number of tickets and of inbound messages."""
    with session_scope(settings) as session:
        tickets = session.scalar(select(func.count(Ticket.id)))
        inbound = session.scalar(select(func.count(Message.id)).where(Message.direction == Direction.INBOUND))
        return tickets, inbound


def decoded_subject(raw: bytes) -> str:
    return " ".join(str(email.message_from_bytes(raw, policy=email.policy.default)["Subject"] or "").split())


def sender_address(raw: bytes) -> str:
    return email.message_from_bytes(raw, policy=email.policy.default)["From"].addresses[0].addr_spec


def test_imap_to_tickets_through_worker(settings, imap_account, redis_url, celery_worker):
    settings = settings.with_overrides(broker_url=redis_url, mailbox_urls=(imap_account.imap_url,))
    questions = new_questions()
    import_articles(settings)
    for raw in questions:
        imap_account.append(raw)
    worker = celery_worker(settings)

    poll_through_worker(settings, worker)

    assert counts(settings) == (QUESTION_COUNT, QUESTION_COUNT)
    with session_scope(settings) as session:
        tickets = session.scalars(select(Ticket).order_by(Ticket.id)).all()
        subjects = [ticket.subject for ticket in tickets]
        for raw in questions:
            expected = decoded_subject(raw)
            if redact(expected).text == expected:
                assert expected in subjects
        for ticket in tickets:
            assert ticket.subject
            assert "=?" not in ticket.subject, f"ticket {ticket.id} has an undecoded subject"
            suggestions = session.scalars(select(Suggestion).where(Suggestion.ticket_id == ticket.id)).all()
            assert len(suggestions) >= 1, f"ticket {ticket.id} has no FAQ suggestion"

        messages = session.scalars(select(Message).where(Message.direction == Direction.INBOUND)).all()
        addresses = {sender_address(raw).lower() for raw in questions}
        for message in messages:
            stored = f"{message.subject}\n{message.body}\n{message.new_text}".lower()
            assert not any(address in stored for address in addresses), f"message {message.id} keeps a sender address"
            remaining = {entity.type for entity in detect(message.body)} & IDENTIFYING_TYPES
            assert remaining == set(), f"message {message.id} keeps {sorted(remaining)}"

    # The same mail delivered again must not make new tickets or messages.
    for raw in questions[:3]:
        imap_account.append(raw)
    poll_through_worker(settings, worker)

    assert counts(settings) == (QUESTION_COUNT, QUESTION_COUNT)
