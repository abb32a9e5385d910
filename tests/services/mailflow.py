"""Mail and database helpers for the tests that run workers against real servers with faults.

The questions are made up here, one distinct sender and Message-ID each, so
that every mail must become exactly one ticket.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import Counter
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

import pytest
import sqlalchemy as sa
from sqlalchemy import func, select

from helpdesk import schema
from helpdesk.config import Settings
from helpdesk.db import get_engine, session_scope
from helpdesk.ingest.models import IngestRecord
from helpdesk.ingest.pipeline import ingest_raw
from helpdesk.outbound.services import queue_reply
from helpdesk.tickets.models import DeliveryState, Direction, Message, Ticket
from tests.conftest import make_settings

QUESTION_TOPICS = (
    "Het condoom is gescheurd, wat moet ik nu doen?",
    "Hoe snel na risicocontact kan ik me laten testen op soa?",
    "Mag ik als klant betalen voor seks in België?",
    "Waar kan ik anoniem een hiv-test laten doen?",
    "Wat is PEP en waar krijg ik die?",
)


def sender(index: int) -> str:
    return f"client{index}@example.org"


def question(index: int) -> bytes:
    """Return a new client question as raw mail; `index` makes its sender and Message-ID unique."""
    message = EmailMessage()
    message["From"] = f"Client {index} <{sender(index)}>"
    message["To"] = "vragen@helpdesk.test"
    message["Subject"] = f"Vraag {index}"
    message["Message-ID"] = make_msgid(idstring=f"q{index}-{uuid.uuid4().hex[:8]}", domain="example.org")
    message["Date"] = format_datetime(dt.datetime.now(dt.timezone.utc))
    message.set_content(f"Hallo,\n\n{QUESTION_TOPICS[index % len(QUESTION_TOPICS)]}\n\nDank u.\n")
    return message.as_bytes()


def counts(settings: Settings) -> dict[str, int]:
    """Return the number of tickets, inbound messages and ingest records, and of quarantined tickets."""
    with session_scope(settings) as session:
        return {
            "tickets": session.scalar(select(func.count(Ticket.id))),
            "inbound": session.scalar(select(func.count(Message.id)).where(Message.direction == Direction.INBOUND)),
            "records": session.scalar(select(func.count(IngestRecord.id))),
            "quarantined": session.scalar(select(func.count(IngestRecord.id)).where(IngestRecord.status == "quarantined")),
        }


def duplicated_message_ids(settings: Settings) -> list[str]:
    """Return the Message-IDs that more than one inbound message row carries."""
    with session_scope(settings) as session:
        ids = session.scalars(select(Message.message_id).where(Message.direction == Direction.INBOUND)).all()
    return sorted(message_id for message_id, count in Counter(ids).items() if count > 1)


def tickets_with_replies(settings: Settings, count: int, first: int = 0) -> list[int]:
    """Ingest `count` questions from index `first` on and queue one staff reply on each; return the outbound message row ids."""
    message_ids = []
    with session_scope(settings) as session:
        for index in range(first, first + count):
            outcome = ingest_raw(session, settings, question(index))
            ticket = session.get(Ticket, outcome.ticket_id)
            message_ids.append(queue_reply(session, settings, ticket, f"Antwoord op vraag {index}.", None).id)
    return message_ids


def delivery_states(settings: Settings, message_ids: list[int]) -> dict[int, Message]:
    """Return the outbound messages by row id, detached, with their delivery fields loaded."""
    with session_scope(settings) as session:
        messages = session.scalars(select(Message).where(Message.id.in_(message_ids))).all()
        session.expunge_all()
    return {message.id: message for message in messages}


def all_in_state(settings: Settings, message_ids: list[int], state: DeliveryState) -> bool:
    try:
        return all(message.delivery_state == state for message in delivery_states(settings, message_ids).values())
    except sa.exc.OperationalError:
        return False


def recipients(received) -> Counter:
    return Counter(address for mail in received for address in mail.envelope_to)


@pytest.fixture
def postgres_settings(tmp_path):
    """Settings on a fresh, migrated database of the shared PostgreSQL server (skipped when unreachable)."""
    from tests.conftest import _create_postgres_database, _drop_postgres_database

    url = _create_postgres_database()
    settings = make_settings(tmp_path / "var", url)
    schema.upgrade(settings)
    yield settings
    get_engine(url).dispose()
    _drop_postgres_database(url)
