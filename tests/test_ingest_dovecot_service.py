"""The private Dovecot that the IMAP tests run against."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.dovecot

RAW = b"From: client@example.org\r\nSubject: Vraag\r\nMessage-ID: <fixture-1@example.org>\r\n\r\nHallo\r\n"


def test_append_returns_uid(imap_account):
    first = imap_account.append(RAW)
    second = imap_account.append(RAW)

    assert first == 1
    assert second == 2
    assert imap_account.folder_uids() == [1, 2]


def test_append_creates_folder(imap_account):
    imap_account.append(RAW, folder="Verwerkt")

    assert imap_account.folder_uids("Verwerkt") == [1]
    assert imap_account.folder_uids("INBOX") == []


def test_append_with_seen_flag(imap_account):
    uid = imap_account.append(RAW, flags=(b"\\Seen",))

    assert b"\\Seen" in imap_account.flags()[uid]


def test_accounts_are_separate(dovecot, imap_account):
    other = dovecot.add_user()
    imap_account.append(RAW)

    assert other.folder_uids() == []


def test_set_uidvalidity(imap_account):
    imap_account.append(RAW)
    before = imap_account.uidvalidity()

    imap_account.set_uidvalidity(before + 7)

    assert imap_account.uidvalidity() == before + 7
    assert imap_account.folder_uids() == [1]


def test_restart_keeps_mail(dovecot, imap_account):
    imap_account.append(RAW)

    dovecot.restart()

    assert imap_account.folder_uids() == [1]


def test_imap_url_has_credentials(dovecot, imap_account):
    url = imap_account.imap_url

    assert url == f"imap://{imap_account.user}:{imap_account.password}@127.0.0.1:{dovecot.port}/INBOX"
    assert dovecot.imap_url.startswith(f"imap://{dovecot.user}:")
