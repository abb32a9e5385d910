"""A PostgreSQL connection lost during ingest: the mail is retried, not quarantined.

An ingest step terminates its own session's server process with
pg_terminate_backend from a second connection, as a database restart or a
failover would. The ingest call must raise, store nothing, leave the
folder's last UID where it was, and the next attempt must store each mail
as one normal ticket.
"""

from __future__ import annotations

from email.message import EmailMessage

import pytest
import sqlalchemy as sa
from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError

from helpdesk.db import session_scope
from helpdesk.ingest.errors import is_connection_error
from helpdesk.ingest.models import IngestRecord, MailboxState
from helpdesk.ingest.outcomes import IngestStatus, Source
from helpdesk.ingest.state import ingest_batch, ingest_one
from helpdesk.plugins import get_registry
from helpdesk.tickets.models import Direction, Message, Ticket, TicketStatus
from tests.conftest import BACKENDS

pytestmark = [
    pytest.mark.skipif("postgresql" not in BACKENDS, reason="needs PostgreSQL (HELPDESK_TEST_BACKENDS)"),
    pytest.mark.parametrize("backend", ["postgresql"]),
]


def client_mail(number: int) -> bytes:
    message = EmailMessage()
    message["From"] = f"Client {number} <client{number}@example.net>"
    message["To"] = "vragen@helpdesk.test"
    message["Subject"] = f"Vraag {number}"
    message["Message-ID"] = f"<outage-{number}@example.net>"
    message.set_content("Hallo, hoe lang na een risico kan ik me laten testen?\n\nGroeten\n")
    return message.as_bytes()


class BackendKiller:
    """An ingest step that terminates the session's PostgreSQL backend when it reaches a given mail."""

    def __init__(self, settings, kill_at_call: int) -> None:
        self.settings = settings
        self.kill_at_call = kill_at_call
        self.calls = 0
        self.killed = 0

    def __call__(self, session, settings, ticket, message) -> None:
        self.calls += 1
        if self.calls != self.kill_at_call:
            return
        pid = session.execute(sa.text("SELECT pg_backend_pid()")).scalar_one()
        admin = sa.create_engine(self.settings.database_url, isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as connection:
                terminated = connection.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar_one()
        finally:
            admin.dispose()
        assert terminated is True
        self.killed += 1


class FailingStep:
    """An ingest step that raises for one mail, which makes a batch fall back to one savepoint per mail."""

    def __init__(self, fail_at_call: int) -> None:
        self.fail_at_call = fail_at_call
        self.calls = 0

    def __call__(self, session, settings, ticket, message) -> None:
        self.calls += 1
        if self.calls == self.fail_at_call:
            raise RuntimeError("broken step")


@pytest.fixture
def extra_steps():
    registry = get_registry()
    added: list = []

    def add(step) -> None:
        registry.ingest_steps.append(step)
        added.append(step)

    yield add
    for step in added:
        registry.ingest_steps.remove(step)


def stored_state(settings) -> dict:
    with session_scope(settings) as session:
        return {
            "tickets": session.scalar(select(func.count(Ticket.id))),
            "quarantined": session.scalar(
                select(func.count(Ticket.id)).where(Ticket.status == TicketStatus.QUARANTINED)
            ),
            "inbound": sorted(
                session.scalars(select(Message.message_id).where(Message.direction == Direction.INBOUND))
            ),
            "records": session.scalar(select(func.count(IngestRecord.id))),
            "last_uid": session.scalar(select(func.max(MailboxState.last_uid))),
        }


def batch(numbers: range) -> list[tuple[bytes, Source]]:
    return [(client_mail(number), Source("box", "INBOX", 7, number)) for number in numbers]


def test_batch_outage_raises_and_stores_nothing(settings, extra_steps):
    killer = BackendKiller(settings, kill_at_call=2)
    extra_steps(killer)

    with pytest.raises(DBAPIError) as raised:
        ingest_batch(settings, batch(range(1, 4)))

    assert killer.killed == 1
    assert is_connection_error(raised.value)
    state = stored_state(settings)
    assert state["tickets"] == 0
    assert state["records"] == 0
    assert not state["last_uid"]


def test_batch_after_outage_stores_each_mail_once(settings, extra_steps):
    killer = BackendKiller(settings, kill_at_call=2)
    extra_steps(killer)
    with pytest.raises(DBAPIError):
        ingest_batch(settings, batch(range(1, 4)))

    outcomes = ingest_batch(settings, batch(range(1, 4)))

    assert [outcome.status for outcome in outcomes] == [IngestStatus.INGESTED] * 3
    state = stored_state(settings)
    assert state["tickets"] == 3
    assert state["quarantined"] == 0
    assert state["inbound"] == ["outage-1@example.net", "outage-2@example.net", "outage-3@example.net"]
    assert state["records"] == 3
    assert state["last_uid"] == 3


def test_outage_in_per_mail_savepoints_not_quarantined(settings, extra_steps):
    # The step failure on the first mail sends the batch to one savepoint per
    # mail (the killer runs after it, so not in the first attempt), and the
    # outage then happens there, in the second mail's steps.
    extra_steps(FailingStep(fail_at_call=1))
    killer = BackendKiller(settings, kill_at_call=2)
    extra_steps(killer)

    with pytest.raises(DBAPIError):
        ingest_batch(settings, batch(range(1, 4)))

    assert killer.killed == 1
    state = stored_state(settings)
    assert state["tickets"] == 0
    assert state["records"] == 0

    outcomes = ingest_batch(settings, batch(range(1, 4)))
    assert [outcome.status for outcome in outcomes] == [IngestStatus.INGESTED] * 3
    assert stored_state(settings)["quarantined"] == 0


def test_single_mail_outage_retried_not_quarantined(settings, extra_steps):
    killer = BackendKiller(settings, kill_at_call=1)
    extra_steps(killer)
    raw, source = batch(range(5, 6))[0]

    with pytest.raises(DBAPIError):
        ingest_one(settings, raw, source)

    assert killer.killed == 1
    assert stored_state(settings)["tickets"] == 0

    outcome = ingest_one(settings, raw, source)
    assert outcome.status == IngestStatus.INGESTED
    state = stored_state(settings)
    assert state["tickets"] == 1
    assert state["quarantined"] == 0
    assert state["inbound"] == ["outage-5@example.net"]
    assert state["last_uid"] == 5


def mail_with_nul_content_id(number: int) -> bytes:
    """Return a mail whose attachment's Content-ID contains a NUL byte, which PostgreSQL rejects (DataError)."""
    message = EmailMessage()
    message["From"] = f"Client {number} <client{number}@example.net>"
    message["To"] = "vragen@helpdesk.test"
    message["Subject"] = f"Vraag {number}"
    message["Message-ID"] = f"<outage-{number}@example.net>"
    message.set_content("Hallo, zie de bijlage.")
    message.add_attachment(b"data", maintype="application", subtype="octet-stream", filename="bijlage.bin")
    return message.as_bytes().replace(
        b"Content-Disposition: attachment", b"Content-ID: <part\x00one@example.net>\nContent-Disposition: attachment"
    )


def test_content_failure_still_quarantines(settings):
    # NOTE: this relies on the parser keeping a NUL byte in a Content-ID.
    # Once the parser strips it, the test needs another mail that fails to store.
    mails = [
        (client_mail(1), Source("box", "INBOX", 7, 1)),
        (mail_with_nul_content_id(2), Source("box", "INBOX", 7, 2)),
        (client_mail(3), Source("box", "INBOX", 7, 3)),
    ]

    outcomes = ingest_batch(settings, mails)

    assert [outcome.status for outcome in outcomes] == [
        IngestStatus.INGESTED,
        IngestStatus.QUARANTINED,
        IngestStatus.INGESTED,
    ]
    assert outcomes[1].reason == "ingest_failed:DataError"
    state = stored_state(settings)
    assert state["tickets"] == 3
    assert state["quarantined"] == 1
    assert state["records"] == 3
    assert state["last_uid"] == 3
