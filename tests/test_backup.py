"""scripts/backup.sh and scripts/restore.sh on SQLite and PostgreSQL.

The scripts run as subprocesses with the settings in their environment, as
a systemd timer or an operator would run them.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import select

from helpdesk import schema
from helpdesk.backups import KEYS_FILE, MANIFEST_FILE, README_FILE, BackupError, read_manifest
from helpdesk.config import PROJECT_ROOT
from helpdesk.crypto import decrypt, encrypt, generate_key
from helpdesk.db import get_engine, session_scope
from helpdesk.tickets.models import Direction, Message, Ticket
from tests.conftest import _create_postgres_database, _drop_postgres_database, make_settings

BACKUP_SCRIPT = PROJECT_ROOT / "scripts" / "backup.sh"
RESTORE_SCRIPT = PROJECT_ROOT / "scripts" / "restore.sh"
HELPDESK_COMMAND = Path(sys.executable).parent / "helpdesk"
SECRET_KEY = "backup-test-secret-key-0123456789abcdef"
SENDER = "client@example.test"
ORIGINAL = "Ik ben Jan Peeters, waar kan ik testen?"


@pytest.fixture
def keys():
    return {"HELPDESK_ENCRYPTION_KEY": generate_key(), "HELPDESK_SECRET_KEY": SECRET_KEY}


@pytest.fixture
def source(database_url, tmp_path, keys):
    """Settings on a migrated database with one ticket whose sender and original are encrypted."""
    settings = make_settings(tmp_path / "source", database_url, **keys)
    schema.upgrade(settings)
    with session_scope(settings) as session:
        ticket = Ticket(subject="Vraag over testen", sender_encrypted=encrypt(settings, SENDER))
        ticket.messages.append(
            Message(
                direction=Direction.INBOUND,
                message_id="backup-test@client.test",
                subject="Vraag over testen",
                body="Ik ben [naam], waar kan ik testen?",
                original_encrypted=encrypt(settings, ORIGINAL),
            )
        )
        session.add(ticket)
    return settings


@pytest.fixture
def target_url(database_url, tmp_path):
    """An empty database on the same backend as the source, for restoring into."""
    if database_url.startswith("sqlite"):
        url = f"sqlite:///{tmp_path / 'restored' / 'helpdesk.sqlite3'}"
        yield url
        get_engine(url).dispose()
        return
    url = _create_postgres_database()
    yield url
    _drop_postgres_database(url)


def script_environment(settings, **overrides: str) -> dict[str, str]:
    environment = {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", "/tmp"),
        "HELPDESK_BIN": str(HELPDESK_COMMAND),
        "HELPDESK_DATA_DIR": str(settings.data_dir),
        "HELPDESK_DATABASE_URL": settings.database_url,
        "HELPDESK_ENCRYPTION_KEY": settings.encryption_key,
        "HELPDESK_SECRET_KEY": settings.secret_key,
    }
    environment.update(overrides)
    return environment


def run_script(script: Path, *arguments: str, environment: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", str(script), *arguments], env=environment, cwd=cwd, capture_output=True, text=True, timeout=300
    )


def make_backup(settings, destination: Path) -> Path:
    result = run_script(BACKUP_SCRIPT, str(destination), environment=script_environment(settings), cwd=destination.parent)
    assert result.returncode == 0, result.stderr
    folders = [line.removeprefix("backup: wrote ") for line in result.stdout.splitlines() if line.startswith("backup: wrote ")]
    assert len(folders) == 1, result.stdout
    return Path(folders[0])


def test_backup_restores_ticket_and_sender(source, target_url, tmp_path):
    backup = make_backup(source, tmp_path / "backups")
    target = source.with_overrides(database_url=target_url, data_dir=tmp_path / "target")

    result = run_script(RESTORE_SCRIPT, str(backup), environment=script_environment(target), cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    with session_scope(target) as session:
        ticket = session.scalars(select(Ticket)).one()
        assert ticket.subject == "Vraag over testen"
        assert decrypt(target, ticket.sender_encrypted) == SENDER
        assert decrypt(target, ticket.messages[0].original_encrypted) == ORIGINAL


def test_backup_folder_contents(source, tmp_path, keys):
    backup = make_backup(source, tmp_path / "backups")

    names = sorted(path.name for path in backup.iterdir())
    manifest = read_manifest(backup)
    assert manifest.backend == ("sqlite" if source.database_url.startswith("sqlite") else "postgresql")
    assert names == sorted([manifest.database_file, KEYS_FILE, README_FILE, MANIFEST_FILE])
    assert manifest.revision == ScriptDirectory.from_config(schema.alembic_config(source)).get_current_head()
    assert f"HELPDESK_ENCRYPTION_KEY={keys['HELPDESK_ENCRYPTION_KEY']}" in (backup / KEYS_FILE).read_text()
    assert "HELPDESK_ENCRYPTION_KEY" in (backup / README_FILE).read_text()
    for path in backup.iterdir():
        assert path.stat().st_mode & 0o077 == 0, f"{path.name} is readable by others"


def test_restore_with_other_key_is_rejected(source, target_url, tmp_path):
    backup = make_backup(source, tmp_path / "backups")
    target = source.with_overrides(database_url=target_url, data_dir=tmp_path / "target")
    environment = script_environment(target, HELPDESK_ENCRYPTION_KEY=generate_key())

    result = run_script(RESTORE_SCRIPT, str(backup), environment=environment, cwd=tmp_path)

    assert result.returncode != 0
    assert "HELPDESK_ENCRYPTION_KEY differs" in result.stderr
    assert source.encryption_key not in result.stderr + result.stdout


def test_restore_into_used_database_needs_replace(source, target_url, tmp_path):
    backup = make_backup(source, tmp_path / "backups")
    target = source.with_overrides(database_url=target_url, data_dir=tmp_path / "target")
    schema.upgrade(target)
    with session_scope(target) as session:
        session.add(Ticket(subject="Bestaand ticket"))
    environment = script_environment(target)

    refused = run_script(RESTORE_SCRIPT, str(backup), environment=environment, cwd=tmp_path)
    assert refused.returncode != 0
    assert "--replace" in refused.stderr

    replaced = run_script(RESTORE_SCRIPT, str(backup), "--replace", environment=environment, cwd=tmp_path)
    assert replaced.returncode == 0, replaced.stderr
    with session_scope(target) as session:
        assert session.scalars(select(Ticket.subject)).all() == ["Vraag over testen"]


def test_damaged_backup_is_rejected(source, tmp_path):
    backup = make_backup(source, tmp_path / "backups")
    database_file = backup / read_manifest(backup).database_file
    data = bytearray(database_file.read_bytes())
    data[len(data) // 2] ^= 0xFF
    database_file.write_bytes(bytes(data))

    with pytest.raises(BackupError, match="checksum"):
        read_manifest(backup)


def test_backup_deletes_only_old_backups(sqlite_settings, tmp_path):
    destination = tmp_path / "backups"
    destination.mkdir()
    old = destination / "helpdesk-20200101T000000Z"
    recent = destination / "helpdesk-20991231T000000Z"
    unrelated = destination / "other-20200101"
    for folder in (old, recent, unrelated):
        folder.mkdir()
    month_ago = time.time() - 30 * 24 * 3600
    for folder in (old, unrelated):
        os.utime(folder, (month_ago, month_ago))
    environment = script_environment(sqlite_settings, KEEP_DAYS="14")

    result = run_script(BACKUP_SCRIPT, str(destination), environment=environment, cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    assert not old.exists()
    assert recent.exists()
    assert unrelated.exists()
    assert f"backup: deleted {old}" in result.stdout


def test_restore_refuses_without_folder(tmp_path, sqlite_settings):
    result = run_script(RESTORE_SCRIPT, str(tmp_path / "missing"), environment=script_environment(sqlite_settings), cwd=tmp_path)

    assert result.returncode != 0
    assert "is not a folder" in result.stderr
