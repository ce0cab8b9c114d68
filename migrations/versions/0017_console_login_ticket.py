"""console login ticket: scan the web console's mini-program code to log in to the console

Revision 0017_console_login_ticket after 0011_notice_possible_duplicates, written 2026-12-06.
"""
import sqlalchemy as sa
from alembic import op
from migrations.columns import moment, string


revision = '0017_console_login_ticket'
down_revision = '0011_notice_possible_duplicates'


def upgrade():
    op.create_table('console_login_ticket', sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('scene', sa.String(length=32), nullable=False, unique=True), string('browser_hash', 64),
        string('status', 16), sa.Column('user_id', sa.Integer(), sa.ForeignKey('user_account.id'), nullable=True),
        moment('created_at'), moment('expires_at'), moment('confirmed_at', null=True),
        moment('consumed_at', null=True))


def downgrade():
    op.drop_table('console_login_ticket')
