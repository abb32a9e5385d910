"""Celery tasks: thin shells around helpdesk services.

Tasks take row ids, not objects, and re-read everything they need, so a task
that runs twice or late does no harm.
"""

from __future__ import annotations

import logging
import time

from celery import Task
from sqlalchemy.exc import OperationalError

from helpdesk.db import session_scope
from helpdesk.ingest.polling import poll_all
from helpdesk.ingest.removal import delete_mailbox_copies
from helpdesk.outbound.services import MAX_DELIVERY_ATTEMPTS, deliver, due_message_ids
from helpdesk.privacy.retention import apply_retention as apply_retention_service
from kb.mining import run_mining
from workers.app import app, current_settings
from workers.configuration import broker_folder
from workers.locks import exclusive

logger = logging.getLogger(__name__)

# Database outages are retried with backoff (10 s, 20 s, ... up to 10 minutes).
DATABASE_RETRY = {
    "autoretry_for": (OperationalError,),
    "retry_backoff": 10,
    "retry_backoff_max": 600,
    "retry_jitter": True,
    "max_retries": 10,
}
BROKER_FILE_MAX_AGE_SECONDS = 7 * 24 * 3600


@app.task(name="workers.tasks.poll_mailboxes", **DATABASE_RETRY)
def poll_mailboxes() -> None:
    """Fetch new mail from every configured mailbox, then send what became due."""
    settings = current_settings()
    with exclusive(settings, "poll-mailboxes") as lease:
        if lease is None:
            logger.info("poll skipped because another poll is running")
            return
        # A poll whose lock expired stops, because another worker may poll now.
        poll_all(settings, should_stop=lease.lost)

    # Acknowledgements queued while ingesting go out now, not at the next sweep.
    dispatch_due_sends()


# Delivery retries and database retries share Celery's retry counter, so the
# limit leaves room for both. deliver itself stops after MAX_DELIVERY_ATTEMPTS.
SEND_REPLY_OPTIONS = {**DATABASE_RETRY, "max_retries": MAX_DELIVERY_ATTEMPTS + DATABASE_RETRY["max_retries"]}


@app.task(bind=True, name="workers.tasks.send_reply", **SEND_REPLY_OPTIONS)
def send_reply(self: Task, message_id: int) -> str:
    """Send one outbound message; on a temporary failure, try again after the service's backoff."""
    settings = current_settings()
    with session_scope(settings) as session:
        outcome = deliver(session, settings, message_id)

    if outcome.retry_in is not None:
        # One second after the due time, so that the claim in deliver finds it due.
        raise self.retry(countdown=outcome.retry_in + 1)
    return outcome.state


@app.task(name="workers.tasks.retry_failed_sends", **DATABASE_RETRY)
def retry_failed_sends() -> int:
    """Queue a send_reply task for every message whose next attempt is due; return how many."""
    return dispatch_due_sends()


@app.task(name="workers.tasks.apply_retention", **DATABASE_RETRY)
def apply_retention() -> None:
    """Delete personal data whose retention period has passed, in the database and on the mail server."""
    settings = current_settings()
    with exclusive(settings, "apply-retention") as acquired:
        if not acquired:
            logger.info("retention skipped because another run is busy")
            return
        with session_scope(settings) as session:
            summary = apply_retention_service(session, settings)

        # Deleting from the server cannot be undone, so it happens only after
        # the database change is committed.
        removal = delete_mailbox_copies(settings, summary.mailbox_copies)

    logger.info(
        "retention applied",
        extra={
            "raw_deleted": summary.raw_deleted,
            "originals_deleted": summary.originals_deleted,
            "attachments_deleted": summary.attachments_deleted,
            "senders_deleted": summary.senders_deleted,
            "mailbox_copies_deleted": removal.deleted,
            "mailbox_copies_not_found": removal.not_found,
            "mailbox_copies_failed": removal.failed,
        },
    )


@app.task(name="workers.tasks.mine_questions", **DATABASE_RETRY)
def mine_questions() -> None:
    """Group recent client questions for the editors' list of frequent questions."""
    settings = current_settings()
    with exclusive(settings, "mine-questions") as acquired:
        if not acquired:
            logger.info("question mining skipped because another run is busy")
            return
        with session_scope(settings) as session:
            run_mining(session, settings)


@app.task(name="workers.tasks.prune_broker_files")
def prune_broker_files() -> int:
    """Delete task files of the file-system broker that were processed over a week ago; return how many."""
    folder = broker_folder(current_settings()) / "processed"
    cutoff = time.time() - BROKER_FILE_MAX_AGE_SECONDS
    deleted = 0
    for path in folder.glob("*.msg"):
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink()
                deleted += 1
        except FileNotFoundError:
            continue
    logger.info("broker files pruned", extra={"deleted": deleted})
    return deleted


def dispatch_due_sends() -> int:
    """Queue a send_reply task for each due outbound message; return how many were queued."""
    settings = current_settings()
    with session_scope(settings) as session:
        message_ids = due_message_ids(session)
    for message_id in message_ids:
        send_reply.delay(message_id)
    if message_ids:
        logger.info("due messages queued for sending", extra={"count": len(message_ids)})
    return len(message_ids)
