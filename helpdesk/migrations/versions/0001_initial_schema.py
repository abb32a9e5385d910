"""Initial schema: tickets, messages, accounts, knowledge base and FAQ tables.

Revision ID: 0001
Revises:
Create Date: 2026-12-04 22:39:49.456414
"""

from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('erased_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('message_id_hash', sa.String(length=64), nullable=False),
    sa.Column('raw_sha256', sa.String(length=64), nullable=True),
    sa.Column('erased_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_erased_messages'))
    )
    op.create_index(op.f('ix_erased_messages_message_id_hash'), 'erased_messages', ['message_id_hash'], unique=False)
    op.create_index(op.f('ix_erased_messages_raw_sha256'), 'erased_messages', ['raw_sha256'], unique=False)
    op.create_table('kb_article_votes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=128), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('helpful', sa.Integer(), nullable=False),
    sa.Column('not_helpful', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kb_article_votes')),
    sa.UniqueConstraint('slug', 'language', 'day', name='uq_kb_article_votes_slug_language_day')
    )
    op.create_index(op.f('ix_kb_article_votes_slug'), 'kb_article_votes', ['slug'], unique=False)
    op.create_table('kb_articles',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=128), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('theme', sa.String(length=64), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('short_answer', sa.Text(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('keywords', sa.JSON(), nullable=False),
    sa.Column('sources', sa.JSON(), nullable=False),
    sa.Column('last_checked', sa.Date(), nullable=True),
    sa.Column('status', sa.Enum('draft', 'in_review', 'published', 'archived', name='article_status', native_enum=False, length=20), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kb_articles')),
    sa.UniqueConstraint('slug', 'language', name='uq_kb_articles_slug_language')
    )
    op.create_index(op.f('ix_kb_articles_slug'), 'kb_articles', ['slug'], unique=False)
    op.create_index(op.f('ix_kb_articles_status'), 'kb_articles', ['status'], unique=False)
    op.create_index(op.f('ix_kb_articles_theme'), 'kb_articles', ['theme'], unique=False)
    op.create_table('kb_mining_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('window_days', sa.Integer(), nullable=False),
    sa.Column('window_start', sa.DateTime(timezone=True), nullable=False),
    sa.Column('window_end', sa.DateTime(timezone=True), nullable=False),
    sa.Column('question_count', sa.Integer(), nullable=False),
    sa.Column('clustered_count', sa.Integer(), nullable=False),
    sa.Column('group_count', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kb_mining_runs'))
    )
    op.create_index(op.f('ix_kb_mining_runs_started_at'), 'kb_mining_runs', ['started_at'], unique=False)
    op.create_table('kb_search_misses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('query', sa.String(length=200), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kb_search_misses')),
    sa.UniqueConstraint('day', 'language', 'query', name='uq_kb_search_misses_day_language_query')
    )
    op.create_index(op.f('ix_kb_search_misses_day'), 'kb_search_misses', ['day'], unique=False)
    op.create_table('mailbox_states',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('mailbox', sa.String(length=128), nullable=False),
    sa.Column('folder', sa.String(length=255), nullable=False),
    sa.Column('uidvalidity', sa.BigInteger(), nullable=True),
    sa.Column('last_uid', sa.BigInteger(), nullable=False),
    sa.Column('last_polled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_success_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('consecutive_failures', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mailbox_states')),
    sa.UniqueConstraint('mailbox', 'folder', name='uq_mailbox_states_mailbox_folder')
    )
    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=255), nullable=False),
    sa.Column('display_name', sa.String(length=255), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('role', sa.Enum('agent', 'editor', 'admin', name='user_role', native_enum=False, length=16), nullable=False),
    sa.Column('can_reveal', sa.Boolean(), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('totp_secret', sa.String(length=64), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('failed_logins', sa.Integer(), nullable=False),
    sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_login_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('email', name=op.f('uq_users_email'))
    )
    op.create_table('audit_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('object_type', sa.String(length=64), nullable=True),
    sa.Column('object_id', sa.String(length=64), nullable=True),
    sa.Column('reason', sa.String(length=500), nullable=True),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_audit_log_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log'))
    )
    op.create_index(op.f('ix_audit_log_action'), 'audit_log', ['action'], unique=False)
    op.create_index(op.f('ix_audit_log_created_at'), 'audit_log', ['created_at'], unique=False)
    op.create_index(op.f('ix_audit_log_user_id'), 'audit_log', ['user_id'], unique=False)
    op.create_table('kb_article_images',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('article_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('content_type', sa.String(length=32), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('width', sa.Integer(), nullable=False),
    sa.Column('height', sa.Integer(), nullable=False),
    sa.Column('alt', sa.Text(), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=True),
    sa.Column('uploaded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['article_id'], ['kb_articles.id'], name=op.f('fk_kb_article_images_article_id_kb_articles'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['users.id'], name=op.f('fk_kb_article_images_uploaded_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kb_article_images'))
    )
    op.create_index(op.f('ix_kb_article_images_article_id'), 'kb_article_images', ['article_id'], unique=False)
    op.create_table('kb_article_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('article_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('theme', sa.String(length=64), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('short_answer', sa.Text(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('keywords', sa.JSON(), nullable=False),
    sa.Column('sources', sa.JSON(), nullable=False),
    sa.Column('last_checked', sa.Date(), nullable=True),
    sa.Column('saved_by_id', sa.Integer(), nullable=True),
    sa.Column('saved_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['article_id'], ['kb_articles.id'], name=op.f('fk_kb_article_versions_article_id_kb_articles'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['saved_by_id'], ['users.id'], name=op.f('fk_kb_article_versions_saved_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kb_article_versions')),
    sa.UniqueConstraint('article_id', 'version', name='uq_kb_article_versions_article_version')
    )
    op.create_index(op.f('ix_kb_article_versions_article_id'), 'kb_article_versions', ['article_id'], unique=False)
    op.create_table('kb_question_groups',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('rank', sa.Integer(), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('current_count', sa.Integer(), nullable=False),
    sa.Column('previous_count', sa.Integer(), nullable=False),
    sa.Column('priority', sa.Float(), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('theme', sa.String(length=64), nullable=False),
    sa.Column('label', sa.Text(), nullable=False),
    sa.Column('centroid_text', sa.Text(), nullable=False),
    sa.Column('examples', sa.JSON(), nullable=False),
    sa.Column('ticket_ids', sa.JSON(), nullable=False),
    sa.Column('search_queries', sa.Integer(), nullable=False),
    sa.Column('best_slug', sa.String(length=128), nullable=True),
    sa.Column('best_title', sa.Text(), nullable=False),
    sa.Column('coverage_score', sa.Float(), nullable=False),
    sa.Column('covered', sa.Boolean(), nullable=False),
    sa.Column('article_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['article_id'], ['kb_articles.id'], name=op.f('fk_kb_question_groups_article_id_kb_articles'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['run_id'], ['kb_mining_runs.id'], name=op.f('fk_kb_question_groups_run_id_kb_mining_runs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kb_question_groups'))
    )
    op.create_index(op.f('ix_kb_question_groups_covered'), 'kb_question_groups', ['covered'], unique=False)
    op.create_index(op.f('ix_kb_question_groups_run_id'), 'kb_question_groups', ['run_id'], unique=False)
    op.create_table('macros',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_macros_updated_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_macros'))
    )
    op.create_index('ix_macros_language_active', 'macros', ['language', 'active'], unique=False)
    op.create_table('tickets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('new', 'open', 'waiting', 'closed', 'quarantined', name='ticket_status', native_enum=False, length=20), nullable=False),
    sa.Column('subject', sa.Text(), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=True),
    sa.Column('theme', sa.String(length=64), nullable=True),
    sa.Column('urgent', sa.Boolean(), nullable=False),
    sa.Column('urgent_reason', sa.String(length=32), nullable=True),
    sa.Column('quarantine_reason', sa.Text(), nullable=True),
    sa.Column('mailbox', sa.String(length=128), nullable=True),
    sa.Column('sender_encrypted', sa.LargeBinary(), nullable=True),
    sa.Column('sender_hash', sa.String(length=64), nullable=True),
    sa.Column('assignee_id', sa.Integer(), nullable=True),
    sa.Column('merged_into_id', sa.Integer(), nullable=True),
    sa.Column('draft', sa.Text(), nullable=False),
    sa.Column('draft_slugs', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_message_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('first_response_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('erased_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['assignee_id'], ['users.id'], name=op.f('fk_tickets_assignee_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['merged_into_id'], ['tickets.id'], name=op.f('fk_tickets_merged_into_id_tickets'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tickets'))
    )
    op.create_index(op.f('ix_tickets_assignee_id'), 'tickets', ['assignee_id'], unique=False)
    op.create_index(op.f('ix_tickets_created_at'), 'tickets', ['created_at'], unique=False)
    op.create_index(op.f('ix_tickets_language'), 'tickets', ['language'], unique=False)
    op.create_index(op.f('ix_tickets_last_message_at'), 'tickets', ['last_message_at'], unique=False)
    op.create_index(op.f('ix_tickets_mailbox'), 'tickets', ['mailbox'], unique=False)
    op.create_index(op.f('ix_tickets_sender_hash'), 'tickets', ['sender_hash'], unique=False)
    op.create_index(op.f('ix_tickets_status'), 'tickets', ['status'], unique=False)
    op.create_index('ix_tickets_status_urgent_last', 'tickets', ['status', 'urgent', 'last_message_at'], unique=False)
    op.create_index(op.f('ix_tickets_theme'), 'tickets', ['theme'], unique=False)
    op.create_index(op.f('ix_tickets_urgent'), 'tickets', ['urgent'], unique=False)
    op.create_index('ix_tickets_urgent_last', 'tickets', [sa.literal_column('urgent DESC'), 'last_message_at'], unique=False)
    op.create_table('messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('direction', sa.Enum('inbound', 'outbound', name='message_direction', native_enum=False, length=20), nullable=False),
    sa.Column('message_id', sa.String(length=998), nullable=False),
    sa.Column('raw_sha256', sa.String(length=64), nullable=True),
    sa.Column('in_reply_to', sa.Text(), nullable=True),
    sa.Column('references', sa.Text(), nullable=True),
    sa.Column('mailbox', sa.String(length=128), nullable=True),
    sa.Column('folder', sa.String(length=255), nullable=True),
    sa.Column('uidvalidity', sa.Integer(), nullable=True),
    sa.Column('uid', sa.Integer(), nullable=True),
    sa.Column('subject', sa.Text(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('new_text', sa.Text(), nullable=False),
    sa.Column('html_sanitized', sa.Text(), nullable=True),
    sa.Column('language', sa.String(length=8), nullable=True),
    sa.Column('original_encrypted', sa.LargeBinary(), nullable=True),
    sa.Column('raw_encrypted', sa.LargeBinary(), nullable=True),
    sa.Column('raw_size', sa.Integer(), nullable=False),
    sa.Column('is_automatic', sa.Boolean(), nullable=False),
    sa.Column('automatic_reason', sa.String(length=64), nullable=True),
    sa.Column('parse_problem', sa.Text(), nullable=True),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('delivery_state', sa.Enum('queued', 'sent', 'failed', 'bounced', name='delivery_state', native_enum=False, length=20), nullable=True),
    sa.Column('delivery_error', sa.Text(), nullable=True),
    sa.Column('delivery_attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('is_acknowledgement', sa.Boolean(), nullable=False),
    sa.Column('article_slugs', sa.JSON(), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_messages_author_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_messages_ticket_id_tickets'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_messages')),
    sa.UniqueConstraint('raw_sha256', name=op.f('uq_messages_raw_sha256'))
    )
    op.create_index(op.f('ix_messages_delivery_state'), 'messages', ['delivery_state'], unique=False)
    op.create_index(op.f('ix_messages_message_id'), 'messages', ['message_id'], unique=False)
    op.create_index(op.f('ix_messages_received_at'), 'messages', ['received_at'], unique=False)
    # SQLite has no GIN full-text index; the queue searches there with LIKE.
    if op.get_bind().dialect.name == "postgresql":
        op.create_index('ix_messages_search', 'messages', [sa.literal_column("to_tsvector('simple', (coalesce(subject, '') || ' ') || coalesce(body, ''))")], unique=False, postgresql_using='gin')
    op.create_index('ix_messages_source', 'messages', ['mailbox', 'folder', 'uidvalidity', 'uid'], unique=False)
    op.create_index(op.f('ix_messages_ticket_id'), 'messages', ['ticket_id'], unique=False)
    op.create_table('notes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_notes_author_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_notes_ticket_id_tickets'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notes'))
    )
    op.create_index(op.f('ix_notes_ticket_id'), 'notes', ['ticket_id'], unique=False)
    op.create_table('ticket_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=64), nullable=False),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_ticket_events_ticket_id_tickets'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_ticket_events_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ticket_events'))
    )
    op.create_index(op.f('ix_ticket_events_ticket_id'), 'ticket_events', ['ticket_id'], unique=False)
    op.create_table('ticket_presence',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('viewed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('edited_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_ticket_presence_ticket_id_tickets'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_ticket_presence_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ticket_presence')),
    sa.UniqueConstraint('ticket_id', 'user_id', name='uq_ticket_presence_ticket_user')
    )
    op.create_index(op.f('ix_ticket_presence_ticket_id'), 'ticket_presence', ['ticket_id'], unique=False)
    op.create_table('attachments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('content_type', sa.String(length=255), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('content_id', sa.String(length=255), nullable=True),
    sa.Column('data_encrypted', sa.LargeBinary(), nullable=True),
    sa.Column('dropped_reason', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['message_id'], ['messages.id'], name=op.f('fk_attachments_message_id_messages'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attachments'))
    )
    op.create_index(op.f('ix_attachments_message_id'), 'attachments', ['message_id'], unique=False)
    op.create_table('ingest_records',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('raw_sha256', sa.String(length=64), nullable=False),
    sa.Column('message_key', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('reason', sa.String(length=120), nullable=True),
    sa.Column('ticket_id', sa.Integer(), nullable=True),
    sa.Column('message_row_id', sa.Integer(), nullable=True),
    sa.Column('mailbox', sa.String(length=128), nullable=True),
    sa.Column('folder', sa.String(length=255), nullable=True),
    sa.Column('uidvalidity', sa.BigInteger(), nullable=True),
    sa.Column('uid', sa.BigInteger(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['message_row_id'], ['messages.id'], name=op.f('fk_ingest_records_message_row_id_messages'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_ingest_records_ticket_id_tickets'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ingest_records')),
    sa.UniqueConstraint('message_key', name=op.f('uq_ingest_records_message_key')),
    sa.UniqueConstraint('raw_sha256', name=op.f('uq_ingest_records_raw_sha256'))
    )
    op.create_index('ix_ingest_records_source', 'ingest_records', ['mailbox', 'folder', 'uidvalidity', 'uid'], unique=False)
    op.create_index(op.f('ix_ingest_records_ticket_id'), 'ingest_records', ['ticket_id'], unique=False)
    op.create_table('suggestions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.Integer(), nullable=True),
    sa.Column('slug', sa.String(length=128), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('score', sa.Float(), nullable=False),
    sa.Column('rank', sa.Integer(), nullable=False),
    sa.Column('confident', sa.Boolean(), nullable=False),
    sa.Column('matched_terms', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['message_id'], ['messages.id'], name=op.f('fk_suggestions_message_id_messages'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_suggestions_ticket_id_tickets'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_suggestions'))
    )
    op.create_index(op.f('ix_suggestions_slug'), 'suggestions', ['slug'], unique=False)
    op.create_index(op.f('ix_suggestions_ticket_id'), 'suggestions', ['ticket_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_suggestions_ticket_id'), table_name='suggestions')
    op.drop_index(op.f('ix_suggestions_slug'), table_name='suggestions')
    op.drop_table('suggestions')
    op.drop_index(op.f('ix_ingest_records_ticket_id'), table_name='ingest_records')
    op.drop_index('ix_ingest_records_source', table_name='ingest_records')
    op.drop_table('ingest_records')
    op.drop_index(op.f('ix_attachments_message_id'), table_name='attachments')
    op.drop_table('attachments')
    op.drop_index(op.f('ix_ticket_presence_ticket_id'), table_name='ticket_presence')
    op.drop_table('ticket_presence')
    op.drop_index(op.f('ix_ticket_events_ticket_id'), table_name='ticket_events')
    op.drop_table('ticket_events')
    op.drop_index(op.f('ix_notes_ticket_id'), table_name='notes')
    op.drop_table('notes')
    op.drop_index(op.f('ix_messages_ticket_id'), table_name='messages')
    op.drop_index('ix_messages_source', table_name='messages')
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index('ix_messages_search', table_name='messages', postgresql_using='gin')
    op.drop_index(op.f('ix_messages_received_at'), table_name='messages')
    op.drop_index(op.f('ix_messages_message_id'), table_name='messages')
    op.drop_index(op.f('ix_messages_delivery_state'), table_name='messages')
    op.drop_table('messages')
    op.drop_index('ix_tickets_urgent_last', table_name='tickets')
    op.drop_index(op.f('ix_tickets_urgent'), table_name='tickets')
    op.drop_index(op.f('ix_tickets_theme'), table_name='tickets')
    op.drop_index('ix_tickets_status_urgent_last', table_name='tickets')
    op.drop_index(op.f('ix_tickets_status'), table_name='tickets')
    op.drop_index(op.f('ix_tickets_sender_hash'), table_name='tickets')
    op.drop_index(op.f('ix_tickets_mailbox'), table_name='tickets')
    op.drop_index(op.f('ix_tickets_last_message_at'), table_name='tickets')
    op.drop_index(op.f('ix_tickets_language'), table_name='tickets')
    op.drop_index(op.f('ix_tickets_created_at'), table_name='tickets')
    op.drop_index(op.f('ix_tickets_assignee_id'), table_name='tickets')
    op.drop_table('tickets')
    op.drop_index('ix_macros_language_active', table_name='macros')
    op.drop_table('macros')
    op.drop_index(op.f('ix_kb_question_groups_run_id'), table_name='kb_question_groups')
    op.drop_index(op.f('ix_kb_question_groups_covered'), table_name='kb_question_groups')
    op.drop_table('kb_question_groups')
    op.drop_index(op.f('ix_kb_article_versions_article_id'), table_name='kb_article_versions')
    op.drop_table('kb_article_versions')
    op.drop_index(op.f('ix_kb_article_images_article_id'), table_name='kb_article_images')
    op.drop_table('kb_article_images')
    op.drop_index(op.f('ix_audit_log_user_id'), table_name='audit_log')
    op.drop_index(op.f('ix_audit_log_created_at'), table_name='audit_log')
    op.drop_index(op.f('ix_audit_log_action'), table_name='audit_log')
    op.drop_table('audit_log')
    op.drop_table('users')
    op.drop_table('mailbox_states')
    op.drop_index(op.f('ix_kb_search_misses_day'), table_name='kb_search_misses')
    op.drop_table('kb_search_misses')
    op.drop_index(op.f('ix_kb_mining_runs_started_at'), table_name='kb_mining_runs')
    op.drop_table('kb_mining_runs')
    op.drop_index(op.f('ix_kb_articles_theme'), table_name='kb_articles')
    op.drop_index(op.f('ix_kb_articles_status'), table_name='kb_articles')
    op.drop_index(op.f('ix_kb_articles_slug'), table_name='kb_articles')
    op.drop_table('kb_articles')
    op.drop_index(op.f('ix_kb_article_votes_slug'), table_name='kb_article_votes')
    op.drop_table('kb_article_votes')
    op.drop_index(op.f('ix_erased_messages_raw_sha256'), table_name='erased_messages')
    op.drop_index(op.f('ix_erased_messages_message_id_hash'), table_name='erased_messages')
    op.drop_table('erased_messages')
