"""The polling service that the Celery beat task, `helpdesk poll` and `helpdesk watch` call.

Each mail is ingested in its own transaction keyed by mailbox, UIDVALIDITY
and UID, so running a poll twice, or two polls at once, stores nothing twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from helpdesk.config import ConfigError, Settings
from helpdesk.ingest.imap import idle_wait as imap_idle_wait
from helpdesk.ingest.imap import poll_imap
from helpdesk.ingest.maildir import poll_maildir, wait_for_maildir
from helpdesk.ingest.sources import MaildirMailbox, parse_mailbox_url, safe_url
from helpdesk.ingest.state import PollSummary

logger = logging.getLogger(__name__)


def never_stop() -> bool:
    return False


def poll_mailbox(settings: Settings, mailbox_url: str, should_stop: Callable[[], bool] = never_stop) -> PollSummary:
    """Ingest the new mail of one mailbox. Server, login and network failures end up in the summary and in MailboxState.

    The poll stops between mails or fetch batches once `should_stop()` returns true.
    """
    try:
        mailbox = parse_mailbox_url(mailbox_url)
    except ConfigError as error:
        logger.error("invalid mailbox URL", extra={"url": safe_url(mailbox_url)})
        return PollSummary(mailbox=safe_url(mailbox_url), folder="", error=str(error))

    logger.info("poll started", extra={"mailbox": mailbox.key, "folder": mailbox.folder})
    if isinstance(mailbox, MaildirMailbox):
        summary = poll_maildir(settings, mailbox, should_stop)
    else:
        summary = poll_imap(settings, mailbox, should_stop)
    logger.info(
        "poll finished",
        extra={
            "mailbox": summary.mailbox,
            "folder": summary.folder,
            "fetched": summary.fetched,
            "ingested": summary.ingested,
            "duplicates": summary.duplicates,
            "quarantined": summary.quarantined,
            "ignored": summary.ignored,
            "failed": summary.error is not None,
        },
    )
    return summary


def poll_all(settings: Settings, should_stop: Callable[[], bool] = never_stop) -> list[PollSummary]:
    """Poll every mailbox in settings.mailbox_urls once, in order, until `should_stop()` returns true.

    The Celery task passes a check of its lock, so a poll whose lock expired
    stops before it ingests or marks more mail.
    """
    summaries = []
    for url in settings.mailbox_urls:
        if should_stop():
            logger.warning("poll stopped before all mailboxes", extra={"polled": len(summaries)})
            break
        summaries.append(poll_mailbox(settings, url, should_stop))
    return summaries


def idle_wait(settings: Settings, mailbox_url: str, timeout: float) -> bool:
    """Block until the mailbox may have new mail or `timeout` seconds pass; return whether mail arrived."""
    mailbox = parse_mailbox_url(mailbox_url)
    if isinstance(mailbox, MaildirMailbox):
        return wait_for_maildir(mailbox, timeout)
    return imap_idle_wait(settings, mailbox, timeout)
