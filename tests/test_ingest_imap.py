"""Polling a real Dovecot over IMAP: UIDs, batches, flags, moves, UIDVALIDITY and failures."""

from __future__ import annotations

import threading
from email.message import EmailMessage

import pytest
from sqlalchemy import func, select

from helpdesk.db import session_scope
from helpdesk.ingest.models import MailboxState
from helpdesk.ingest.imap import connect, mark_processed
from helpdesk.ingest.polling import idle_wait, poll_all, poll_mailbox
from helpdesk.ingest.removal import delete_mailbox_copies
from helpdesk.ingest.sources import mailbox_key, parse_mailbox_url
from helpdesk.privacy.retention import MailboxCopy
from helpdesk.tickets.models import Message, Ticket

pytestmark = pytest.mark.dovecot


def client_mail(number: int, body: str = "Hoe lang duurt het voor ik een uitslag krijg?") -> bytes:
    message = EmailMessage()
    message["From"] = f"Client {number} <client{number}@example.net>"
    message["To"] = "vragen@helpdesk.test"
    message["Subject"] = f"Vraag {number}"
    message["Message-ID"] = f"<imap-{number}@example.net>"
    message.set_content(body)
    return message.as_bytes()


def count(settings, model) -> int:
    with session_scope(settings) as session:
        return session.scalar(select(func.count()).select_from(model))


def state_of(settings, url: str) -> MailboxState:
    with session_scope(settings) as session:
        return session.scalars(select(MailboxState).where(MailboxState.mailbox == mailbox_key(url))).one()


@pytest.fixture
def imap_settings(settings, imap_account):
    return settings.with_overrides(mailbox_urls=(imap_account.imap_url,), imap_after_processing="seen")


def test_poll_ingests_new_mail(imap_settings, imap_account):
    imap_account.append(client_mail(1))
    imap_account.append(client_mail(2))

    summary = poll_mailbox(imap_settings, imap_account.imap_url)

    assert summary.error is None
    assert summary.ingested == 2
    assert len(summary.ticket_ids) == 2
    assert count(imap_settings, Ticket) == 2
    state = state_of(imap_settings, imap_account.imap_url)
    assert state.last_uid == 2
    assert state.uidvalidity == imap_account.uidvalidity()
    assert state.last_error is None


def test_second_poll_adds_nothing(imap_settings, imap_account):
    imap_account.append(client_mail(1))
    poll_mailbox(imap_settings, imap_account.imap_url)

    again = poll_mailbox(imap_settings, imap_account.imap_url)

    assert again.fetched == 0
    assert count(imap_settings, Message) == 1


def test_poll_records_source(imap_settings, imap_account):
    uid = imap_account.append(client_mail(1))

    poll_mailbox(imap_settings, imap_account.imap_url)

    with session_scope(imap_settings) as session:
        message = session.scalars(select(Message)).one()
        assert (message.mailbox, message.folder, message.uid) == (mailbox_key(imap_account.imap_url), "INBOX", uid)
        assert imap_account.password not in message.mailbox


def test_seen_mail_still_ingested(imap_settings, imap_account):
    imap_account.append(client_mail(1), flags=(b"\\Seen",))

    summary = poll_mailbox(imap_settings, imap_account.imap_url)

    assert summary.ingested == 1


def test_processed_mail_marked_seen(imap_settings, imap_account):
    uid = imap_account.append(client_mail(1))

    poll_mailbox(imap_settings, imap_account.imap_url)

    assert b"\\Seen" in imap_account.flags()[uid]


def test_leave_keeps_mail_unseen(imap_settings, imap_account):
    settings = imap_settings.with_overrides(imap_after_processing="leave")
    uid = imap_account.append(client_mail(1))

    poll_mailbox(settings, imap_account.imap_url)

    assert b"\\Seen" not in imap_account.flags()[uid]
    assert imap_account.folder_uids() == [uid]


def test_move_to_processed_folder(imap_settings, imap_account):
    settings = imap_settings.with_overrides(imap_after_processing="move")
    imap_account.append(client_mail(1))
    imap_account.append(client_mail(2))

    summary = poll_mailbox(settings, imap_account.imap_url)

    assert summary.ingested == 2
    assert imap_account.folder_uids("INBOX") == []
    assert len(imap_account.folder_uids("Verwerkt")) == 2


def test_backlog_larger_than_batch(imap_settings, imap_account):
    settings = imap_settings.with_overrides(imap_batch_size=3)
    for number in range(8):
        imap_account.append(client_mail(number))

    summary = poll_mailbox(settings, imap_account.imap_url)

    assert summary.ingested == 8
    assert count(settings, Ticket) == 8
    assert state_of(settings, imap_account.imap_url).last_uid == 8


def test_uidvalidity_change_rescans_without_duplicates(imap_settings, imap_account):
    imap_account.append(client_mail(1))
    poll_mailbox(imap_settings, imap_account.imap_url)
    imap_account.set_uidvalidity(imap_account.uidvalidity() + 100)
    imap_account.append(client_mail(2))

    summary = poll_mailbox(imap_settings, imap_account.imap_url)

    assert summary.uidvalidity_changed
    assert summary.duplicates == 1
    assert summary.ingested == 1
    assert count(imap_settings, Ticket) == 2


def test_wrong_password_recorded(imap_settings, imap_account):
    url = imap_account.url(password="wrong-password")

    summary = poll_mailbox(imap_settings, url)

    assert summary.error is not None
    assert "login failed" in summary.error
    state = state_of(imap_settings, url)
    assert state.consecutive_failures == 1
    assert "wrong-password" not in state.last_error


def test_unreachable_server_recorded(settings):
    url = "imap://user:secret@127.0.0.1:1/INBOX"

    summary = poll_mailbox(settings.with_overrides(imap_timeout_seconds=5.0), url)

    assert summary.error is not None
    assert state_of(settings, url).last_error.startswith("connect or login failed")


def test_poll_all_continues_after_failure(imap_settings, imap_account):
    imap_account.append(client_mail(1))
    settings = imap_settings.with_overrides(
        mailbox_urls=(imap_account.url(password="wrong-password"), imap_account.imap_url)
    )

    summaries = poll_all(settings)

    assert [summary.error is None for summary in summaries] == [False, True]
    assert summaries[1].ingested == 1


def test_failure_cleared_after_success(imap_settings, imap_account):
    poll_mailbox(imap_settings, imap_account.url(password="wrong-password"))

    poll_mailbox(imap_settings, imap_account.imap_url)

    state = state_of(imap_settings, imap_account.imap_url)
    assert state.last_error is None
    assert state.consecutive_failures == 0


def test_unparseable_mail_quarantined_and_moved(imap_settings, imap_account):
    settings = imap_settings.with_overrides(max_message_bytes=500, imap_after_processing="move")
    imap_account.append(client_mail(1, body="x" * 5000))

    summary = poll_mailbox(settings, imap_account.imap_url)

    assert summary.quarantined == 1
    assert imap_account.folder_uids("INBOX") == []


def test_server_restart_between_polls(dovecot, imap_settings, imap_account):
    imap_account.append(client_mail(1))
    poll_mailbox(imap_settings, imap_account.imap_url)
    dovecot.restart()
    imap_account.append(client_mail(2))

    summary = poll_mailbox(imap_settings, imap_account.imap_url)

    assert summary.ingested == 1
    assert count(imap_settings, Ticket) == 2


def test_idle_wait_times_out_without_mail(imap_settings, imap_account):
    assert idle_wait(imap_settings, imap_account.imap_url, timeout=1) is False


def test_idle_wait_wakes_on_new_mail(imap_settings, imap_account):
    # A mail appended before IDLE has started raises no EXISTS, and on a busy
    # machine connecting can take longer than any fixed delay, so mail keeps
    # arriving every second until the wait ends.
    waiting = threading.Event()

    def append_until_woken():
        number = 1
        while not waiting.wait(1.0):
            imap_account.append(client_mail(number))
            number += 1

    appender = threading.Thread(target=append_until_woken)
    appender.start()
    try:
        arrived = idle_wait(imap_settings, imap_account.imap_url, timeout=30)
    finally:
        waiting.set()
        appender.join()

    assert arrived is True


@pytest.mark.parametrize("after_processing", ["seen", "move"])
def test_mark_processed_tolerates_expunged_mail(imap_settings, imap_account, after_processing):
    settings = imap_settings.with_overrides(imap_after_processing=after_processing)
    uid = imap_account.append(client_mail(1))
    mailbox = parse_mailbox_url(imap_account.imap_url)
    client = connect(mailbox, settings)
    try:
        client.select_folder("INBOX")
        with imap_account.connect() as other:
            other.select_folder("INBOX")
            other.delete_messages([uid])
            other.expunge()

        mark_processed(settings, mailbox, client, [uid])
    finally:
        client.logout()

    assert imap_account.folder_uids("INBOX") == []


def test_starttls_with_ca_file(dovecot, imap_settings, imap_account):
    imap_account.append(client_mail(1))
    url = imap_account.url(query=f"starttls=1&cafile={dovecot.ca_file}")

    summary = poll_mailbox(imap_settings, url)

    assert summary.error is None
    assert summary.ingested == 1


def test_imaps_with_ca_file(dovecot, imap_settings, imap_account):
    imap_account.append(client_mail(1))
    url = imap_account.url(scheme="imaps", query=f"cafile={dovecot.ca_file}")

    summary = poll_mailbox(imap_settings, url)

    assert summary.error is None
    assert summary.ingested == 1


def test_untrusted_certificate_rejected(imap_settings, imap_account):
    imap_account.append(client_mail(1))

    summary = poll_mailbox(imap_settings, imap_account.url(scheme="imaps"))

    assert summary.error is not None
    assert "CERTIFICATE_VERIFY_FAILED" in summary.error
    assert count(imap_settings, Ticket) == 0


def test_delete_mailbox_copies_after_move(imap_settings, imap_account):
    settings = imap_settings.with_overrides(imap_after_processing="move")
    imap_account.append(client_mail(1))
    imap_account.append(client_mail(2))
    poll_mailbox(settings, imap_account.imap_url)
    key = mailbox_key(imap_account.imap_url)

    summary = delete_mailbox_copies(
        settings,
        [MailboxCopy(key, "imap-1@example.net"), MailboxCopy(key, "missing@example.net")],
    )

    assert (summary.deleted, summary.not_found, summary.failed) == (1, 1, 0)
    assert len(imap_account.folder_uids("Verwerkt")) == 1


def test_delete_mailbox_copies_wrong_password(imap_settings, imap_account):
    url = imap_account.url(password="wrong-password")
    settings = imap_settings.with_overrides(mailbox_urls=(url,))

    summary = delete_mailbox_copies(settings, [MailboxCopy(mailbox_key(url), "imap-1@example.net")])

    assert summary.failed == 1


def test_move_failure_recorded_as_warning(imap_settings, imap_account):
    settings = imap_settings.with_overrides(imap_after_processing="move", imap_processed_folder="../niet-toegestaan")
    uid = imap_account.append(client_mail(1))

    summary = poll_mailbox(settings, imap_account.imap_url)

    assert summary.error is None
    assert summary.ingested == 1
    assert len(summary.warnings) == 1
    assert "marking 1 processed messages failed" in state_of(settings, imap_account.imap_url).last_error
    assert imap_account.folder_uids("INBOX") == [uid]
    assert poll_mailbox(settings, imap_account.imap_url).fetched == 0
