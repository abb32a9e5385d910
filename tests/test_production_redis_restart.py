"""Redis restarted while tasks wait in it, with a real worker and beat.

The private Redis keeps nothing on disk, so a restart drops every queued
task. Nothing may be lost for good: beat's periodic poll fetches the mail
again and queues every reply that is still due, and the claim in `deliver`
keeps a reply that is queued twice from going out twice.
"""

from __future__ import annotations

import pytest

from helpdesk.tickets.models import DeliveryState
from tests.services.mailflow import (  # noqa: F401
    all_in_state,
    counts,
    postgres_settings,
    question,
    recipients,
    sender,
    tickets_with_replies,
)
from tests.services.restartable import private_redis  # noqa: F401
from tests.services.worker import wait_until
from workers.dispatch import send_task

pytestmark = [pytest.mark.dovecot, pytest.mark.redis, pytest.mark.slow]

MAIL_COUNT = 10
REPLY_COUNT = 3
POLL_INTERVAL_SECONDS = 2
RECOVERY_TIMEOUT_SECONDS = 120


def test_redis_restart_loses_no_task(postgres_settings, imap_account, private_redis, smtp_server, celery_worker):
    settings = postgres_settings.with_overrides(
        broker_url=private_redis.url(),
        mailbox_urls=(imap_account.imap_url,),
        smtp_url=smtp_server.url,
        poll_interval_seconds=POLL_INTERVAL_SECONDS,
    )
    for index in range(MAIL_COUNT):
        imap_account.append(question(100 + index))
    first_replies = tickets_with_replies(settings, REPLY_COUNT)

    # Tasks queued with no worker running, then dropped by the restart.
    send_task("workers.tasks.poll_mailboxes", [], settings)
    for message_id in first_replies:
        send_task("workers.tasks.send_reply", [message_id], settings)
    assert private_redis.queued_tasks() == REPLY_COUNT + 1
    private_redis.stop()
    private_redis.start()
    assert private_redis.queued_tasks() == 0

    celery_worker(settings, "--beat")
    wait_until(lambda: counts(settings)["tickets"] == REPLY_COUNT + MAIL_COUNT, RECOVERY_TIMEOUT_SECONDS, "the mail ingested")
    wait_until(lambda: all_in_state(settings, first_replies, DeliveryState.SENT), RECOVERY_TIMEOUT_SECONDS, "the first replies sent")

    # Redis restarted under a running worker and beat: they reconnect and carry on.
    private_redis.stop()
    private_redis.start()
    later_replies = tickets_with_replies(settings, REPLY_COUNT, first=REPLY_COUNT)
    imap_account.append(question(200))
    wait_until(lambda: all_in_state(settings, later_replies, DeliveryState.SENT), RECOVERY_TIMEOUT_SECONDS, "the later replies sent")
    wait_until(lambda: counts(settings)["tickets"] == 2 * REPLY_COUNT + MAIL_COUNT + 1, RECOVERY_TIMEOUT_SECONDS, "the later mail")

    received = smtp_server.wait_for(2 * REPLY_COUNT)
    assert recipients(received) == {sender(index): 1 for index in range(2 * REPLY_COUNT)}
    assert counts(settings)["quarantined"] == 0
