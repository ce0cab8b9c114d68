"""violations

Revision 0002_violations after 0001_foundation, written 2026-11-22.
"""
from alembic import op
from migrations.columns import (drop_tables, foreign_key, indexes, integer, json, moment, primary_key, real, string,
    text, unique)


revision = '0002_violations'
down_revision = '0001_foundation'


def upgrade():
    op.create_table('violation', integer('id'), integer('school_id'), integer('canteen_id'),
        integer('camera_id', null=True), string('kind', 32), string('source', 16), string('status', 16),
        string('title', 100), text('description', null=True), json('evidence'), real('confidence', null=True),
        json('details'), string('idempotency_key', 200), moment('occurred_at'), moment('created_at'),
        moment('due_at'), integer('escalation_level'), moment('closed_at', null=True),
        integer('created_by_id', null=True), foreign_key('violation', 'camera_id', 'camera'),
        foreign_key('violation', 'canteen_id', 'canteen'),
        foreign_key('violation', 'created_by_id', 'user_account'), foreign_key('violation', 'school_id', 'school'),
        primary_key('violation'), unique('violation', 'idempotency_key'))
    with op.batch_alter_table('violation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_violation_camera_id'), ['camera_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_violation_canteen_id'), ['canteen_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_violation_created_at'), ['created_at'], unique=False)
        batch_op.create_index('ix_violation_school_status', ['school_id', 'status'], unique=False)

    op.create_table('violation_event', integer('id'), integer('violation_id'), moment('at'),
        integer('actor_id', null=True), string('action', 32), string('from_status', 16, null=True),
        string('to_status', 16), text('reason', null=True), json('details'),
        foreign_key('violation_event', 'actor_id', 'user_account'),
        foreign_key('violation_event', 'violation_id', 'violation'), primary_key('violation_event'))
    indexes('violation_event', 'violation_id')


def downgrade():
    drop_tables('violation_event', 'violation')
