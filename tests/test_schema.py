import sqlalchemy as sa

from helpdesk.db import get_engine


def test_upgrade_creates_core_tables(settings):
    inspector = sa.inspect(get_engine(settings.database_url))
    tables = set(inspector.get_table_names())
    for name in ("tickets", "messages", "attachments", "users", "audit_log", "mailbox_states"):
        assert name in tables
