"""notice possible duplicates: count the sends that may have shown a recipient a message twice

The dispatcher no longer sends a notice again after an attempt whose answer was lost (see
backend/notices/dispatcher.py); the one resend left that may duplicate (after a crash, with more than one
subscription left) is counted on the notice so admins see it. The new notice status ``unconfirmed`` and the
attempt outcome ``unknown`` fit the existing string columns and need no change.

Revision 0011_notice_possible_duplicates after 0008_live_open_fast_path, written 2026-12-06.
"""
import sqlalchemy as sa
from alembic import op


revision = '0011_notice_possible_duplicates'
down_revision = '0009_school_classes'


def upgrade():
    # A constant default: PostgreSQL adds it without rewriting the table, SQLite without copying it.
    op.add_column('notice', sa.Column('possible_duplicates', sa.Integer(), nullable=False, server_default='0'))


def downgrade():
    with op.batch_alter_table('notice') as batch_op:
        batch_op.drop_column('possible_duplicates')
