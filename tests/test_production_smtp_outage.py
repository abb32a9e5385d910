"""The SMTP server down for a while and back, with a real worker sending replies.

While the server is down each reply must be marked failed with the error
and the time of its next attempt, which staff see on the ticket. When it is
back, the worker's own retry must send each reply exactly once.
"""

from __future__ import annotations

import datetime as dt

import pytest

from helpdesk.db import as_utc, utcnow
from helpdesk.outbound.services import RETRY_BASE_SECONDS
from helpdesk.tickets.models import DeliveryState
from tests.services.mailflow import (  # noqa: F401
    all_in_state,
    delivery_states,
    postgres_settings,
    recipients,
    sender,
    tickets_with_replies,
)
from tests.services.restartable import private_redis, restartable_smtp  # noqa: F401
from tests.services.worker import wait_until
from workers.dispatch import send_task

pytestmark = [pytest.mark.redis, pytest.mark.slow]

REPLY_COUNT = 3
# The first retry is due RETRY_BASE_SECONDS after the failure; the task waits one second more.
RETRY_TIMEOUT_SECONDS = RETRY_BASE_SECONDS + 90


def test_smtp_outage_retries_and_sends_once(postgres_settings, private_redis, restartable_smtp, celery_worker):
    settings = postgres_settings.with_overrides(broker_url=private_redis.url(), smtp_url=restartable_smtp.url)
    message_ids = tickets_with_replies(settings, REPLY_COUNT)
    worker = celery_worker(settings)
    restartable_smtp.stop()

    dispatched_at = utcnow()
    for message_id in message_ids:
        send_task("workers.tasks.send_reply", [message_id], settings)
    wait_until(lambda: all_in_state(settings, message_ids, DeliveryState.FAILED), 60, "all replies marked failed")

    failed = delivery_states(settings, message_ids)
    for message in failed.values():
        assert message.delivery_attempts == 1
        assert f"SMTP connection to 127.0.0.1:{restartable_smtp.port} failed" in message.delivery_error
        assert message.sent_at is None
        assert as_utc(message.next_attempt_at) >= dispatched_at + dt.timedelta(seconds=RETRY_BASE_SECONDS)
    restartable_smtp.start()

    wait_until(lambda: all_in_state(settings, message_ids, DeliveryState.SENT), RETRY_TIMEOUT_SECONDS, "all replies sent")
    for message in delivery_states(settings, message_ids).values():
        assert message.delivery_attempts == 2
        assert message.delivery_error is None
        # Backoff: the second attempt waited until the due time set at the failure.
        assert as_utc(message.sent_at) >= as_utc(failed[message.id].next_attempt_at)
    assert recipients(restartable_smtp.wait_for(REPLY_COUNT)) == {sender(index): 1 for index in range(REPLY_COUNT)}

    # A late sweep and a repeated task must not send anything again.
    sweep = send_task("workers.tasks.retry_failed_sends", [], settings)
    repeat = send_task("workers.tasks.send_reply", [message_ids[0]], settings)
    wait_until(lambda: f"[{sweep}] succeeded" in worker.log() and f"[{repeat}] succeeded" in worker.log(), 60, "sweep and repeat")
    assert f"[{repeat}] succeeded in" in worker.log()
    assert len(restartable_smtp.received) == REPLY_COUNT
