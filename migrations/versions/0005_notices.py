"""violations lifecycle, notices, regulators

Rectifications, the resolution and escalation time of violations; notices (outbox + inbox), send attempts,
subscription quotas and grants, school notice settings, WeChat push events and media checks; spot checks,
inspection rounds (inspectors, targets, findings) and supervision orders.

Revision 0005_notices after 0004_workers, written 2026-11-22.
"""
from alembic import op
import sqlalchemy as sa
from migrations.columns import (boolean, drop_tables, foreign_key, indexes, integer, json, moment, primary_key,
    string, text, unique)


revision = '0005_notices'
down_revision = '0004_workers'


def upgrade():
    op.create_table('wechat_push_event', integer('id'), string('dedupe_key', 64), string('event', 64),
        string('openid', 64, null=True), moment('received_at'), json('payload'), primary_key('wechat_push_event'),
        unique('wechat_push_event', 'dedupe_key'))
    op.create_table('spot_check', integer('id'), integer('region_id'), string('seed', 64), integer('sample_size'),
        string('school_kind', 20, null=True), json('population_ids'), json('canteen_ids'),
        string('note', 200, null=True), integer('created_by_id'), moment('created_at'),
        foreign_key('spot_check', 'created_by_id', 'user_account'),
        foreign_key('spot_check', 'region_id', 'region'), primary_key('spot_check'))
    indexes('spot_check', 'region_id')

    op.create_table('subscription_grant', integer('id'), integer('user_id'), string('template_id', 64),
        string('source', 16), moment('at'), boolean('matched'),
        foreign_key('subscription_grant', 'user_id', 'user_account'), primary_key('subscription_grant'))
    with op.batch_alter_table('subscription_grant', schema=None) as batch_op:
        batch_op.create_index('ix_subscription_grant_match', ['user_id', 'template_id', 'source', 'matched'], unique=False)

    op.create_table('subscription_quota', integer('id'), integer('user_id'), string('template_id', 64),
        integer('remaining'), integer('accepted_total'), integer('used_total'),
        string('last_choice', 16, null=True), moment('updated_at'),
        foreign_key('subscription_quota', 'user_id', 'user_account'), primary_key('subscription_quota'),
        unique('subscription_quota', 'user_id', 'template_id'))
    indexes('subscription_quota', 'user_id')

    op.create_table('inspection_round', integer('id'), integer('region_id'), integer('spot_check_id', null=True),
        string('title', 100), moment('planned_at'), string('status', 16), text('summary', null=True),
        integer('created_by_id'), moment('created_at'), moment('completed_at', null=True),
        foreign_key('inspection_round', 'created_by_id', 'user_account'),
        foreign_key('inspection_round', 'region_id', 'region'),
        foreign_key('inspection_round', 'spot_check_id', 'spot_check'), primary_key('inspection_round'))
    indexes('inspection_round', 'region_id')

    op.create_table('media_check', integer('id'), string('trace_id', 64, null=True), string('object_key', 300),
        integer('school_id', null=True), integer('user_id'), string('status', 16), integer('label', null=True),
        moment('requested_at'), moment('decided_at', null=True), text('errmsg', null=True),
        foreign_key('media_check', 'school_id', 'school'), foreign_key('media_check', 'user_id', 'user_account'),
        primary_key('media_check'), unique('media_check', 'trace_id'))
    indexes('media_check', 'object_key')

    op.create_table('notice', integer('id'), integer('user_id'), integer('school_id', null=True),
        string('subject_type', 24), integer('subject_id'), string('purpose', 32), string('template', 32),
        string('title', 100), text('body'), json('payload'), string('page', 200, null=True),
        string('idempotency_key', 200), moment('created_at'), moment('read_at', null=True), string('status', 16),
        integer('attempts'), integer('attempt_budget'), moment('next_attempt_at'),
        string('claim_token', 32, null=True), moment('claimed_until', null=True), moment('sent_at', null=True),
        string('msgid', 32, null=True), string('last_error', 200, null=True),
        string('delivery_report', 100, null=True), foreign_key('notice', 'school_id', 'school'),
        foreign_key('notice', 'user_id', 'user_account'), primary_key('notice'), unique('notice', 'idempotency_key'))
    with op.batch_alter_table('notice', schema=None) as batch_op:
        batch_op.create_index('ix_notice_due', ['status', 'next_attempt_at'], unique=False)
        batch_op.create_index('ix_notice_inbox', ['user_id', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_notice_msgid'), ['msgid'], unique=False)
        batch_op.create_index('ix_notice_subject', ['subject_type', 'subject_id'], unique=False)

    op.create_table('school_notice_settings', integer('school_id'), json('published_kinds'), moment('updated_at'),
        integer('updated_by_id', null=True), foreign_key('school_notice_settings', 'school_id', 'school'),
        foreign_key('school_notice_settings', 'updated_by_id', 'user_account'),
        primary_key('school_notice_settings', 'school_id'))
    op.create_table('supervision_order', integer('id'), integer('school_id'), string('title', 100), text('content'),
        json('violation_ids'), moment('due_at'), string('status', 16), integer('issued_by_id'), moment('issued_at'),
        text('response', null=True), integer('responded_by_id', null=True), moment('responded_at', null=True),
        integer('closed_by_id', null=True), moment('closed_at', null=True), text('close_reason', null=True),
        foreign_key('supervision_order', 'closed_by_id', 'user_account'),
        foreign_key('supervision_order', 'issued_by_id', 'user_account'),
        foreign_key('supervision_order', 'responded_by_id', 'user_account'),
        foreign_key('supervision_order', 'school_id', 'school'), primary_key('supervision_order'))
    indexes('supervision_order', 'school_id')

    op.create_table('inspection_inspector', integer('id'), integer('round_id'), integer('user_id'), boolean('lead'),
        foreign_key('inspection_inspector', 'round_id', 'inspection_round'),
        foreign_key('inspection_inspector', 'user_id', 'user_account'), primary_key('inspection_inspector'),
        unique('inspection_inspector', 'round_id', 'user_id'))
    indexes('inspection_inspector', 'round_id')

    op.create_table('inspection_target', integer('id'), integer('round_id'), integer('canteen_id'),
        string('result', 16, null=True), moment('visited_at', null=True),
        foreign_key('inspection_target', 'canteen_id', 'canteen'),
        foreign_key('inspection_target', 'round_id', 'inspection_round'), primary_key('inspection_target'),
        unique('inspection_target', 'round_id', 'canteen_id'))
    indexes('inspection_target', 'round_id')

    op.create_table('notice_attempt', integer('id'), integer('notice_id'), integer('number'), moment('claimed_at'),
        moment('started_at', null=True), moment('finished_at', null=True), string('outcome', 16),
        integer('errcode', null=True), string('errmsg', 200, null=True), integer('duration_ms', null=True),
        string('dispatcher', 64, null=True), foreign_key('notice_attempt', 'notice_id', 'notice'),
        primary_key('notice_attempt'))
    indexes('notice_attempt', 'notice_id')

    op.create_table('inspection_finding', integer('id'), integer('round_id'), integer('canteen_id'),
        integer('inspector_id'), string('kind', 32), string('severity', 16), text('description'), json('photos'),
        integer('violation_id', null=True), moment('created_at'),
        foreign_key('inspection_finding', 'canteen_id', 'canteen'),
        foreign_key('inspection_finding', 'inspector_id', 'user_account'),
        foreign_key('inspection_finding', 'round_id', 'inspection_round'),
        foreign_key('inspection_finding', 'violation_id', 'violation'), primary_key('inspection_finding'))
    indexes('inspection_finding', 'round_id')

    op.create_table('rectification', integer('id'), integer('violation_id'), text('measures'), json('photos'),
        integer('submitted_by_id'), moment('submitted_at'), integer('reviewed_by_id', null=True),
        moment('reviewed_at', null=True), string('verdict', 16, null=True), text('review_reason', null=True),
        foreign_key('rectification', 'reviewed_by_id', 'user_account'),
        foreign_key('rectification', 'submitted_by_id', 'user_account'),
        foreign_key('rectification', 'violation_id', 'violation'), primary_key('rectification'))
    indexes('rectification', 'violation_id')

    with op.batch_alter_table('violation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('resolution', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('escalated_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index('ix_violation_status_due', ['status', 'due_at'], unique=False)


def downgrade():
    drop_tables('rectification', 'inspection_finding', 'notice_attempt', 'inspection_target',
        'inspection_inspector', 'supervision_order', 'school_notice_settings', 'notice', 'media_check',
        'inspection_round', 'subscription_quota', 'subscription_grant', 'spot_check', 'wechat_push_event')
    # Last: the tables above reference violation, and SQLite rebuilds it to drop columns.
    with op.batch_alter_table('violation', schema=None) as batch_op:
        batch_op.drop_index('ix_violation_status_due')
        batch_op.drop_column('escalated_at')
        batch_op.drop_column('resolution')
