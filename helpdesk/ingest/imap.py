"""Polling an IMAP folder by UID with imapclient.

New mail is what has a UID above the last processed one for the folder's
current UIDVALIDITY. \\Seen flags and dates are never used to find it,
because staff may read the mailbox in webmail. Each FETCH batch is stored in
one database transaction. After its commit, the processed mail is marked
\\Seen, moved, or left, as configured.
"""

from __future__ import annotations

import logging
import socket
import ssl
import time
from collections.abc import Callable

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError
from imapclient.imapclient import SocketTimeout

from helpdesk.config import Settings
from helpdesk.ingest.outcomes import Source
from helpdesk.ingest.prepare import PreparedBatch, text_pool
from helpdesk.ingest.sources import ImapMailbox
from helpdesk.ingest.state import PollSummary, ingest_batch, record_failure, record_success, start_scan

logger = logging.getLogger(__name__)

# Failures that end one poll of one mailbox; the next poll tries again.
POLL_ERRORS = (IMAPClientError, OSError, ssl.SSLError, socket.timeout, EOFError)

FETCH_ITEM = b"BODY[]"
# Polls that find fewer new mails than this prepare them in the transaction, without the process pool.
MIN_PREPARED_MAILS = 20


def connect(mailbox: ImapMailbox, settings: Settings) -> IMAPClient:
    """Open, secure and log in to an IMAP connection with timeouts on every call."""
    timeout = SocketTimeout(connect=settings.imap_timeout_seconds, read=settings.imap_timeout_seconds)
    context = ssl.create_default_context(cafile=mailbox.ca_file) if mailbox.uses_tls else None
    client = IMAPClient(
        mailbox.host,
        port=mailbox.port,
        ssl=mailbox.scheme == "imaps",
        ssl_context=context,
        timeout=timeout,
    )
    # imapclient sets imaplib's debug level to 5, so imaplib formats every
    # response with repr() for its logger. On large fetches that formatting
    # costs several times the transfer itself.
    client._imap.debug = 0
    try:
        if mailbox.starttls:
            client.starttls(context)
        client.login(mailbox.user, mailbox.password)
    except BaseException:
        close(client)
        raise
    return client


def close(client: IMAPClient) -> None:
    """Log out, or drop the connection when logging out fails."""
    try:
        client.logout()
    except Exception:  # noqa: BLE001 - the connection may already be gone; nothing is left to clean up
        try:
            client.shutdown()
        except Exception:  # noqa: BLE001 - as above
            pass


def new_uids(client: IMAPClient, last_uid: int) -> list[int]:
    """Return the UIDs above `last_uid`, in ascending order.

    `UID SEARCH UID n:*` always includes the highest UID even when it is below
    n (RFC 3501 treats n:* as a range up to the largest UID), so it is dropped.
    """
    uids = client.search(["UID", f"{last_uid + 1}:*"])
    return sorted(uid for uid in uids if uid > last_uid)


def poll_imap(settings: Settings, mailbox: ImapMailbox, should_stop: Callable[[], bool] = lambda: False) -> PollSummary:
    """Fetch and ingest new mail of one IMAP folder, stopping between batches once `should_stop()` is true.

    Server, login, TLS and network failures are stored in MailboxState and the
    summary instead of raised. Database errors propagate.
    """
    summary = PollSummary(mailbox=mailbox.key, folder=mailbox.folder)
    try:
        client = connect(mailbox, settings)
    except POLL_ERRORS as error:
        return _failed(settings, mailbox, summary, "connect or login failed", error)

    try:
        _poll_folder(settings, mailbox, client, summary, should_stop)
    except POLL_ERRORS as error:
        return _failed(settings, mailbox, summary, "poll failed", error)
    finally:
        close(client)

    record_success(settings, mailbox.key, mailbox.folder, summary.warnings)
    return summary


def _failed(settings: Settings, mailbox: ImapMailbox, summary: PollSummary, what: str, error: BaseException) -> PollSummary:
    summary.error = f"{what}: {type(error).__name__}: {error}"
    record_failure(settings, mailbox.key, mailbox.folder, summary.error)
    logger.warning(
        "mailbox poll failed",
        extra={"mailbox": mailbox.key, "folder": mailbox.folder, "error": type(error).__name__},
    )
    return summary


def _poll_folder(
    settings: Settings, mailbox: ImapMailbox, client: IMAPClient, summary: PollSummary, should_stop: Callable[[], bool]
) -> None:
    status = client.select_folder(mailbox.folder)
    uidvalidity = int(status[b"UIDVALIDITY"])
    last_uid, summary.uidvalidity_changed = start_scan(settings, mailbox.key, mailbox.folder, uidvalidity)

    uids = new_uids(client, last_uid)
    batch_size = max(1, settings.imap_batch_size)
    # A few mails (the usual IDLE wake-up) are stored at once: the pool would
    # add its start-up and transfer time, and there is no next batch to overlap.
    pool = text_pool(settings) if len(uids) >= MIN_PREPARED_MAILS else None
    pending: tuple[list[tuple[bytes, Source]], PreparedBatch | None] | None = None
    for start in range(0, len(uids), batch_size):
        mails = _fetch(client, mailbox, uidvalidity, uids[start:start + batch_size], summary)
        preparation = pool.submit(settings, [raw for raw, _ in mails]) if pool is not None else None
        # The pool prepares this batch while the one before it is stored.
        if pending is not None and not _store_unless_stopped(settings, mailbox, client, pending, summary, should_stop):
            if preparation is not None:
                preparation.cancel()
            return
        pending = (mails, preparation)

    if pending is not None:
        _store_unless_stopped(settings, mailbox, client, pending, summary, should_stop)


def _fetch(
    client: IMAPClient, mailbox: ImapMailbox, uidvalidity: int, batch: list[int], summary: PollSummary
) -> list[tuple[bytes, Source]]:
    response = client.fetch(batch, ["BODY.PEEK[]"])
    mails: list[tuple[bytes, Source]] = []
    for uid in batch:
        data = response.get(uid)
        if data is None or FETCH_ITEM not in data:
            # Expunged by someone else between SEARCH and FETCH.
            logger.info("message vanished before fetch", extra={"mailbox": mailbox.key, "uid": uid})
            summary.warnings.append(f"UID {uid} was expunged before it could be fetched")
            continue
        mails.append((data[FETCH_ITEM], Source(mailbox.key, mailbox.folder, uidvalidity, uid)))
    return mails


def _store(
    settings: Settings,
    mailbox: ImapMailbox,
    client: IMAPClient,
    mails: list[tuple[bytes, Source]],
    preparation: PreparedBatch | None,
    summary: PollSummary,
) -> None:
    """Ingest one fetched batch in its transaction, then mark its mail processed on the server."""
    prepared = preparation.results() if preparation is not None else None
    for outcome in ingest_batch(settings, mails, prepared):
        summary.count(outcome)
    processed = [source.uid for _, source in mails]
    warning = mark_processed(settings, mailbox, client, processed)
    if warning:
        summary.warnings.append(warning)


def _store_unless_stopped(
    settings: Settings,
    mailbox: ImapMailbox,
    client: IMAPClient,
    pending: tuple[list[tuple[bytes, Source]], PreparedBatch | None],
    summary: PollSummary,
    should_stop: Callable[[], bool],
) -> bool:
    """Store a fetched batch, or return False without storing it once `should_stop()` is true."""
    mails, preparation = pending
    if should_stop():
        # The batch stays above the last UID, so the next poll fetches it again.
        if preparation is not None:
            preparation.cancel()
        summary.warnings.append("poll stopped early because its lock expired")
        logger.warning("mailbox poll stopped early", extra={"mailbox": mailbox.key, "folder": mailbox.folder})
        return False
    _store(settings, mailbox, client, mails, preparation, summary)
    return True


def mark_processed(settings: Settings, mailbox: ImapMailbox, client: IMAPClient, uids: list[int]) -> str | None:
    """Flag or move mail whose ingestion is committed; return a failure instead of raising it.

    A mail that stays behind is harmless: its UID is below the stored last
    UID, and a re-scan finds it a duplicate.
    """
    if not uids or settings.imap_after_processing == "leave":
        return None
    try:
        if settings.imap_after_processing == "seen":
            client.add_flags(uids, [b"\\Seen"], silent=True)
        else:
            _move(client, uids, settings.imap_processed_folder)
    except IMAPClientError as error:
        logger.warning(
            "marking processed mail failed",
            extra={"mailbox": mailbox.key, "uids": len(uids), "error": type(error).__name__},
        )
        return f"marking {len(uids)} processed messages failed: {type(error).__name__}: {error}"
    return None


def _move(client: IMAPClient, uids: list[int], folder: str) -> None:
    if not client.folder_exists(folder):
        try:
            client.create_folder(folder)
        except IMAPClientError:
            # Another poller created it in the meantime.
            if not client.folder_exists(folder):
                raise
    client.add_flags(uids, [b"\\Seen"], silent=True)
    if client.has_capability("MOVE"):
        client.move(uids, folder)
        return
    client.copy(uids, folder)
    client.delete_messages(uids, silent=True)
    if client.has_capability("UIDPLUS"):
        client.uid_expunge(uids)
    else:
        client.expunge()


def idle_wait(settings: Settings, mailbox: ImapMailbox, timeout: float) -> bool:
    """Wait up to `timeout` seconds for new mail with IMAP IDLE; return whether any arrived.

    Without IDLE support (or with settings.imap_idle off) this sleeps for the
    timeout and returns False, so the caller simply polls again.
    """
    try:
        client = connect(mailbox, settings)
    except POLL_ERRORS as error:
        logger.warning("IDLE connect failed", extra={"mailbox": mailbox.key, "error": type(error).__name__})
        time.sleep(timeout)
        return False

    try:
        if not settings.imap_idle or not client.has_capability("IDLE"):
            time.sleep(timeout)
            return False
        client.select_folder(mailbox.folder, readonly=True)
        client.idle()
        try:
            responses = client.idle_check(timeout=timeout)
        finally:
            client.idle_done()
        return any(len(response) > 1 and response[1] in (b"EXISTS", b"RECENT") for response in responses)
    except POLL_ERRORS as error:
        logger.warning("IDLE failed", extra={"mailbox": mailbox.key, "error": type(error).__name__})
        return False
    finally:
        close(client)
