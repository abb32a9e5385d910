"""Search documents in PL/pgSQL: the trigger's statements keep their plans.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05 12:00:00

The functions that refresh a ticket's search document were SQL functions,
which PostgreSQL parses and plans again each time the trigger calls them,
once per inserted message. PL/pgSQL keeps the plans of its statements for
the session. The functions compute the same documents as before; nothing is
rebuilt. On SQLite there is nothing to change.
"""

from importlib import import_module

from alembic import op


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

# The 150,000 characters are explained in 0004.
SEARCH_DOCUMENT_FUNCTION = """
CREATE OR REPLACE FUNCTION ticket_search_document(ticket integer) RETURNS tsvector
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN (
        SELECT strip(to_tsvector('simple', left(coalesce(
            string_agg(coalesce(subject, '') || ' ' || coalesce(body, ''), ' ' ORDER BY id), ''), 150000)))
        FROM messages WHERE ticket_id = ticket
    );
END
$$
"""

STORE_FUNCTION = """
CREATE OR REPLACE FUNCTION store_ticket_search_document(ticket integer) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    -- The ticket is gone when its deletion cascades to its messages.
    INSERT INTO ticket_search_documents (ticket_id, document)
    SELECT ticket, ticket_search_document(ticket) WHERE EXISTS (SELECT FROM tickets WHERE id = ticket)
    ON CONFLICT (ticket_id) DO UPDATE SET document = excluded.document;
END
$$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(SEARCH_DOCUMENT_FUNCTION)
    op.execute(STORE_FUNCTION)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    previous = import_module("helpdesk.migrations.versions.0004_queue_search")
    for function in (previous.SEARCH_DOCUMENT_FUNCTION, previous.STORE_FUNCTION):
        op.execute(function.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1))
