"""Migration 0003 on a database with data: rows and references survive the SQLite table copy."""

from __future__ import annotations

import sqlalchemy as sa

from helpdesk import schema
from helpdesk.db import get_engine
from tests.conftest import make_settings

USER = (
    "INSERT INTO users (id, email, display_name, password_hash, role, can_reveal, language, active, failed_logins, created_at)"
    " VALUES (1, 'anna@helpdesk.test', '', 'x', 'agent', false, 'nl', true, 0, '2026-01-01')"
)
TICKET = (
    "INSERT INTO tickets (id, status, subject, urgent, assignee_id, draft, draft_slugs, created_at, updated_at, last_message_at)"
    " VALUES (1, 'new', 'Vraag', false, 1, '', '[]', '2026-01-01', '2026-01-01', '2026-01-01')"
)
MESSAGE = (
    "INSERT INTO messages (id, ticket_id, direction, message_id, subject, body, new_text, raw_size, is_automatic,"
    " delivery_attempts, is_acknowledgement, article_slugs, received_at)"
    " VALUES (1, 1, 'inbound', 'm-1@example.net', '', '', '', 0, false, 0, false, '[]', '2026-01-01')"
)


def test_upgrade_keeps_tickets_and_references(database_url, tmp_path):
    settings = make_settings(tmp_path / "var", database_url)
    schema.upgrade(settings, "0001")
    engine = get_engine(database_url)
    with engine.begin() as connection:
        for statement in (USER, TICKET, MESSAGE):
            connection.execute(sa.text(statement))

    schema.upgrade(settings)

    with engine.connect() as connection:
        assert connection.execute(sa.text("SELECT assignee_id, team_id FROM tickets")).all() == [(1, None)]
        assert connection.execute(sa.text("SELECT count(*) FROM messages")).scalar() == 1
        if engine.dialect.name == "sqlite":
            assert connection.execute(sa.text("PRAGMA foreign_keys")).scalar() == 1


def test_upgrade_keeps_descending_queue_index(database_url, tmp_path):
    settings = make_settings(tmp_path / "var", database_url)

    schema.upgrade(settings)

    engine = get_engine(database_url)
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            definition = connection.execute(sa.text("SELECT sql FROM sqlite_master WHERE name = 'ix_tickets_urgent_last'")).scalar()
        else:
            definition = connection.execute(sa.text("SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_tickets_urgent_last'")).scalar()
    assert "urgent DESC" in definition
