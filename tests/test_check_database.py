"""`helpdesk check`: the database, its schema and the stored encrypted data, on SQLite and PostgreSQL."""

from __future__ import annotations

import sqlite3

import sqlalchemy as sa
from alembic.script import ScriptDirectory

from helpdesk import schema
from helpdesk.checks import CheckContext, Status
from helpdesk.checks.database import check_database, check_stored_data
from helpdesk.crypto import encrypt, generate_key
from helpdesk.db import get_engine, session_scope
from helpdesk.tickets.models import Ticket
from tests.conftest import make_settings
from tests.services.ports import free_port


def dutch(settings) -> CheckContext:
    return CheckContext(settings=settings, gettext=lambda text: text, timeout=5)


def by_name(results):
    return {result.name: result for result in results}


def test_migrated_database_passes(settings):
    results = by_name(check_database(dutch(settings)))

    assert results["database"].status is Status.OK
    assert results["schema"].status is Status.OK
    assert ScriptDirectory(str(schema.MIGRATIONS_DIR)).get_current_head() in results["schema"].message


def test_database_without_tables_fails(database_url, tmp_path):
    if database_url.startswith("sqlite"):
        # An empty file is a valid SQLite database without tables.
        sqlite3.connect(database_url.removeprefix("sqlite:///")).close()
    settings = make_settings(tmp_path / "var", database_url)

    results = by_name(check_database(dutch(settings)))

    assert results["database"].status is Status.OK
    assert results["schema"].status is Status.FAILED
    assert "helpdesk db upgrade" in results["schema"].message


def test_unknown_schema_revision_fails(settings):
    with get_engine(settings.database_url).begin() as connection:
        connection.execute(sa.text("UPDATE alembic_version SET version_num = 'ffff0000'"))

    results = by_name(check_database(dutch(settings)))

    assert results["schema"].status is Status.FAILED
    assert "ffff0000" in results["schema"].message


def test_missing_sqlite_file_fails(tmp_path):
    missing = tmp_path / "nowhere" / "helpdesk.sqlite3"
    settings = make_settings(tmp_path / "var", f"sqlite:///{missing}")

    results = by_name(check_database(dutch(settings)))

    assert results["database"].status is Status.FAILED
    assert str(missing) in results["database"].message
    assert results["schema"].status is Status.SKIPPED
    assert not missing.exists(), "the check must not create the database file"


def test_postgres_on_closed_port_fails(tmp_path):
    url = f"postgresql://helpdesk:very-secret-pw@127.0.0.1:{free_port()}/helpdesk"
    settings = make_settings(tmp_path / "var", url)

    results = by_name(check_database(dutch(settings)))

    assert results["database"].status is Status.FAILED
    assert "niet bereikbaar" in results["database"].message
    assert "very-secret-pw" not in results["database"].message
    assert "very-secret-pw" not in results["database"].target
    assert results["schema"].status is Status.SKIPPED


def test_invalid_database_url_fails(tmp_path):
    settings = make_settings(tmp_path / "var", "not a url")

    results = by_name(check_database(dutch(settings)))

    assert results["database"].status is Status.FAILED
    assert "HELPDESK_DATABASE_URL" in results["database"].message


def _settings_with_key(database_url, tmp_path, key):
    return make_settings(tmp_path / "var", database_url, HELPDESK_ENCRYPTION_KEY=key)


def test_stored_data_readable_with_its_key(database_url, tmp_path):
    settings = _settings_with_key(database_url, tmp_path, generate_key())
    schema.upgrade(settings)
    with session_scope(settings) as session:
        session.add(Ticket(subject="[naam]", sender_encrypted=encrypt(settings, "client@example.test")))

    result = check_stored_data(dutch(settings), database_ready=True, key_valid=True)

    assert result.status is Status.OK


def test_stored_data_under_other_key_fails(database_url, tmp_path):
    settings = _settings_with_key(database_url, tmp_path, generate_key())
    schema.upgrade(settings)
    with session_scope(settings) as session:
        session.add(Ticket(subject="[naam]", sender_encrypted=encrypt(settings, "client@example.test")))
    other = settings.with_overrides(encryption_key=generate_key())

    result = check_stored_data(dutch(other), database_ready=True, key_valid=True)

    assert result.status is Status.FAILED
    assert "HELPDESK_ENCRYPTION_KEY" in result.message


def test_stored_data_check_skipped_without_database(sqlite_settings):
    result = check_stored_data(dutch(sqlite_settings), database_ready=False, key_valid=True)

    assert result.status is Status.SKIPPED


def test_empty_database_has_no_stored_data(sqlite_settings):
    settings = sqlite_settings.with_overrides(encryption_key=generate_key())

    result = check_stored_data(dutch(settings), database_ready=True, key_valid=True)

    assert result.status is Status.OK
    assert "nog geen" in result.message
