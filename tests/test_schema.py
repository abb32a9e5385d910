from importlib import import_module

import uuid

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

import helpdesk.models  # noqa: F401
from helpdesk import accents, schema
from helpdesk.config import ConfigError
from helpdesk.db import Base, get_engine, session_scope
from helpdesk.plugins import get_registry
from helpdesk.tickets.models import Direction, Message, Ticket
from tests.conftest import POSTGRES_ADMIN_URL, _drop_postgres_database, make_settings


def test_upgrade_creates_core_tables(settings):
    inspector = sa.inspect(get_engine(settings.database_url))
    tables = set(inspector.get_table_names())
    for name in ("tickets", "messages", "attachments", "users", "audit_log", "mailbox_states", "kb_articles"):
        assert name in tables


def test_migrations_match_models(database_url, tmp_path):
    settings = make_settings(tmp_path / "var", database_url)
    schema.upgrade(settings)
    get_registry()  # plugins add their tables to Base.metadata

    with get_engine(database_url).connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)

    assert differences == [], f"models differ from the migrations; write a new migration: {differences}"


def test_downgrade_removes_all_tables(database_url, tmp_path):
    settings = make_settings(tmp_path / "var", database_url)
    schema.upgrade(settings)

    from alembic import command

    command.downgrade(schema.alembic_config(settings), "base")

    tables = set(sa.inspect(get_engine(database_url)).get_table_names()) - {"alembic_version"}
    assert tables == set()


SEARCH_FUNCTIONS_LANGUAGE = sa.text(
    "SELECT proname, lanname FROM pg_proc JOIN pg_language ON pg_language.oid = prolang "
    "WHERE proname IN ('ticket_search_document', 'store_ticket_search_document') ORDER BY proname"
)


def test_search_document_functions_keep_their_plans(database_url, tmp_path):
    if not database_url.startswith("postgresql"):
        pytest.skip("the search document trigger exists on PostgreSQL only")
    settings = make_settings(tmp_path / "var", database_url)
    schema.upgrade(settings)
    engine = get_engine(database_url)
    with engine.connect() as connection:
        head = connection.execute(SEARCH_FUNCTIONS_LANGUAGE).all()

    from alembic import command

    command.downgrade(schema.alembic_config(settings), "0005")
    with engine.connect() as connection:
        before = connection.execute(SEARCH_FUNCTIONS_LANGUAGE).all()

    # SQL functions are planned again at every call, while PL/pgSQL keeps its plans for the session.
    assert head == [("store_ticket_search_document", "plpgsql"), ("ticket_search_document", "plpgsql")]
    assert before == [("store_ticket_search_document", "sql"), ("ticket_search_document", "sql")]


def test_search_migration_folds_like_python():
    migration = import_module("helpdesk.migrations.versions.0007_search_without_accents")

    assert migration.ACCENTED == accents.ACCENTED
    assert migration.PLAIN == accents.PLAIN


def test_search_documents_rebuilt_without_accents(database_url, tmp_path):
    if not database_url.startswith("postgresql"):
        pytest.skip("search documents exist on PostgreSQL only")
    settings = make_settings(tmp_path / "var", database_url)
    schema.upgrade(settings, "0006")
    with session_scope(settings) as session:
        ticket = Ticket(subject="Vraag")
        session.add(ticket)
        session.flush()
        session.add(Message(ticket_id=ticket.id, direction=Direction.INBOUND, message_id="m@example.net", body="Gratis dépistage?"))
        ticket_id = ticket.id

    schema.upgrade(settings)

    with get_engine(database_url).connect() as connection:
        document = connection.execute(
            sa.text("SELECT document::text FROM ticket_search_documents WHERE ticket_id = :ticket"), {"ticket": ticket_id}
        ).scalar_one()
    assert "'depistage'" in document
    assert "dépistage" not in document


def test_upgrade_rejects_latin1_database(database_url, tmp_path):
    if not database_url.startswith("postgresql"):
        pytest.skip("the encoding check applies to PostgreSQL only")
    name = f"helpdesk_test_latin1_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f"CREATE DATABASE \"{name}\" ENCODING 'LATIN1' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0"))
    admin.dispose()
    url = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    try:
        with pytest.raises(ConfigError) as raised:
            schema.upgrade(make_settings(tmp_path / "var", url))
    finally:
        _drop_postgres_database(url)

    assert "LATIN1" in str(raised.value)
    assert "createdb --encoding UTF8" in str(raised.value)
