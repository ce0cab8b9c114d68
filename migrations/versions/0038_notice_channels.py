"""notice channels: each person's channels and quiet hours, WeCom group robots, SMS and robot deliveries

Revision 0038_notice_channels after 0037_parent_meals, written 2026-12-06 16:30:00.
"""
from alembic import op

from migrations.columns import (boolean, drop_tables, foreign_key, indexes, integer, json, moment, primary_key, string,
                                text, unique)

revision = '0038_notice_channels'
down_revision = '0037_parent_meals'


def upgrade():
    op.create_table('notice_channel_setting', integer('user_id'), boolean('wechat'), boolean('sms'),
        string('phone', 20, null=True), json('sms_classes'), string('quiet_start', 5, null=True), string('quiet_end', 5, null=True),
        moment('updated_at'), foreign_key('notice_channel_setting', 'user_id', 'user_account'),
        primary_key('notice_channel_setting', 'user_id'))

    op.create_table('notice_robot', integer('id'), integer('school_id', null=True), integer('region_id', null=True),
        string('name', 50), text('webhook_key'), string('key_hint', 8), json('classes'), boolean('enabled'),
        moment('created_at'), moment('updated_at'), integer('updated_by_id', null=True),
        foreign_key('notice_robot', 'region_id', 'region'), foreign_key('notice_robot', 'school_id', 'school'),
        foreign_key('notice_robot', 'updated_by_id', 'user_account'), primary_key('notice_robot'))
    indexes('notice_robot', 'region_id', 'school_id')

    op.create_table('channel_delivery', integer('id'), string('channel', 8), integer('notice_id', null=True),
        integer('robot_id', null=True), integer('user_id', null=True), string('phone', 20, null=True),
        integer('school_id', null=True), string('subject_type', 24), integer('subject_id'),
        integer('risk_class', null=True), json('content'), string('idempotency_key', 200), moment('created_at'),
        string('status', 16), integer('attempts'), integer('attempt_budget'), moment('next_attempt_at'),
        string('claim_token', 32, null=True), moment('claimed_until', null=True), moment('sent_at', null=True),
        string('external_id', 64, null=True), string('last_error', 200, null=True), integer('possible_duplicates'),
        foreign_key('channel_delivery', 'notice_id', 'notice'),
        foreign_key('channel_delivery', 'robot_id', 'notice_robot'),
        foreign_key('channel_delivery', 'school_id', 'school'),
        foreign_key('channel_delivery', 'user_id', 'user_account'),
        primary_key('channel_delivery'), unique('channel_delivery', 'idempotency_key'))
    op.create_index('ix_channel_delivery_due', 'channel_delivery', ['status', 'next_attempt_at'])
    indexes('channel_delivery', 'notice_id', 'robot_id')

    op.create_table('channel_attempt', integer('id'), integer('delivery_id'), integer('number'), moment('claimed_at'),
        moment('started_at', null=True), moment('finished_at', null=True), string('outcome', 16), string('code', 64, null=True),
        string('message', 200, null=True), string('dispatcher', 64, null=True),
        foreign_key('channel_attempt', 'delivery_id', 'channel_delivery'), primary_key('channel_attempt'))
    indexes('channel_attempt', 'claimed_at', 'delivery_id')


def downgrade():
    drop_tables('channel_attempt', 'channel_delivery', 'notice_robot', 'notice_channel_setting')
