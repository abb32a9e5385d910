"""Deleting ingested mail from the mail server, for retention and erasure.

Callers pass (mailbox key, Message-ID) pairs after their database commit. A
copy is searched in the polled folder and in the processed folder, by the
Message-ID header. Server, login and network failures are logged and counted
instead of raised, because the next retention run tries again.
"""

from __future__ import annotations

import logging
import os
from collections import defaultdict
from dataclasses import dataclass
from email.parser import BytesHeaderParser
from email.policy import compat32
from typing import Iterable, Protocol

from imapclient import IMAPClient

from helpdesk.config import ConfigError, Settings
from helpdesk.ingest.imap import POLL_ERRORS, close, connect
from helpdesk.ingest.sources import ImapMailbox, MaildirMailbox, parse_mailbox_url
from helpdesk.mail.headers import message_ids

logger = logging.getLogger(__name__)

# Stand-in ids for mail without a Message-ID header exist only in the database.
GENERATED_ID_SUFFIX = "@generated.invalid"


class MailboxCopyLike(Protocol):
    mailbox: str
    message_id: str


@dataclass
class RemovalSummary:
    deleted: int = 0
    not_found: int = 0
    failed: int = 0


def delete_mailbox_copies(settings: Settings, copies: Iterable[MailboxCopyLike]) -> RemovalSummary:
    """Delete each copy from its mailbox; return how many were deleted, not found or failed."""
    summary = RemovalSummary()
    ids_by_mailbox: dict[str, set[str]] = defaultdict(set)
    for copy in copies:
        if copy.message_id.endswith(GENERATED_ID_SUFFIX):
            summary.not_found += 1
        else:
            ids_by_mailbox[copy.mailbox].add(copy.message_id)

    mailboxes = _configured_mailboxes(settings)
    for key, ids in ids_by_mailbox.items():
        mailbox = mailboxes.get(key)
        if mailbox is None:
            logger.warning("mailbox of stored mail is no longer configured", extra={"mailbox": key, "copies": len(ids)})
            summary.failed += len(ids)
        elif isinstance(mailbox, MaildirMailbox):
            _delete_from_maildir(mailbox, ids, summary)
        else:
            _delete_from_imap(settings, mailbox, ids, summary)
    return summary


def _configured_mailboxes(settings: Settings) -> dict[str, MaildirMailbox | ImapMailbox]:
    mailboxes = {}
    for url in settings.mailbox_urls:
        try:
            mailbox = parse_mailbox_url(url)
        except ConfigError:
            continue
        mailboxes[mailbox.key] = mailbox
    return mailboxes


def _delete_from_maildir(mailbox: MaildirMailbox, ids: set[str], summary: RemovalSummary) -> None:
    remaining = set(ids)
    parser = BytesHeaderParser(policy=compat32)
    for folder in ("new", "cur"):
        directory = mailbox.path / folder
        if not directory.is_dir():
            continue
        for name in os.listdir(directory):
            path = directory / name
            try:
                with open(path, "rb") as handle:
                    headers = parser.parse(handle)
            except OSError:
                continue
            found = set(message_ids(str(headers.get("Message-ID") or ""))) & remaining
            if found:
                path.unlink(missing_ok=True)
                remaining -= found
                summary.deleted += len(found)
    summary.not_found += len(remaining)


def _delete_from_imap(settings: Settings, mailbox: ImapMailbox, ids: set[str], summary: RemovalSummary) -> None:
    try:
        client = connect(mailbox, settings)
    except POLL_ERRORS as error:
        logger.warning("mailbox deletion failed", extra={"mailbox": mailbox.key, "error": type(error).__name__})
        summary.failed += len(ids)
        return

    remaining = set(ids)
    try:
        for folder in dict.fromkeys([mailbox.folder, settings.imap_processed_folder]):
            if remaining and client.folder_exists(folder):
                remaining -= _delete_in_folder(client, folder, remaining)
    except POLL_ERRORS as error:
        logger.warning("mailbox deletion failed", extra={"mailbox": mailbox.key, "error": type(error).__name__})
        summary.failed += len(remaining)
        summary.deleted += len(ids) - len(remaining)
        return
    finally:
        close(client)

    summary.deleted += len(ids) - len(remaining)
    summary.not_found += len(remaining)


def _delete_in_folder(client: IMAPClient, folder: str, ids: set[str]) -> set[str]:
    """Delete the mail with these Message-IDs in `folder`; return the ids found there."""
    client.select_folder(folder)
    found: set[str] = set()
    uids: list[int] = []
    for message_id in ids:
        matches = client.search(["HEADER", "Message-ID", f"<{message_id}>"])
        if matches:
            found.add(message_id)
            uids.extend(matches)
    if uids:
        client.delete_messages(uids, silent=True)
        if client.has_capability("UIDPLUS"):
            client.uid_expunge(uids)
        else:
            client.expunge()
    return found
