"""workers: camera monitor state, camera health changes, scheduler lease, job runs

Revision 0004_workers after 0003_records, written 2026-11-22.
"""
from alembic import op
from migrations.columns import (bigint, drop_tables, foreign_key, integer, json, moment, primary_key, string, text,
    unique)


revision = '0004_workers'
down_revision = '0003_records'


def upgrade():
    op.create_table('job_run', integer('id'), string('job_name', 64), moment('scheduled_for'),
        string('claimed_by', 128), string('status', 16), moment('started_at'), moment('finished_at', null=True),
        json('result'), text('error', null=True), primary_key('job_run'),
        unique('job_run', 'job_name', 'scheduled_for'))
    with op.batch_alter_table('job_run', schema=None) as batch_op:
        batch_op.create_index('ix_job_run_job_name_started_at', ['job_name', 'started_at'], unique=False)

    op.create_table('scheduler_lease', string('name', 64), string('holder', 128), moment('expires_at'),
        moment('acquired_at'), primary_key('scheduler_lease', 'name'))
    op.create_table('camera_health_event', integer('id'), integer('camera_id'), moment('at'),
        string('from_status', 16), string('to_status', 16), json('problems'), json('metrics'),
        foreign_key('camera_health_event', 'camera_id', 'camera', ondelete='CASCADE'),
        primary_key('camera_health_event'))
    with op.batch_alter_table('camera_health_event', schema=None) as batch_op:
        batch_op.create_index('ix_camera_health_event_camera_at', ['camera_id', 'at'], unique=False)

    op.create_table('camera_monitor', integer('camera_id'), json('tuning'), json('engine_state'),
        json('rule_state'), string('health_status', 16), moment('health_since', null=True),
        bigint('last_done_slot'), bigint('last_enqueued_slot'), moment('last_enqueued_at', null=True),
        moment('last_sample_at', null=True), json('last_result'), integer('version'), moment('updated_at'),
        foreign_key('camera_monitor', 'camera_id', 'camera', ondelete='CASCADE'),
        primary_key('camera_monitor', 'camera_id'))


def downgrade():
    drop_tables('camera_monitor', 'camera_health_event', 'scheduler_lease', 'job_run')
