"""notice log retention: indexes on the age of push events and send attempts

The retention job (backend/notices/retention.py) deletes ``wechat_push_event`` rows by ``received_at`` and
``notice_attempt`` rows by ``claimed_at`` in small batches; without these indexes every batch would scan the
whole table. Both tables may already be large when this runs, so on PostgreSQL the indexes are built
CONCURRENTLY (outside the migration's transaction), without blocking the dispatcher's and the push
endpoint's writes.

Revision 0007_notice_log_retention after 0006_live, written 2026-11-23.
"""
from alembic import op


revision = '0007_notice_log_retention'
down_revision = '0006_live'

INDEXES = (
    ('ix_wechat_push_event_received_at', 'wechat_push_event', ['received_at']),
    ('ix_notice_attempt_claimed_at', 'notice_attempt', ['claimed_at']),
)


def _postgresql():
    return op.get_bind().dialect.name == 'postgresql'


def upgrade():
    if _postgresql():
        # A CONCURRENTLY build that failed leaves an invalid index behind: IF NOT EXISTS would keep it, so
        # drop it first (a no-op otherwise).
        with op.get_context().autocommit_block():
            for name, table, columns in INDEXES:
                op.drop_index(name, table_name=table, postgresql_concurrently=True, if_exists=True)
                op.create_index(name, table, columns, unique=False, postgresql_concurrently=True)
        return
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns, unique=False)


def downgrade():
    if _postgresql():
        with op.get_context().autocommit_block():
            for name, table, _ in reversed(INDEXES):
                op.drop_index(name, table_name=table, postgresql_concurrently=True, if_exists=True)
        return
    for name, table, _ in reversed(INDEXES):
        op.drop_index(name, table_name=table)
