"""Tasks run by a real Celery worker process on a real broker (Redis or the file system).

Tests whose subject is the broker or the schedule run on SQLite only; sending
runs on both databases.
"""

from __future__ import annotations

import datetime as dt
import mailbox
from pathlib import Path

import pytest
from sqlalchemy import func, select

from helpdesk.db import session_scope, utcnow
from helpdesk.ingest.polling import poll_all
from helpdesk.plugins import get_registry
from helpdesk.tickets.models import DeliveryState, Message, Ticket
from tests.services.worker import wait_until
from tests.services.ports import free_port
from tests.test_outbound_services import CLIENT, queue_one_reply, rejecting_server  # noqa: F401 - fixture
from workers.app import app
from workers.dispatch import send_task
from workers.locks import exclusive
from workers.tasks import apply_retention, send_reply

pytestmark = pytest.mark.slow

TASK_TIMEOUT_SECONDS = 60


def delivery_state(settings, message_id) -> DeliveryState:
    with session_scope(settings) as session:
        return session.get(Message, message_id).delivery_state


def ticket_count(settings) -> int:
    with session_scope(settings) as session:
        return session.scalar(select(func.count(Ticket.id)))


@pytest.mark.redis
def test_send_reply_on_redis(settings, redis_url, smtp_server, celery_worker):
    settings = settings.with_overrides(broker_url=redis_url, smtp_url=smtp_server.url)
    celery_worker(settings)
    _ticket_id, message_id = queue_one_reply(settings)

    get_registry().task_dispatchers["send_reply"](message_id, settings=settings)

    received = smtp_server.wait_for(1, timeout=TASK_TIMEOUT_SECONDS)
    assert received[0].envelope_to == [CLIENT]
    wait_until(lambda: delivery_state(settings, message_id) == DeliveryState.SENT, TASK_TIMEOUT_SECONDS, "state sent")


@pytest.mark.redis
def test_sweep_resends_due_failure(settings, redis_url, smtp_server, celery_worker):
    settings = settings.with_overrides(broker_url=redis_url, smtp_url=smtp_server.url)
    _ticket_id, message_id = queue_one_reply(settings)
    with session_scope(settings) as session:
        message = session.get(Message, message_id)
        message.delivery_state = DeliveryState.FAILED
        message.delivery_attempts = 1
        message.delivery_error = "SMTP connection to 127.0.0.1:25 failed: Connection refused"
        message.next_attempt_at = utcnow() - dt.timedelta(seconds=5)
    celery_worker(settings)

    send_task("workers.tasks.retry_failed_sends", [], settings)

    assert len(smtp_server.wait_for(1, timeout=TASK_TIMEOUT_SECONDS)) == 1
    wait_until(lambda: delivery_state(settings, message_id) == DeliveryState.SENT, TASK_TIMEOUT_SECONDS, "state sent")


@pytest.mark.redis
def test_poll_skipped_while_locked(sqlite_settings, redis_url, celery_worker):
    settings = sqlite_settings.with_overrides(broker_url=redis_url)
    worker = celery_worker(settings)

    with exclusive(settings, "poll-mailboxes") as lease:
        assert lease is not None
        send_task("workers.tasks.poll_mailboxes", [], settings)
        wait_until(lambda: "poll skipped" in worker.log(), TASK_TIMEOUT_SECONDS, "the skipped poll in the worker log")

    assert "poll started" not in worker.log()


def test_send_reply_on_file_broker(sqlite_settings, smtp_server, celery_worker):
    settings = sqlite_settings.with_overrides(smtp_url=smtp_server.url)
    assert settings.broker_url.startswith("filesystem://")
    celery_worker(settings)
    _ticket_id, message_id = queue_one_reply(settings)

    send_task("workers.tasks.send_reply", [message_id], settings)

    assert len(smtp_server.wait_for(1, timeout=TASK_TIMEOUT_SECONDS)) == 1
    wait_until(lambda: delivery_state(settings, message_id) == DeliveryState.SENT, TASK_TIMEOUT_SECONDS, "state sent")


QUESTION = (
    b"From: Klant <klant@example.org>\r\n"
    b"To: vragen@helpdesk.test\r\n"
    b"Subject: Vraag over testen\r\n"
    b"Message-ID: <beat-test-1@example.org>\r\n"
    b"Date: Fri, 04 Dec 2026 10:00:00 +0000\r\n"
    b"\r\n"
    b"Waar kan ik anoniem testen?\r\n"
)


def maildir_of(settings) -> Path:
    """Create the settings' Maildir mailbox with one question in it and return its folder."""
    folder = Path(settings.mailbox_urls[0].removeprefix("maildir:"))
    folder.parent.mkdir(parents=True, exist_ok=True)
    box = mailbox.Maildir(folder, create=True)
    box.add(QUESTION)
    box.close()
    return folder


def test_beat_polls_maildir(sqlite_settings, celery_worker):
    settings = sqlite_settings.with_overrides(poll_interval_seconds=1.0)
    maildir_of(settings)

    celery_worker(settings, "--beat")

    wait_until(lambda: ticket_count(settings) == 1, TASK_TIMEOUT_SECONDS, "the ticket from the maildir")


@pytest.fixture
def task_settings(settings, monkeypatch):
    """Run tasks in this process (Task.apply) with the test's settings; returns a function taking overrides."""

    def use(**overrides):
        configured = settings.with_overrides(**overrides)
        monkeypatch.setattr(app, "helpdesk_settings", configured)
        return configured

    return use


def test_send_reply_task_retries_when_server_down(task_settings):
    settings = task_settings(smtp_url=f"smtp://127.0.0.1:{free_port()}?timeout=5")
    _ticket_id, message_id = queue_one_reply(settings)

    result = send_reply.apply(args=[message_id])

    # Task.apply runs a retry at once instead of after its countdown. That
    # second run finds the message not yet due, so "skipped" shows that the
    # failed first run asked for a retry; without one the result is "failed".
    assert result.state == "SUCCESS"
    assert result.result == "skipped"
    assert delivery_state(settings, message_id) == DeliveryState.FAILED


def test_send_reply_task_stops_on_rejection(task_settings, rejecting_server):
    settings = task_settings(smtp_url=rejecting_server("550 5.7.1 Message refused"))
    _ticket_id, message_id = queue_one_reply(settings)

    result = send_reply.apply(args=[message_id])

    assert result.state == "SUCCESS"
    assert result.result == "failed"
    assert delivery_state(settings, message_id) == DeliveryState.FAILED


def test_retention_task_deletes_mailbox_copy(task_settings):
    settings = task_settings()
    folder = maildir_of(settings)
    poll_all(settings)
    with session_scope(settings) as session:
        message = session.scalars(select(Message)).one()
        message.received_at = utcnow() - dt.timedelta(days=settings.retention_raw_days + 1)
        message_id = message.id
    assert len(list(folder.glob("*/*"))) == 1

    result = apply_retention.apply()

    assert result.state == "SUCCESS"
    assert list(folder.glob("*/*")) == []
    with session_scope(settings) as session:
        assert session.get(Message, message_id).raw_encrypted is None
