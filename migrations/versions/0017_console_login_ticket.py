"""console login ticket: scan the web console's mini-program code to log in to the console

Revision ID: 0017_console_login_ticket
Revises: 0011_notice_possible_duplicates
Create Date: 2026-12-06 09:00:00.000000

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0017_console_login_ticket'
down_revision = '0011_notice_possible_duplicates'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'console_login_ticket',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('scene', sa.String(length=32), nullable=False, unique=True),
        sa.Column('browser_hash', sa.String(length=64), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('user_id', sa.Integer(), sa.ForeignKey('user_account.id'), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('confirmed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('consumed_at', sa.DateTime(timezone=True), nullable=True),
    )


def downgrade():
    op.drop_table('console_login_ticket')
