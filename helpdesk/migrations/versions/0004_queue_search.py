"""Queue search: one full-text document per ticket instead of an index per message.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-05 00:00:00

On PostgreSQL a trigger on messages keeps one row per ticket in
ticket_search_documents up to date: the stripped tsvector (lexemes without
positions) of the redacted subjects and texts of all the ticket's messages.
A plan that walks the queue order then reads one stored vector per ticket
instead of running to_tsvector() on each message. The vectors live in their
own table because in tickets they made the rows three times wider, which
slowed every queue page that reads many rows (page 1,000 of a sort took
twice as long). The per-message expression index of the old search is
dropped.

On SQLite the table stays empty, because the queue searches there with LIKE.
"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

# to_tsvector() raises an error for a vector over 1 MB, which would make
# storing the message fail, so only the first 150,000 characters of a ticket
# are indexed. Each distinct word needs its characters plus a separator in
# the text and takes at most 4 bytes per character, 4 bytes of header and 2
# per occurrence in the vector, so 150,000 characters stay under 1 MB.
# NOTE: search does not find text after the first 150,000 characters.
SEARCH_DOCUMENT_FUNCTION = """
CREATE FUNCTION ticket_search_document(ticket integer) RETURNS tsvector
LANGUAGE sql STABLE AS $$
    SELECT strip(to_tsvector('simple', left(coalesce(
        string_agg(coalesce(subject, '') || ' ' || coalesce(body, ''), ' ' ORDER BY id), ''), 150000)))
    FROM messages WHERE ticket_id = ticket
$$
"""

STORE_FUNCTION = """
CREATE FUNCTION store_ticket_search_document(ticket integer) RETURNS void
LANGUAGE sql AS $$
    -- The ticket is gone when its deletion cascades to its messages.
    INSERT INTO ticket_search_documents (ticket_id, document)
    SELECT ticket, ticket_search_document(ticket) WHERE EXISTS (SELECT FROM tickets WHERE id = ticket)
    ON CONFLICT (ticket_id) DO UPDATE SET document = excluded.document
$$
"""

REFRESH_FUNCTION = """
CREATE FUNCTION refresh_ticket_search_document() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        PERFORM store_ticket_search_document(OLD.ticket_id);
    END IF;
    IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND NEW.ticket_id <> OLD.ticket_id) THEN
        PERFORM store_ticket_search_document(NEW.ticket_id);
    END IF;
    RETURN NULL;
END
$$
"""

# Only changes to the searched text or to the ticket of a message (a merge)
# refresh the document. Delivery updates on outbound messages do not.
TRIGGER = """
CREATE TRIGGER messages_refresh_search_document
AFTER INSERT OR DELETE OR UPDATE OF subject, body, ticket_id ON messages
FOR EACH ROW EXECUTE FUNCTION refresh_ticket_search_document()
"""

OLD_MESSAGE_INDEX = "to_tsvector('simple', (coalesce(subject, '') || ' ') || coalesce(body, ''))"


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    op.create_table('ticket_search_documents',
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('document', postgresql.TSVECTOR() if postgres else sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_ticket_search_documents_ticket_id_tickets'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('ticket_id', name=op.f('pk_ticket_search_documents'))
    )
    if not postgres:
        # Alembic compares indexes on both backends, so SQLite gets the same
        # index on a table that stays empty there.
        op.create_index('ix_ticket_search_documents_document', 'ticket_search_documents', ['document'], unique=False)
        return

    op.execute(SEARCH_DOCUMENT_FUNCTION)
    op.execute(STORE_FUNCTION)
    op.execute(REFRESH_FUNCTION)
    op.execute(TRIGGER)
    op.execute(
        "INSERT INTO ticket_search_documents (ticket_id, document) "
        "SELECT id, ticket_search_document(id) FROM tickets WHERE EXISTS (SELECT FROM messages WHERE ticket_id = tickets.id)"
    )
    op.create_index('ix_ticket_search_documents_document', 'ticket_search_documents', ['document'], unique=False, postgresql_using='gin')
    op.drop_index('ix_messages_search', table_name='messages', postgresql_using='gin')


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
        op.create_index('ix_messages_search', 'messages', [sa.literal_column(OLD_MESSAGE_INDEX)], unique=False, postgresql_using='gin')
        op.execute("DROP TRIGGER messages_refresh_search_document ON messages")
        op.execute("DROP FUNCTION refresh_ticket_search_document()")
        op.execute("DROP FUNCTION store_ticket_search_document(integer)")
        op.execute("DROP FUNCTION ticket_search_document(integer)")
    op.drop_index('ix_ticket_search_documents_document', table_name='ticket_search_documents', postgresql_using='gin')
    op.drop_table('ticket_search_documents')
