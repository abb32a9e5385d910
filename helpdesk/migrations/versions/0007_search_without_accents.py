"""Queue search without accents: search documents hold accent-folded words.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05 15:00:00

The search document of a ticket is built from its text with the accented
letters replaced by their plain letter (helpdesk.accents), and the queue
folds the words that staff type the same way, so "depistage" finds
"dépistage". Every existing document is rebuilt, which reads all messages
once. On SQLite the queue folds with a function registered on each
connection, so there is nothing to change.
"""

from importlib import import_module

from alembic import op


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

# The same strings as helpdesk.accents.ACCENTED and PLAIN, written out so
# that this migration does not change when that module does.
ACCENTED = "àáâãäåçèéêëìíîïñòóôõöùúûüýÿÀÁÂÃÄÅÇÈÉÊËÌÍÎÏÑÒÓÔÕÖÙÚÛÜÝŸİ\u212b"
PLAIN = "aaaaaaceeeeiiiinooooouuuuyyAAAAAACEEEEIIIINOOOOOUUUUYYIA"

# translate() replaces characters one for one, so the 150,000 characters of
# 0004 stay the limit. It compares every character with each letter of the
# table, which doubled the function's time in an ingest benchmark, so text
# without any multibyte character (plain ASCII, where the byte and character
# counts are equal) skips it.
SEARCH_DOCUMENT_FUNCTION = f"""
CREATE OR REPLACE FUNCTION ticket_search_document(ticket integer) RETURNS tsvector
LANGUAGE plpgsql STABLE AS $$
DECLARE
    joined text;
BEGIN
    SELECT left(coalesce(string_agg(coalesce(subject, '') || ' ' || coalesce(body, ''), ' ' ORDER BY id), ''), 150000)
    INTO joined FROM messages WHERE ticket_id = ticket;
    IF octet_length(joined) <> char_length(joined) THEN
        joined := translate(joined, '{ACCENTED}', '{PLAIN}');
    END IF;
    RETURN strip(to_tsvector('simple', joined));
END
$$
"""

REBUILD = "UPDATE ticket_search_documents SET document = ticket_search_document(ticket_id)"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(SEARCH_DOCUMENT_FUNCTION)
    op.execute(REBUILD)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    previous = import_module("helpdesk.migrations.versions.0006_search_document_plpgsql")
    op.execute(previous.SEARCH_DOCUMENT_FUNCTION)
    op.execute(REBUILD)
