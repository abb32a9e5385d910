"""Account security: encrypted TOTP secrets, a pending secret, replay guard and session version.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-04 23:35:00

Existing TOTP secrets stay as they are: the migration has no access to
HELPDESK_ENCRYPTION_KEY, so the application encrypts each one the next time
it reads it.
"""

from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.alter_column('totp_secret', existing_type=sa.String(length=64), type_=sa.String(length=255), existing_nullable=True)
        batch_op.add_column(sa.Column('totp_pending_secret', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('totp_last_timecode', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('session_version', sa.Integer(), server_default='0', nullable=False))


def downgrade() -> None:
    # Encrypted secrets do not fit the old column: accounts set up TOTP again.
    op.execute(sa.text("UPDATE users SET totp_secret = NULL WHERE length(totp_secret) > 64"))
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('session_version')
        batch_op.drop_column('totp_last_timecode')
        batch_op.drop_column('totp_pending_secret')
        batch_op.alter_column('totp_secret', existing_type=sa.String(length=255), type_=sa.String(length=64), existing_nullable=True)
