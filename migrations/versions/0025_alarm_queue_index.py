"""alarm queue index: the open AI alarms newest first, so a region's pending queue reads a few index rows

Revision 0025_alarm_queue_index after 0024_stats_version, written 2026-12-06 12:08:00.
"""
from alembic import op
import sqlalchemy as sa

revision = '0025_alarm_queue_index'
down_revision = '0024_stats_version'

OPEN_ALARM = sa.text("source = 'ai' AND status <> 'closed'")


def upgrade():
    op.create_index('ix_violation_open_alarm', 'violation', ['id'], postgresql_include=['school_id', 'kind'],
                    postgresql_where=OPEN_ALARM, sqlite_where=OPEN_ALARM)


def downgrade():
    op.drop_index('ix_violation_open_alarm', table_name='violation')
