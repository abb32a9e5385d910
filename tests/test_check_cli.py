"""The `helpdesk check` command: exit code, JSON output, language and masked passwords."""

from __future__ import annotations

import json

import pytest
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po
from click.testing import CliRunner

from helpdesk.checks import i18n
from helpdesk.cli import main
from helpdesk.config import PROJECT_ROOT
from helpdesk.commands.check import language_from_locale
from helpdesk.crypto import generate_key
from helpdesk.metrics import MULTIPROCESS_DIR_VARIABLE

from tests.services.ports import free_port

STRONG_SECRET = "k3Wq9xZ-7pLm2VbN8cR4tY6uI0oP1aSdFgHjKl"
CHECK_SOURCES = [
    *sorted((PROJECT_ROOT / "helpdesk" / "checks").glob("*.py")),
    PROJECT_ROOT / "helpdesk" / "commands" / "check.py",
    PROJECT_ROOT / "helpdesk" / "health.py",
    PROJECT_ROOT / "workers" / "health.py",
]


@pytest.fixture
def ready_settings(sqlite_settings, smtp_server, tmp_path, monkeypatch):
    """Settings under which every check passes: SQLite, a Maildir, a filesystem broker and a real SMTP server."""
    mailbox = tmp_path / "Maildir"
    for name in ("cur", "new", "tmp"):
        (mailbox / name).mkdir(parents=True)
    metrics_folder = tmp_path / "metrics"
    metrics_folder.mkdir()
    monkeypatch.setenv(MULTIPROCESS_DIR_VARIABLE, str(metrics_folder))
    return sqlite_settings.with_overrides(
        encryption_key=generate_key(),
        secret_key=STRONG_SECRET,
        mailbox_urls=(f"maildir:{mailbox}",),
        broker_url=f"filesystem://{tmp_path / 'broker'}",
        smtp_url=smtp_server.url,
        public_url="https://vragen.helpdesk.example.org",
        from_address="vragen@helpdesk.example.org",
    )


def run_check(settings, *arguments, env=None):
    return CliRunner().invoke(main, ["check", *arguments], obj=settings, env=env or {"LC_ALL": "", "LC_MESSAGES": "", "LANG": "C.UTF-8"})


def test_ready_installation_exits_zero(ready_settings):
    result = run_check(ready_settings)

    assert result.exit_code == 0, result.stdout
    lines = result.stdout.splitlines()
    assert len(lines) == 14
    assert all(line.startswith("OK") for line in lines), result.stdout


def test_json_output_lists_every_check(ready_settings):
    result = run_check(ready_settings, "--json")

    assert result.exit_code == 0, result.stdout
    report = json.loads(result.stdout)
    assert report["ok"] is True
    assert report["language"] == "nl"
    assert [check["name"] for check in report["checks"]] == [
        "configuration",
        "database",
        "schema",
        "encryption_key",
        "secret_key",
        "stored_data",
        "totp_secrets",
        "teams",
        "broker",
        "mailbox",
        "smtp",
        "public_url",
        "from_address",
        "metrics",
    ]
    assert {check["status"] for check in report["checks"]} == {"ok"}


def test_failed_check_exits_one(ready_settings):
    settings = ready_settings.with_overrides(smtp_url=f"smtp://127.0.0.1:{free_port()}")

    result = run_check(settings, "--json")

    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["ok"] is False
    failed = [check for check in report["checks"] if check["status"] == "failed"]
    assert [check["name"] for check in failed] == ["smtp"]
    assert "niet bereikbaar" in failed[0]["message"]


def test_warning_does_not_fail(ready_settings, tmp_path):
    settings = ready_settings.with_overrides(smtp_url=f"file:{tmp_path / 'outbox'}")

    result = run_check(settings)

    assert result.exit_code == 0, result.stdout
    assert any(line.startswith("LET OP") for line in result.stdout.splitlines())


def test_invalid_settings_give_one_failed_line(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HELPDESK_RETENTION_RAW_DAYS", "thirty")

    result = CliRunner().invoke(main, ["check", "--lang", "en"])

    assert result.exit_code == 1
    assert result.stdout.startswith("FAILED")
    assert "HELPDESK_RETENTION_RAW_DAYS" in result.stdout
    assert len(result.stdout.splitlines()) == 1


def test_passwords_never_printed(ready_settings):
    settings = ready_settings.with_overrides(
        database_url=f"postgresql://helpdesk:db-pass-5150@127.0.0.1:{free_port()}/helpdesk",
        broker_url=f"redis://:redis-pass-5150@127.0.0.1:{free_port()}/0",
        smtp_url=f"smtp://helpdesk:smtp-pass-5150@127.0.0.1:{free_port()}",
        mailbox_urls=(f"imap://helpdesk:imap-pass-5150@127.0.0.1:{free_port()}/INBOX",),
    )

    for arguments in ([], ["--json"]):
        result = run_check(settings, *arguments)

        assert result.exit_code == 1
        for secret in ("db-pass-5150", "redis-pass-5150", "smtp-pass-5150", "imap-pass-5150", STRONG_SECRET, settings.encryption_key):
            assert secret not in result.stdout


def test_english_with_lang_option(ready_settings):
    result = run_check(ready_settings, "--lang", "en")

    assert result.exit_code == 0, result.stdout
    assert "The settings were loaded." in result.stdout
    assert "De instellingen" not in result.stdout


def test_english_from_lang_variable(ready_settings):
    result = run_check(ready_settings, env={"LC_ALL": "", "LC_MESSAGES": "", "LANG": "en_GB.UTF-8"})

    assert "The settings were loaded." in result.stdout


@pytest.mark.parametrize(
    ("variables", "language"),
    [
        ({"LANG": "en_US.UTF-8"}, "en"),
        ({"LANG": "nl_BE.UTF-8"}, "nl"),
        ({"LANG": "fr_BE.UTF-8"}, "nl"),
        ({"LANG": "C.UTF-8"}, "nl"),
        ({"LC_ALL": "nl_BE.UTF-8", "LANG": "en_US.UTF-8"}, "nl"),
        ({"LC_MESSAGES": "en_US.UTF-8", "LANG": "nl_BE.UTF-8"}, "en"),
        ({}, "nl"),
    ],
)
def test_language_from_locale(monkeypatch, variables, language):
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(name, raising=False)
    for name, value in variables.items():
        monkeypatch.setenv(name, value)

    assert language_from_locale() == language


def test_every_message_has_english_translation():
    with i18n.catalog_path("en").open("rb") as po_file:
        catalog = read_po(po_file)

    for source in CHECK_SOURCES:
        for _line, message_id, _comments, _context in extract_from_file(
            "python", source, keywords={"_": None, "gettext": None}
        ):
            entry = catalog.get(message_id)
            assert entry is not None and entry.string, f"{source.name}: no English text for {message_id!r}"
            assert not entry.fuzzy, f"{source.name}: fuzzy English text for {message_id!r}"
