"""Teams: teams, their members, routes from mailboxes to teams and the ticket's team.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04 23:45:00

On SQLite the batch operation copies the tickets table. That is safe only
because env.py turns foreign keys off during migrations, and the copy loses
the descending column of the queue-order index, which is created again.
"""

from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('teams',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_teams')),
    sa.UniqueConstraint('name', name=op.f('uq_teams_name'))
    )
    op.create_table('team_members',
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_team_members_team_id_teams'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_team_members_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('team_id', 'user_id', name=op.f('pk_team_members'))
    )
    op.create_index(op.f('ix_team_members_user_id'), 'team_members', ['user_id'], unique=False)
    op.create_table('mailbox_routes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('mailbox', sa.String(length=128), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_mailbox_routes_team_id_teams'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mailbox_routes')),
    sa.UniqueConstraint('mailbox', name=op.f('uq_mailbox_routes_mailbox'))
    )
    op.create_index(op.f('ix_mailbox_routes_team_id'), 'mailbox_routes', ['team_id'], unique=False)

    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('team_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_tickets_team_id'), ['team_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_tickets_team_id_teams'), 'teams', ['team_id'], ['id'], ondelete='SET NULL')
    _restore_sort_order()


def downgrade() -> None:
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_tickets_team_id_teams'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_tickets_team_id'))
        batch_op.drop_column('team_id')
    _restore_sort_order()
    op.drop_index(op.f('ix_mailbox_routes_team_id'), table_name='mailbox_routes')
    op.drop_table('mailbox_routes')
    op.drop_index(op.f('ix_team_members_user_id'), table_name='team_members')
    op.drop_table('team_members')
    op.drop_table('teams')


def _restore_sort_order() -> None:
    """Create the queue-order index again with `urgent DESC`, which the SQLite table copy loses."""
    if op.get_bind().dialect.name != 'sqlite':
        return
    op.drop_index('ix_tickets_urgent_last', table_name='tickets')
    op.create_index('ix_tickets_urgent_last', 'tickets', [sa.literal_column('urgent DESC'), 'last_message_at'], unique=False)
