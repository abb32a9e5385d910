"""The Maildir source, `helpdesk ingest`, `helpdesk poll --once` and `helpdesk tickets export`."""

from __future__ import annotations

import json
import os
from email.message import EmailMessage
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import func, select

from helpdesk.cli import main
from helpdesk.db import session_scope
from helpdesk.ingest.models import MailboxState
from helpdesk.ingest.polling import poll_mailbox
from helpdesk.ingest.removal import delete_mailbox_copies
from helpdesk.ingest.sources import mailbox_key
from helpdesk.outbound.services import queue_reply
from helpdesk.privacy.retention import MailboxCopy
from helpdesk.tickets.models import Ticket

FIXTURES = Path(__file__).parent / "fixtures" / "mail"


def client_mail(number: int) -> bytes:
    message = EmailMessage()
    message["From"] = f"Client {number} <client{number}@example.net>"
    message["Subject"] = f"Vraag {number}"
    message["Message-ID"] = f"<maildir-{number}@example.net>"
    message.set_content("Waar kan ik me anoniem laten testen?")
    return message.as_bytes()


def deliver(maildir: Path, name: str, raw: bytes) -> None:
    for folder in ("cur", "new", "tmp"):
        (maildir / folder).mkdir(parents=True, exist_ok=True)
    (maildir / "new" / name).write_bytes(raw)


def ticket_count(settings) -> int:
    with session_scope(settings) as session:
        return session.scalar(select(func.count()).select_from(Ticket))


def test_default_maildir_created_when_missing(sqlite_settings):
    maildir = sqlite_settings.data_dir / "mailbox"

    summary = poll_mailbox(sqlite_settings, f"maildir:{maildir}")

    assert summary.error is None
    assert sorted(child.name for child in maildir.iterdir()) == ["cur", "new", "tmp"]


def test_missing_maildir_fails_naming_path(sqlite_settings, tmp_path):
    maildir = tmp_path / "typo"

    summary = poll_mailbox(sqlite_settings, f"maildir:{maildir}")

    assert summary.error is not None
    assert str(maildir) in summary.error
    assert "HELPDESK_MAILBOX_URL" in summary.error
    assert not maildir.exists()
    with session_scope(sqlite_settings) as session:
        state = session.scalars(select(MailboxState)).one()
        assert state.last_error == summary.error
        assert state.consecutive_failures == 1


def test_poll_once_rejects_missing_maildir(sqlite_settings, tmp_path):
    maildir = tmp_path / "typo"
    settings = sqlite_settings.with_overrides(mailbox_urls=(f"maildir:{maildir}",))

    result = run_cli(settings, "poll", "--once")

    assert result.exit_code == 1
    assert f"Maildir {maildir} does not exist" in result.stderr
    assert "mkdir -p" in result.stderr
    assert not maildir.exists()


def test_maildir_reads_mail_moved_to_cur(sqlite_settings, tmp_path):
    maildir = tmp_path / "mailbox"
    deliver(maildir, "1.mail", client_mail(1))
    (maildir / "cur" / "2.mail:2,S").write_bytes(client_mail(2))

    first = poll_mailbox(sqlite_settings, f"maildir:{maildir}")
    second = poll_mailbox(sqlite_settings, f"maildir:{maildir}")

    assert first.ingested == 2
    assert second.ingested == 0
    assert ticket_count(sqlite_settings) == 2


def test_maildir_reads_cur_after_previous_poll(sqlite_settings, tmp_path):
    maildir = tmp_path / "mailbox"
    deliver(maildir, "1.mail", client_mail(1))
    poll_mailbox(sqlite_settings, f"maildir:{maildir}")
    # A mail client moves a mail to cur/ between two polls, before the helpdesk saw it in new/.
    (maildir / "tmp" / "2.mail").write_bytes(client_mail(2))
    os.rename(maildir / "tmp" / "2.mail", maildir / "cur" / "2.mail:2,S")

    summary = poll_mailbox(sqlite_settings, f"maildir:{maildir}")

    assert summary.ingested == 1
    assert ticket_count(sqlite_settings) == 2


def test_maildir_recognises_cur_copy_of_ingested_mail(sqlite_settings, tmp_path):
    settings = sqlite_settings.with_overrides(imap_after_processing="leave")
    maildir = tmp_path / "mailbox"
    deliver(maildir, "1.mail", client_mail(1))
    poll_mailbox(settings, f"maildir:{maildir}")
    # A mail client moves the ingested mail from new/ to cur/.
    os.rename(maildir / "new" / "1.mail", maildir / "cur" / "1.mail:2,S")

    summary = poll_mailbox(settings, f"maildir:{maildir}")

    assert summary.duplicates == 1
    assert summary.ingested == 0
    assert ticket_count(settings) == 1


def test_maildir_poll_stops_when_told(sqlite_settings, tmp_path):
    maildir = tmp_path / "mailbox"
    for number in range(3):
        deliver(maildir, f"{number}.mail", client_mail(number))
    calls = []

    def stop_after_first() -> bool:
        calls.append(1)
        return len(calls) > 1

    summary = poll_mailbox(sqlite_settings, f"maildir:{maildir}", should_stop=stop_after_first)

    assert summary.ingested == 1
    assert summary.warnings == ["poll stopped early because its lock expired"]
    assert sorted(path.name for path in (maildir / "new").iterdir()) == ["1.mail", "2.mail"]
    assert ticket_count(sqlite_settings) == 1


def test_maildir_moves_processed_to_cur(sqlite_settings, tmp_path):
    maildir = tmp_path / "mailbox"
    deliver(maildir, "1.mail", client_mail(1))
    deliver(maildir, "2.mail", client_mail(2))

    summary = poll_mailbox(sqlite_settings, f"maildir:{maildir}")

    assert summary.ingested == 2
    assert list((maildir / "new").iterdir()) == []
    assert sorted(path.name for path in (maildir / "cur").iterdir()) == ["1.mail:2,S", "2.mail:2,S"]
    assert poll_mailbox(sqlite_settings, f"maildir:{maildir}").ingested == 0


def test_maildir_leave_keeps_files(sqlite_settings, tmp_path):
    settings = sqlite_settings.with_overrides(imap_after_processing="leave")
    maildir = tmp_path / "mailbox"
    deliver(maildir, "1.mail", client_mail(1))

    first = poll_mailbox(settings, f"maildir:{maildir}")
    second = poll_mailbox(settings, f"maildir:{maildir}")

    assert first.ingested == 1
    assert second.duplicates == 1
    assert [path.name for path in (maildir / "new").iterdir()] == ["1.mail"]
    assert ticket_count(settings) == 1


def run_cli(settings, *arguments: str):
    runner = CliRunner()
    env = {
        "HELPDESK_DATA_DIR": str(settings.data_dir),
        "HELPDESK_DATABASE_URL": settings.database_url,
        "HELPDESK_SECRET_KEY": settings.secret_key,
        "HELPDESK_FROM_ADDRESS": settings.from_address,
        "HELPDESK_MAILBOX_URL": ",".join(settings.mailbox_urls),
    }
    return runner.invoke(main, list(arguments), env=env, catch_exceptions=False)


def test_ingest_command_summary(sqlite_settings):
    paths = [
        str(FIXTURES / "reply-dutch-quoted.eml"),
        str(FIXTURES / "mailing-list.eml"),
        str(FIXTURES / "reply-dutch-quoted.eml"),
    ]

    result = run_cli(sqlite_settings, "ingest", *paths)

    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["ingested"] == 1
    assert summary["duplicates"] == 1
    assert summary["ignored"] == 1
    assert summary["quarantined"] == 0
    assert len(summary["ticket_ids"]) == 1


def test_ingest_command_reads_maildir(sqlite_settings, tmp_path):
    maildir = tmp_path / "import"
    deliver(maildir, "1.mail", client_mail(1))
    (maildir / "cur" / "2.mail:2,S").write_bytes(client_mail(2))

    result = run_cli(sqlite_settings, "ingest", str(maildir))

    assert json.loads(result.stdout)["ingested"] == 2


def test_ingest_command_on_fresh_data_folder(tmp_path):
    settings_dir = tmp_path / "fresh"
    runner = CliRunner()
    env = {"HELPDESK_DATA_DIR": str(settings_dir), "HELPDESK_DATABASE_URL": "", "HELPDESK_SECRET_KEY": "test"}

    result = runner.invoke(main, ["ingest", str(FIXTURES / "html-only-tracking.eml")], env=env, catch_exceptions=False)

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["ingested"] == 1
    assert (settings_dir / "helpdesk.sqlite3").exists()


def test_poll_once_command(sqlite_settings, tmp_path):
    maildir = tmp_path / "mailbox"
    deliver(maildir, "1.mail", client_mail(1))
    settings = sqlite_settings.with_overrides(mailbox_urls=(f"maildir:{maildir}",))

    result = run_cli(settings, "poll", "--once")

    assert result.exit_code == 0, result.output
    [summary] = json.loads(result.stdout)
    assert summary["ingested"] == 1
    assert summary["error"] is None


def test_tickets_export_has_no_addresses(sqlite_settings):
    run_cli(sqlite_settings, "ingest", str(FIXTURES / "reply-dutch-quoted.eml"), str(FIXTURES / "encoded-words-rfc2047-rfc2231.eml"))

    result = run_cli(sqlite_settings, "tickets", "export", "--json")

    assert result.exit_code == 0, result.output
    tickets = json.loads(result.stdout)
    assert len(tickets) == 2
    assert tickets[0]["status"] == "new"
    assert tickets[0]["messages"][0]["new_text"] == "Bedankt, moet ik nuchter zijn voor de bloedafname?"
    assert "suggested_slugs" in tickets[0]
    assert "urgent" in tickets[0]
    assert "language" in tickets[0]
    assert "@" not in result.stdout.replace("[e-mailadres]", "")


def test_tickets_export_redacts_staff_replies(sqlite_settings):
    run_cli(sqlite_settings, "ingest", str(FIXTURES / "reply-dutch-quoted.eml"))
    with session_scope(sqlite_settings) as session:
        ticket = session.scalars(select(Ticket)).one()
        queue_reply(session, sqlite_settings, ticket, "Dag Marie Dubois,\n\nbel ons op 0478 12 34 56.", None)

    result = run_cli(sqlite_settings, "tickets", "export", "--json")

    assert result.exit_code == 0, result.output
    [reply] = [message for message in json.loads(result.stdout)[0]["messages"] if message["direction"] == "outbound"]
    assert "Marie" not in reply["body"]
    assert "0478" not in reply["body"]
    assert "[naam]" in reply["body"]
    assert "[telefoonnummer]" in reply["body"]


def test_delete_copies_from_maildir(sqlite_settings, tmp_path):
    maildir = tmp_path / "mailbox"
    url = f"maildir:{maildir}"
    settings = sqlite_settings.with_overrides(mailbox_urls=(url,))
    deliver(maildir, "1.mail", client_mail(1))
    deliver(maildir, "2.mail", client_mail(2))
    poll_mailbox(settings, url)

    summary = delete_mailbox_copies(settings, [MailboxCopy(mailbox_key(url), "maildir-1@example.net")])

    assert summary.deleted == 1
    assert [path.name for path in (maildir / "cur").iterdir()] == ["2.mail:2,S"]


def test_tickets_export_has_problem_codes(sqlite_settings, tmp_path):
    garbage = tmp_path / "boodschappen.txt"
    garbage.write_bytes(b"boodschappen\nmelk\nbrood\n")
    run_cli(sqlite_settings, "ingest", str(garbage))

    result = run_cli(sqlite_settings, "tickets", "export", "--json")

    assert result.exit_code == 0, result.output
    [ticket] = json.loads(result.stdout)
    assert ticket["status"] == "quarantined"
    assert ticket["quarantine_reason"] == ["no_headers"]
    assert ticket["messages"][0]["parse_problems"] == ["message_id_missing", "date_missing", "no_headers"]
