"""The embedded Maildir source, and reading .eml files and folders for `helpdesk ingest`."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Iterator

from helpdesk.config import Settings
from helpdesk.db import session_scope
from helpdesk.ingest.outcomes import Source
from helpdesk.ingest.sources import MaildirMailbox
from helpdesk.ingest.state import PollSummary, ingest_one, mailbox_state, record_failure, record_success

logger = logging.getLogger(__name__)

MAILDIR_FOLDERS = ("cur", "new", "tmp")
# Maildir info suffix for "seen": ":2," followed by the flags in ASCII order.
SEEN_SUFFIX = ":2,S"
# cur/ is read again from this long before the previous scan started, because
# file times lag the clock by a kernel tick on Linux and by up to 2 s on FAT.
# Files read twice are recognised as duplicates.
CUR_RESCAN_OVERLAP_NS = 5_000_000_000


class MaildirMissing(Exception):
    """The configured Maildir folder does not exist or lacks cur/ and new/."""


def ensure_maildir(path: Path) -> None:
    for name in MAILDIR_FOLDERS:
        (path / name).mkdir(parents=True, exist_ok=True)


def is_maildir(path: Path) -> bool:
    return path.is_dir() and (path / "cur").is_dir() and (path / "new").is_dir()


def default_maildir(settings: Settings) -> Path:
    """Return the Maildir that HELPDESK_MAILBOX_URL names when it is not set."""
    return (settings.data_dir / "mailbox").expanduser().resolve()


def check_maildir(settings: Settings, mailbox: MaildirMailbox) -> None:
    """Create the default Maildir on first use; raise MaildirMissing for any other missing one.

    A configured path that does not exist is most often a typing error or an
    unmounted disk, and creating it would hide that while mail piles up elsewhere.
    """
    if is_maildir(mailbox.path):
        return
    if mailbox.path == default_maildir(settings):
        ensure_maildir(mailbox.path)
        return
    raise MaildirMissing(
        f"Maildir {mailbox.path} does not exist or has no cur/ and new/ folders: "
        f"create it with `mkdir -p {mailbox.path}/cur {mailbox.path}/new {mailbox.path}/tmp` "
        "or correct HELPDESK_MAILBOX_URL."
    )


def poll_maildir(
    settings: Settings, mailbox: MaildirMailbox, should_stop: Callable[[], bool] = lambda: False
) -> PollSummary:
    """Ingest every file in new/, then move it to cur/ with the S flag (unless set to leave).

    Then ingest the files that another program (a mail client, a delivery
    agent) put in cur/ since the previous scan. Mail already ingested is
    recognised by its raw hash and Message-ID, so reading a file twice stores
    nothing twice. The poll stops between files once `should_stop()` is true.
    """
    summary = PollSummary(mailbox=mailbox.key, folder=mailbox.folder)
    try:
        check_maildir(settings, mailbox)
        names = _mail_names(mailbox.path / "new")
    except (MaildirMissing, OSError) as error:
        return _failed(settings, mailbox, summary, error)

    processed: set[str] = set()
    for name in names:
        if should_stop():
            return _stopped(mailbox, summary)
        if _ingest_file(settings, mailbox, "new", name, summary):
            processed.add(_base_name(name))
        if settings.imap_after_processing != "leave":
            _mark_seen(mailbox.path, name)

    try:
        _scan_cur(settings, mailbox, processed, summary, should_stop)
    except OSError as error:
        return _failed(settings, mailbox, summary, error)

    record_success(settings, mailbox.key, mailbox.folder)
    return summary


def _scan_cur(
    settings: Settings,
    mailbox: MaildirMailbox,
    processed: set[str],
    summary: PollSummary,
    should_stop: Callable[[], bool],
) -> None:
    """Ingest the files of cur/ whose ctime is at or after the start of the previous scan.

    Moving a file into cur/ (a rename) sets its ctime. The scan start is kept
    in nanoseconds in the last_uid column of the (mailbox, "cur") state row.
    The first scan reads all of cur/, and mail ingested before is a duplicate.
    NOTE: a file system whose timestamps are coarser than the rescan overlap
    could still hide a file moved into cur/ during a scan.
    """
    with session_scope(settings) as session:
        since_ns = mailbox_state(session, mailbox.key, "cur").last_uid or 0
    started_ns = time.time_ns()

    for name in _mail_names(mailbox.path / "cur"):
        if _base_name(name) in processed:
            continue  # moved here by this poll
        if should_stop():
            return
        try:
            changed_ns = (mailbox.path / "cur" / name).stat().st_ctime_ns
        except FileNotFoundError:
            continue  # moved or deleted by another program
        if changed_ns >= since_ns - CUR_RESCAN_OVERLAP_NS:
            _ingest_file(settings, mailbox, "cur", name, summary)

    with session_scope(settings) as session:
        state = mailbox_state(session, mailbox.key, "cur")
        state.last_uid = max(state.last_uid or 0, started_ns)


def _mail_names(folder: Path) -> list[str]:
    return sorted(name for name in os.listdir(folder) if not name.startswith("."))


def _base_name(name: str) -> str:
    # A Maildir file keeps its unique name when it moves; only the ":2,flags" info changes.
    return name.split(":", 1)[0]


def _ingest_file(settings: Settings, mailbox: MaildirMailbox, folder: str, name: str, summary: PollSummary) -> bool:
    """Ingest one file of new/ or cur/; return False when another program took it first."""
    try:
        raw = (mailbox.path / folder / name).read_bytes()
    except FileNotFoundError:
        return False
    summary.count(ingest_one(settings, raw, Source(mailbox.key, folder)))
    return True


def _failed(settings: Settings, mailbox: MaildirMailbox, summary: PollSummary, error: Exception) -> PollSummary:
    if isinstance(error, MaildirMissing):
        summary.error = str(error)
    else:
        summary.error = f"maildir not readable: {type(error).__name__}: {error}"
    record_failure(settings, mailbox.key, mailbox.folder, summary.error)
    logger.warning("maildir poll failed", extra={"mailbox": mailbox.key, "error": type(error).__name__})
    return summary


def _stopped(mailbox: MaildirMailbox, summary: PollSummary) -> PollSummary:
    summary.warnings.append("poll stopped early because its lock expired")
    logger.warning("maildir poll stopped early", extra={"mailbox": mailbox.key})
    return summary


def _mark_seen(root: Path, name: str) -> None:
    try:
        os.replace(root / "new" / name, root / "cur" / f"{_base_name(name)}{SEEN_SUFFIX}")
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
