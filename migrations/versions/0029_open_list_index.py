"""open list index: a period's violations not closed yet, so the 在整改 and 逾期 lists count a province's fast

Revision 0029_open_list_index after 0028_recording_clips, written 2026-12-06 14:05:00.
"""
from alembic import op
import sqlalchemy as sa

revision = '0029_open_list_index'
down_revision = '0028_recording_clips'

NOT_CLOSED = sa.text("status <> 'closed'")
# The columns the lists' filters read besides the period (PostgreSQL answers their totals from the index alone).
OPEN_COVERED = ['school_id', 'kind', 'source', 'status', 'due_at', 'escalation_level']


def upgrade():
    op.create_index('ix_violation_open_created', 'violation', ['created_at'], postgresql_include=OPEN_COVERED,
                    postgresql_where=NOT_CLOSED, sqlite_where=NOT_CLOSED)


def downgrade():
    op.drop_index('ix_violation_open_created', table_name='violation')
