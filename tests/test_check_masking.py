"""Masking of passwords in the URLs and messages that `helpdesk check` prints."""

from __future__ import annotations

import pytest

from helpdesk.checks.masking import mask_url, scrub, settings_secrets


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        ("postgresql://helpdesk:s3cret@db.example.org:5432/helpdesk", "postgresql://helpdesk:***@db.example.org:5432/helpdesk"),
        ("postgresql:///helpdesk?host=/var/run/postgresql", "postgresql:///helpdesk?host=/var/run/postgresql"),
        ("redis://:s3cret@127.0.0.1:6379/0", "redis://:***@127.0.0.1:6379/0"),
        ("redis://127.0.0.1:6379/0?password=s3cret", "redis://127.0.0.1:6379/0?password=***"),
        ("imaps://vragen%40example.org:p%40ss@mail.example.org/INBOX", "imaps://vragen%40example.org:***@mail.example.org/INBOX"),
        ("smtp://user@mail.example.org:587?starttls=1", "smtp://user@mail.example.org:587?starttls=1"),
        ("maildir:/var/lib/helpdesk/mailbox", "maildir:/var/lib/helpdesk/mailbox"),
        ("sqlite:////var/lib/helpdesk/helpdesk.sqlite3", "sqlite:////var/lib/helpdesk/helpdesk.sqlite3"),
    ],
)
def test_mask_url(url, masked):
    assert mask_url(url) == masked


def test_secrets_include_decoded_passwords(sqlite_settings):
    settings = sqlite_settings.with_overrides(mailbox_urls=("imaps://vragen:p%40ss-word@mail.example.org/INBOX",))

    secrets = settings_secrets(settings)

    assert "p@ss-word" in secrets
    assert "p%40ss-word" in secrets
    assert settings.secret_key in secrets


def test_scrub_replaces_longest_secret_first():
    assert scrub("login failed for abcd-efgh", {"abcd", "abcd-efgh"}) == "login failed for ***"
