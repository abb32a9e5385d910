"""The embedded Maildir source, and reading .eml files and folders for `helpdesk ingest`."""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path
from typing import Iterator

from helpdesk.config import Settings
from helpdesk.ingest.outcomes import Source
from helpdesk.ingest.sources import MaildirMailbox
from helpdesk.ingest.state import PollSummary, ingest_one, record_failure, record_success

logger = logging.getLogger(__name__)

MAILDIR_FOLDERS = ("cur", "new", "tmp")
# Maildir info suffix for "seen": ":2," followed by the flags in ASCII order.
SEEN_SUFFIX = ":2,S"


def ensure_maildir(path: Path) -> None:
    for name in MAILDIR_FOLDERS:
        (path / name).mkdir(parents=True, exist_ok=True)


def is_maildir(path: Path) -> bool:
    return path.is_dir() and (path / "cur").is_dir() and (path / "new").is_dir()


def poll_maildir(settings: Settings, mailbox: MaildirMailbox) -> PollSummary:
    """Ingest every file in new/, then move it to cur/ with the S flag (unless set to leave).

    NOTE: mail that another program moved to cur/ before this poll is not read.
    """
    summary = PollSummary(mailbox=mailbox.key, folder=mailbox.folder)
    try:
        ensure_maildir(mailbox.path)
        names = sorted(name for name in os.listdir(mailbox.path / "new") if not name.startswith("."))
    except OSError as error:
        summary.error = f"maildir not readable: {type(error).__name__}: {error}"
        record_failure(settings, mailbox.key, mailbox.folder, summary.error)
        logger.warning("maildir poll failed", extra={"mailbox": mailbox.key, "error": type(error).__name__})
        return summary

    for name in names:
        path = mailbox.path / "new" / name
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            continue  # taken by another poller
        summary.count(ingest_one(settings, raw, Source(mailbox.key, mailbox.folder)))
        if settings.imap_after_processing != "leave":
            _mark_seen(mailbox.path, name)

    record_success(settings, mailbox.key, mailbox.folder)
    return summary


def _mark_seen(root: Path, name: str) -> None:
    base = name.split(":", 1)[0]
    try:
        os.replace(root / "new" / name, root / "cur" / f"{base}{SEEN_SUFFIX}")
    except FileNotFoundError:
        pass  # another poller moved it first


def wait_for_maildir(mailbox: MaildirMailbox, timeout: float, interval: float = 1.0) -> bool:
    """Return True as soon as new/ contains a file, or False after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if any(not name.startswith(".") for name in os.listdir(mailbox.path / "new")):
                return True
        except FileNotFoundError:
            pass
        if time.monotonic() >= deadline:
            return False
        time.sleep(min(interval, max(0.0, deadline - time.monotonic())))


def mail_files(path: Path) -> Iterator[Path]:
    """Yield the mail files of an .eml file, a Maildir (new/ and cur/) or a folder of files."""
    if path.is_file():
        yield path
        return
    if is_maildir(path):
        folders = [path / "new", path / "cur"]
    else:
        folders = [path]
    for folder in folders:
        for child in sorted(folder.iterdir()):
            if child.is_file() and not child.name.startswith("."):
                yield child
