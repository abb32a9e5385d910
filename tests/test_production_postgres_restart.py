"""PostgreSQL stopped and started again while a real worker ingests and sends.

The database is a private cluster on a free port, so stopping it touches no
one else. Nothing may be lost or stored twice, the failure must show in the
worker's log as a task retry, and the work must finish once the server is
back without anyone starting it again.
"""

from __future__ import annotations

import threading
import time
import uuid

import pytest
import sqlalchemy as sa
from sqlalchemy import select

from helpdesk import schema
from helpdesk.db import get_engine, session_scope
from helpdesk.ingest.models import MailboxState
from helpdesk.tickets.models import DeliveryState
from tests.conftest import make_settings
from tests.services.mailflow import (
    all_in_state,
    counts,
    delivery_states,
    duplicated_message_ids,
    question,
    recipients,
    sender,
    tickets_with_replies,
)
from tests.services.postgres import postgres_cluster  # noqa: F401
from tests.services.restartable import private_redis  # noqa: F401
from tests.services.worker import wait_until
from workers.dispatch import send_task

pytestmark = [pytest.mark.dovecot, pytest.mark.redis, pytest.mark.slow]

MESSAGE_COUNT = 80
# Mails per FETCH and per transaction: small, so that the first half takes several batches.
BATCH_SIZE = 5
POLL_INTERVAL_SECONDS = 5.0
REPLY_COUNT = 5
RECOVERY_TIMEOUT_SECONDS = 240
DOWN_SECONDS = 3.0


@pytest.fixture
def cluster_settings(postgres_cluster, tmp_path):
    url = postgres_cluster.create_database(f"helpdesk_{uuid.uuid4().hex[:12]}")
    settings = make_settings(tmp_path / "var", url)
    schema.upgrade(settings)
    yield settings
    get_engine(url).dispose()


def tickets_when_up(settings) -> int:
    try:
        return counts(settings)["tickets"]
    except sa.exc.OperationalError:
        return 0


def last_uid(settings) -> int:
    with session_scope(settings) as session:
        return session.scalars(select(MailboxState.last_uid)).one()


def test_restart_during_ingest_loses_nothing(cluster_settings, postgres_cluster, imap_account, private_redis, celery_worker):
    settings = cluster_settings.with_overrides(
        broker_url=private_redis.url(), mailbox_urls=(imap_account.imap_url,), imap_after_processing="seen",
        imap_batch_size=BATCH_SIZE,
    )
    first_half = MESSAGE_COUNT // 2
    for index in range(first_half):
        imap_account.append(question(index))
    worker = celery_worker(settings)

    send_task("workers.tasks.poll_mailboxes", [], settings)
    wait_until(lambda: tickets_when_up(settings) > 0, 120, "the first tickets")
    get_engine(settings.database_url).dispose()
    postgres_cluster.stop()
    try:
        # A poll that starts while the database is down fails at its first
        # query, whether or not the running poll was hit mid-batch.
        send_task("workers.tasks.poll_mailboxes", [], settings)
        wait_until(lambda: "retry: Retry in" in worker.log(), 60, "a poll_mailboxes retry in the worker log")
        time.sleep(DOWN_SECONDS)
    finally:
        postgres_cluster.start()
    # This half can only be ingested after the restart.
    for index in range(first_half, MESSAGE_COUNT):
        imap_account.append(question(index))

    polls_sent_at = [time.monotonic()]
    send_task("workers.tasks.poll_mailboxes", [], settings)

    def all_ingested() -> bool:
        if tickets_when_up(settings) >= MESSAGE_COUNT:
            return True
        if time.monotonic() - polls_sent_at[-1] > POLL_INTERVAL_SECONDS:
            polls_sent_at.append(time.monotonic())
            send_task("workers.tasks.poll_mailboxes", [], settings)  # as the beat would
        return False

    wait_until(all_ingested, RECOVERY_TIMEOUT_SECONDS, f"{MESSAGE_COUNT} tickets after the restart")
    assert counts(settings) == {"tickets": MESSAGE_COUNT, "inbound": MESSAGE_COUNT, "records": MESSAGE_COUNT, "quarantined": 0}
    assert duplicated_message_ids(settings) == []
    assert last_uid(settings) == max(imap_account.folder_uids())
    assert "OperationalError" in worker.log(), worker.log()[-4000:]


def test_restart_after_smtp_accepted_sends_once(cluster_settings, postgres_cluster, private_redis, smtp_server, celery_worker):
    settings = cluster_settings.with_overrides(broker_url=private_redis.url(), smtp_url=smtp_server.url)
    [message_id] = tickets_with_replies(settings, 1)
    worker = celery_worker(settings)
    get_engine(settings.database_url).dispose()
    restarts: list[threading.Timer] = []

    def restart_database() -> None:
        # Runs after the worker committed its claim and before it hears the
        # server's 250, so the outcome cannot be committed at first.
        postgres_cluster.stop()
        timer = threading.Timer(DOWN_SECONDS, postgres_cluster.start)
        restarts.append(timer)
        timer.start()

    smtp_server.before_accept = restart_database
    try:
        send_task("workers.tasks.send_reply", [message_id], settings)
        wait_until(
            lambda: all_in_state(settings, [message_id], DeliveryState.SENT), RECOVERY_TIMEOUT_SECONDS, "the reply sent"
        )
    finally:
        for timer in restarts:
            timer.join()

    assert len(restarts) == 1
    assert recipients(smtp_server.received) == {sender(0): 1}
    message = delivery_states(settings, [message_id])[message_id]
    assert message.delivery_attempts == 1
    assert "recording the delivery outcome failed, retrying" in worker.log(), worker.log()[-4000:]


def test_restart_during_sending_sends_once(cluster_settings, postgres_cluster, private_redis, smtp_server, celery_worker):
    settings = cluster_settings.with_overrides(broker_url=private_redis.url(), smtp_url=smtp_server.url)
    message_ids = tickets_with_replies(settings, REPLY_COUNT)
    worker = celery_worker(settings)
    get_engine(settings.database_url).dispose()
    postgres_cluster.stop()

    try:
        for message_id in message_ids:
            send_task("workers.tasks.send_reply", [message_id], settings)
        wait_until(lambda: "send_reply" in worker.log() and "retry: Retry in" in worker.log(), 60, "a send_reply retry")
        assert smtp_server.received == []
    finally:
        postgres_cluster.start()

    wait_until(lambda: all_in_state(settings, message_ids, DeliveryState.SENT), RECOVERY_TIMEOUT_SECONDS, "all replies sent")
    received = smtp_server.wait_for(REPLY_COUNT)
    assert recipients(received) == {sender(index): 1 for index in range(REPLY_COUNT)}
    for message in delivery_states(settings, message_ids).values():
        assert message.delivery_attempts == 1, f"message {message.id} took {message.delivery_attempts} attempts"
