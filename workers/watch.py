"""The `helpdesk watch` command: ingest mail within seconds with IMAP IDLE.

One thread per IMAP mailbox keeps an IDLE connection open
(helpdesk.ingest.idle) and polls that mailbox whenever the server reports
new mail. Mailboxes whose server lacks IDLE, and Maildir mailboxes, are left
to the beat schedule, which keeps polling every mailbox as a fallback.
"""

from __future__ import annotations

import logging
import signal
import threading
import time

import click
import redis
from sqlalchemy.exc import SQLAlchemyError

from helpdesk.cli import get_settings
from helpdesk.config import ConfigError, Settings
from helpdesk.db import session_scope
from helpdesk.ingest.idle import DEFAULT_IDLE_RENEW_SECONDS, IdleWatcher
from helpdesk.ingest.polling import poll_mailbox
from helpdesk.ingest.prepare import start_pool, warm_up_polling_process
from helpdesk.ingest.sources import ImapMailbox, parse_mailbox_url, safe_url
from helpdesk.outbound.services import due_message_ids
from workers.locks import Lease, exclusive
from workers.plugin import dispatch_send_reply
from workers.watch_heartbeat import HeartbeatRecorder

logger = logging.getLogger(__name__)

# The lock of the beat-driven poll_mailboxes task, so a mailbox is never
# ingested by two processes at once.
POLL_LOCK = "poll-mailboxes"
LOCK_RETRY_SECONDS = 0.2
REDIS_FIRST_RETRY_SECONDS = 1.0
REDIS_MAX_RETRY_SECONDS = 60.0
# RFC 2177: a client re-issues IDLE at least every 29 minutes, before the server may log it out.
MAX_IDLE_RENEW_SECONDS = 29 * 60.0


class LockedPoll:
    """Poll one mailbox under the poll lock, then queue the replies that became due.

    A request while another process holds the lock waits for it, because
    that poll may have searched the folder before the new mail arrived.
    """

    def __init__(self, settings: Settings, mailbox_url: str, stopped: threading.Event) -> None:
        self.settings = settings
        self.mailbox_url = mailbox_url
        self.stopped = stopped

    def __call__(self) -> None:
        delay = LOCK_RETRY_SECONDS
        while not self.stopped.is_set():
            try:
                with exclusive(self.settings, POLL_LOCK) as lease:
                    if lease is not None:
                        self._poll(lease)
                        return
                delay = LOCK_RETRY_SECONDS
            except redis.RedisError as error:
                # Beat's poll cannot take the lock either, so waiting loses nothing.
                delay = min(max(delay * 2, REDIS_FIRST_RETRY_SECONDS), REDIS_MAX_RETRY_SECONDS)
                logger.warning("poll lock unavailable, retrying", extra={"error": type(error).__name__, "retry_seconds": delay})
            self.stopped.wait(delay)

    def _poll(self, lease: Lease) -> None:
        # A poll stops between batches when its lock expired or the watcher
        # stops. The mail left behind is fetched by the next poll.
        def should_stop() -> bool:
            return lease.lost() or self.stopped.is_set()

        try:
            poll_mailbox(self.settings, self.mailbox_url, should_stop=should_stop)
            queue_due_replies(self.settings)
        except SQLAlchemyError as error:
            # NOTE: the mail of this poll waits for the next new mail or the
            # next scheduled poll, which retries the database.
            logger.error("watch poll failed on the database", extra={"error": type(error).__name__})


def queue_due_replies(settings: Settings) -> int:
    """Queue a send_reply task for each due outbound message, such as new acknowledgements; return how many."""
    with session_scope(settings) as session:
        message_ids = due_message_ids(session)
    for message_id in message_ids:
        dispatch_send_reply(message_id, settings)
    return len(message_ids)


def idle_mailboxes(settings: Settings) -> list[tuple[str, ImapMailbox]]:
    """Return the IMAP mailboxes of HELPDESK_MAILBOX_URL with their URLs; log and skip the others."""
    mailboxes = []
    for url in settings.mailbox_urls:
        try:
            mailbox = parse_mailbox_url(url)
        except ConfigError:
            logger.error("invalid mailbox URL, not watched", extra={"url": safe_url(url)})
            continue
        if isinstance(mailbox, ImapMailbox):
            mailboxes.append((url, mailbox))
        else:
            logger.info("Maildir mailbox not watched, scheduled polls fetch it", extra={"mailbox": mailbox.key})
    return mailboxes


def start_watchers(settings: Settings, stopped: threading.Event, idle_renew_seconds: float) -> list[tuple[IdleWatcher, threading.Thread]]:
    """Start one IdleWatcher thread per IMAP mailbox; `stopped` ends their waits for the poll lock."""
    started = []
    for url, mailbox in idle_mailboxes(settings):
        heartbeat = HeartbeatRecorder(settings, mailbox.key)
        watcher = IdleWatcher(settings, mailbox, LockedPoll(settings, url, stopped), idle_renew_seconds, heartbeat)
        thread = threading.Thread(target=watcher.run, name=f"watch-{mailbox.key}", daemon=True)
        thread.start()
        started.append((watcher, thread))
    return started


def stop_watchers(watchers: list[tuple[IdleWatcher, threading.Thread]], stopped: threading.Event) -> None:
    stopped.set()
    for watcher, _ in watchers:
        watcher.stop()
    for _, thread in watchers:
        thread.join()


@click.command("watch")
@click.option(
    "--idle-renew-seconds",
    type=click.FloatRange(5, MAX_IDLE_RENEW_SECONDS),
    default=DEFAULT_IDLE_RENEW_SECONDS,
    show_default=True,
    help="Seconds after which IDLE is ended and issued again on the same connection (at most 29 minutes, RFC 2177).",
)
def watch(idle_renew_seconds: float) -> None:
    """Wait for new mail with IMAP IDLE and ingest it as it arrives; stop on SIGTERM or SIGINT."""
    settings = get_settings()
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    signal.signal(signal.SIGINT, lambda *_: stopped.set())

    if not settings.imap_idle:
        logger.warning("HELPDESK_IMAP_IDLE is false, so no mailbox is watched; scheduled polls fetch the mail")
        watchers = []
    else:
        # Before the watcher threads start, because the warm-up freezes every object the process has.
        warm_up_polling_process(settings)
        watchers = start_watchers(settings, stopped, idle_renew_seconds)
    if watchers:
        # Started beside the watchers, so the first poll does not wait for it; a backlog found later uses it.
        threading.Thread(
            target=start_pool, args=(settings,), kwargs={"warm_up_here": False}, name="ingest-pool-start", daemon=True
        ).start()
    logger.info("watch started", extra={"mailboxes": len(watchers)})

    # Without watchers the process still waits for its stop signal, so that
    # a service manager does not restart it over and over.
    while not stopped.wait(1.0):
        pass
    started = time.monotonic()
    stop_watchers(watchers, stopped)
    logger.info("watch stopped", extra={"seconds": round(time.monotonic() - started, 1)})
