"""Two worker processes on one mailbox, one Redis broker and one PostgreSQL database.

Each worker is a real `celery -A workers.app worker` process. Every mail in
the shared Dovecot folder must become exactly one ticket however the poll
tasks are spread over the workers, and the Redis poll lock must keep a
second poll from running while one holds it.
"""

from __future__ import annotations

import re

import pytest
import redis

from tests.services.mailflow import counts, duplicated_message_ids, postgres_settings, question  # noqa: F401
from tests.services.restartable import private_redis  # noqa: F401
from tests.services.worker import wait_until
from workers.dispatch import send_task
from workers.locks import lock_key

pytestmark = [pytest.mark.dovecot, pytest.mark.redis, pytest.mark.slow]

MESSAGE_COUNT = 30
TASK_TIMEOUT_SECONDS = 180
POLL_TASK = "workers.tasks.poll_mailboxes"


def wait_for_tasks(task_ids: list[str], workers) -> None:
    """Wait until every task id has a "succeeded" or "raised" line in some worker's log; fail on "raised"."""
    def finished() -> bool:
        logs = "".join(worker.log() for worker in workers)
        return all(f"[{task_id}] succeeded" in logs or f"[{task_id}] raised" in logs for task_id in task_ids)

    wait_until(finished, TASK_TIMEOUT_SECONDS, f"tasks {task_ids} to finish")
    logs = "".join(worker.log() for worker in workers)
    for task_id in task_ids:
        assert f"[{task_id}] succeeded" in logs, logs[-4000:]


def fetched_per_poll(workers) -> list[int]:
    """Return the `fetched` figure of every finished poll in the workers' logs."""
    logs = "".join(worker.log() for worker in workers)
    return [int(value) for value in re.findall(r"poll finished.*?\bfetched=(\d+)", logs)]


def test_two_workers_one_ticket_per_mail(postgres_settings, imap_account, private_redis, celery_worker):
    settings = postgres_settings.with_overrides(
        broker_url=private_redis.url(), mailbox_urls=(imap_account.imap_url,), imap_after_processing="seen"
    )
    for index in range(MESSAGE_COUNT):
        imap_account.append(question(index))
    workers = [celery_worker(settings), celery_worker(settings)]

    # Four polls at once: each worker takes one straight away, so two polls
    # start together and only the lock keeps them apart.
    task_ids = [send_task(POLL_TASK, [], settings) for _ in range(4)]
    wait_for_tasks(task_ids, workers)

    assert counts(settings) == {"tickets": MESSAGE_COUNT, "inbound": MESSAGE_COUNT, "records": MESSAGE_COUNT, "quarantined": 0}
    assert duplicated_message_ids(settings) == []
    fetched = fetched_per_poll(workers)
    # Overlapping polls would both fetch the new UIDs, so the sum would exceed the mail count.
    assert sum(fetched) == MESSAGE_COUNT, f"polls fetched {fetched}"


def test_poll_lock_skips_second_poll(postgres_settings, imap_account, private_redis, celery_worker):
    settings = postgres_settings.with_overrides(broker_url=private_redis.url(), mailbox_urls=(imap_account.imap_url,))
    imap_account.append(question(0))
    workers = [celery_worker(settings), celery_worker(settings)]
    # The test holds the lock that a running poll would hold.
    held = redis.Redis.from_url(settings.broker_url).lock(f"helpdesk:lock:{lock_key('poll-mailboxes')}", timeout=300)
    assert held.acquire(blocking=False)

    try:
        skipped = [send_task(POLL_TASK, [], settings) for _ in range(2)]
        wait_for_tasks(skipped, workers)
        assert counts(settings)["tickets"] == 0
        logs = "".join(worker.log() for worker in workers)
        assert logs.count("poll skipped because another poll is running") == 2
    finally:
        held.release()

    wait_for_tasks([send_task(POLL_TASK, [], settings)], workers)
    assert counts(settings)["tickets"] == 1
