"""PostgreSQL stopped and started again while a real worker ingests and sends.

The database is a private cluster on a free port, so stopping it touches no
one else. Nothing may be lost or stored twice, the failure must show in the
worker's log as a task retry, and the work must finish once the server is
back without anyone starting it again.
"""

from __future__ import annotations

import uuid

import os

import pytest
import sqlalchemy as sa

from helpdesk import schema
from helpdesk.db import get_engine
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


def counts_when_up(settings) -> dict[str, int] | None:
    try:
        return counts(settings)
    except sa.exc.OperationalError:
        return None


# The worker runs at its own pace, so a fault can land after the last mail.
# Such a run proves nothing and is the only case run again. A lost or
# duplicated mail fails at once.
@pytest.mark.flaky(reruns=2, only_rerun=['the poll finished before the restart'])
# TODO: make the restart land mid-poll deterministically. With one commit per
# fetch batch the poll often finishes first under parallel test runs, so the
# test is opt-in until then.
@pytest.mark.skipif(
    os.environ.get("HELPDESK_RUN_TIMING_TESTS") != "1",
    reason="timing-dependent restart test; set HELPDESK_RUN_TIMING_TESTS=1 to run it",
)
def test_restart_during_ingest_loses_nothing(cluster_settings, postgres_cluster, imap_account, private_redis, celery_worker):
    settings = cluster_settings.with_overrides(
        broker_url=private_redis.url(), mailbox_urls=(imap_account.imap_url,), imap_after_processing="seen"
    )
    for index in range(MESSAGE_COUNT):
        imap_account.append(question(index))
    worker = celery_worker(settings)

    send_task("workers.tasks.poll_mailboxes", [], settings)
    wait_until(lambda: (counts_when_up(settings) or {"tickets": 0})["tickets"] >= 5, 120, "the first tickets")
    at_restart = counts(settings)["tickets"]
    postgres_cluster.restart(down_seconds=DOWN_SECONDS)

    assert at_restart < MESSAGE_COUNT, "the poll finished before the restart, so it tested nothing"
    wait_until(
        lambda: (counts_when_up(settings) or {"tickets": 0})["tickets"] >= MESSAGE_COUNT,
        RECOVERY_TIMEOUT_SECONDS,
        f"{MESSAGE_COUNT} tickets after the restart",
    )
    assert counts(settings) == {"tickets": MESSAGE_COUNT, "inbound": MESSAGE_COUNT, "records": MESSAGE_COUNT, "quarantined": 0}
    assert duplicated_message_ids(settings) == []
    assert "poll_mailboxes" in worker.log(), worker.log()[-4000:]
    assert "retry: Retry in" in worker.log(), worker.log()[-4000:]


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
