"""Mailbox reply address: the From address and display name of each mailbox's replies.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05 00:30:00

A route may now exist without a team, so that a mailbox that no team
handles can still have its own reply address. On SQLite the batch
operation copies the small mailbox_routes table to make team_id nullable.
The downgrade deletes the routes without a team, because the old schema
cannot store them.
"""

from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('mailbox_routes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reply_address', sa.String(length=254), nullable=True))
        batch_op.add_column(sa.Column('reply_name', sa.String(length=100), nullable=True))
        batch_op.alter_column('team_id', existing_type=sa.Integer(), nullable=True)


def downgrade() -> None:
    op.execute("DELETE FROM mailbox_routes WHERE team_id IS NULL")
    with op.batch_alter_table('mailbox_routes', schema=None) as batch_op:
        batch_op.alter_column('team_id', existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column('reply_name')
        batch_op.drop_column('reply_address')
