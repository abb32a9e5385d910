"""Watching one IMAP folder with IDLE (RFC 2177) on one long-lived connection.

The watcher selects the folder, runs a poll, and only then enters IDLE
on the same connection. The server reports every mail that arrives after
the SELECT on that connection, either in the untagged responses of the
NOOP before IDLE, or during IDLE. So a mail that arrives after the poll's
UID SEARCH and before IDLE still wakes the watcher, and nothing waits for
the next scheduled poll.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from imapclient import IMAPClient

from helpdesk.config import Settings
from helpdesk.ingest.imap import POLL_ERRORS, close, connect
from helpdesk.ingest.sources import ImapMailbox

logger = logging.getLogger(__name__)

# RFC 2177: servers may log out a client that stays in IDLE for 30 minutes
# without activity, so clients re-issue IDLE at least every 29 minutes.
# The default is shorter, because NAT tables and firewalls often drop idle
# connections sooner than that.
DEFAULT_IDLE_RENEW_SECONDS = 600.0
# idle_check waits at most this long at a time, so a stop request is seen within it.
IDLE_CHECK_SECONDS = 1.0
# A watcher in IDLE calls its heartbeat this often, without leaving IDLE. It checks
# between idle_check calls, so a heartbeat can be up to IDLE_CHECK_SECONDS late.
HEARTBEAT_INTERVAL_SECONDS = 30.0
FIRST_RETRY_SECONDS = 1.0
MAX_RETRY_SECONDS = 300.0
NEW_MAIL_RESPONSES = (b"EXISTS", b"RECENT")


def reports_new_mail(responses: list) -> bool:
    """Return whether untagged responses contain EXISTS or RECENT, which a server sends when mail arrives."""
    return any(len(response) > 1 and response[1] in NEW_MAIL_RESPONSES for response in responses)


class IdleWatcher:
    """Call `poll()` after each connect and whenever the server reports new mail in the folder, until `stop()`.

    `poll` runs in the watcher's thread and must not raise for mail server
    errors. Connection errors end the session, and the watcher reconnects
    after 1, 2, 4, ... seconds, at most MAX_RETRY_SECONDS. When the server
    does not announce IDLE, `run()` returns and `unsupported` is true.

    `heartbeat(idle)` is called on entering IDLE and every
    HEARTBEAT_INTERVAL_SECONDS during IDLE with idle=True, and once with
    idle=False when the server lacks IDLE. It must not raise.
    """

    def __init__(
        self,
        settings: Settings,
        mailbox: ImapMailbox,
        poll: Callable[[], None],
        idle_renew_seconds: float = DEFAULT_IDLE_RENEW_SECONDS,
        heartbeat: Callable[[bool], None] | None = None,
    ) -> None:
        self.settings = settings
        self.mailbox = mailbox
        self.poll = poll
        self.idle_renew_seconds = idle_renew_seconds
        self.heartbeat = heartbeat or (lambda idle: None)
        self.sessions = 0
        self.unsupported = False
        self._stopped = threading.Event()

    def stop(self) -> None:
        """Ask the watcher to end; `run()` returns within about IDLE_CHECK_SECONDS plus the end of a running poll."""
        self._stopped.set()

    def stopped(self) -> bool:
        return self._stopped.is_set()

    def run(self) -> None:
        """Watch the folder until `stop()`, reconnecting with exponential backoff after errors."""
        delay = FIRST_RETRY_SECONDS
        while not self.stopped():
            sessions_before = self.sessions
            try:
                self._session()
            except POLL_ERRORS as error:
                failure, level = "IDLE connection failed, reconnecting", logging.WARNING
                error_name = type(error).__name__
            except Exception as error:  # noqa: BLE001 - a watcher thread that ends would stop watching silently
                # Only the type is logged: database errors can contain mail text in their parameters.
                failure, level = "IDLE watcher failed, reconnecting", logging.ERROR
                error_name = type(error).__name__
            else:
                if self.unsupported:
                    return
                continue

            # A session that got as far as SELECT starts the backoff anew.
            if self.sessions > sessions_before:
                delay = FIRST_RETRY_SECONDS
            logger.log(level, failure, extra={"mailbox": self.mailbox.key, "error": error_name, "retry_seconds": delay})
            self._stopped.wait(delay)
            delay = min(delay * 2, MAX_RETRY_SECONDS)
        logger.info("IDLE watcher stopped", extra={"mailbox": self.mailbox.key})

    def _session(self) -> None:
        client = connect(self.mailbox, self.settings)
        try:
            if not client.has_capability("IDLE"):
                logger.warning("server does not support IDLE, leaving the mailbox to scheduled polls", extra={"mailbox": self.mailbox.key})
                self.unsupported = True
                self.heartbeat(False)
                return
            client.select_folder(self.mailbox.folder, readonly=True)
            self.sessions += 1
            logger.info("IDLE watcher connected", extra={"mailbox": self.mailbox.key, "session": self.sessions})

            # The folder is selected before this poll, so mail that the poll
            # misses is reported on this connection by the NOOP or the IDLE below.
            self.poll()
            while not self.stopped():
                if reports_new_mail(client.noop()[1]):
                    self.poll()
                    continue
                if self._idle(client):
                    self.poll()
        finally:
            close(client)

    def _idle(self, client: IMAPClient) -> bool:
        """Stay in IDLE until new mail, a stop request or the renewal time; return whether mail arrived."""
        # imaplib keeps untagged responses that no command returned, such as
        # those of SELECT or those that come before the "+ idling"
        # continuation, in untagged_responses. Only the latter are new here.
        early = client._imap.untagged_responses
        early.clear()
        client.idle()
        arrived = any(early.pop(name.decode(), None) for name in NEW_MAIL_RESPONSES)
        self.heartbeat(True)
        renew_at = time.monotonic() + self.idle_renew_seconds
        heartbeat_at = time.monotonic() + HEARTBEAT_INTERVAL_SECONDS

        while not arrived and not self.stopped() and time.monotonic() < renew_at:
            if time.monotonic() >= heartbeat_at:
                self.heartbeat(True)
                heartbeat_at = time.monotonic() + HEARTBEAT_INTERVAL_SECONDS
            started = time.monotonic()
            responses = client.idle_check(timeout=IDLE_CHECK_SECONDS)
            arrived = reports_new_mail(responses)
            if not responses and time.monotonic() - started < IDLE_CHECK_SECONDS / 2:
                # The socket was readable but held no complete line, which is
                # how idle_check reports a closed connection. DONE finds out.
                break

        # Mail reported between the last idle_check and DONE is in this reply.
        done_responses = client.idle_done()[1]
        return arrived or reports_new_mail(done_responses)
