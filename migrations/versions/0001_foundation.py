"""foundation: regions, schools, cameras, accounts, invites, audit

Revision 0001_foundation, written 2026-11-22.
"""
from alembic import op
from migrations.columns import (boolean, drop_tables, foreign_key, indexes, integer, json, moment, primary_key,
    string, text, unique)


revision = '0001_foundation'
down_revision = None


def upgrade():
    op.create_table('region', integer('id'), integer('parent_id', null=True), string('code', 12),
        string('name', 64), string('level', 16), string('path', 255), foreign_key('region', 'parent_id', 'region'),
        primary_key('region'), unique('region', 'code'))
    indexes('region', 'parent_id', 'path')

    op.create_table('user_account', integer('id'), string('openid', 64), string('unionid', 64, null=True),
        text('session_key', null=True), string('phone', 20, null=True), string('nickname', 64, null=True),
        boolean('is_admin'), moment('created_at'), moment('last_login_at', null=True), primary_key('user_account'),
        unique('user_account', 'openid'))
    indexes('user_account', 'unionid')

    op.create_table('wechat_access_token', string('appid', 64), text('access_token', null=True),
        moment('expires_at', null=True), primary_key('wechat_access_token', 'appid'))
    op.create_table('auth_session', integer('id'), integer('user_id'), string('token_hash', 64),
        moment('created_at'), moment('expires_at'), moment('revoked_at', null=True),
        string('client', 200, null=True), foreign_key('auth_session', 'user_id', 'user_account'),
        primary_key('auth_session'), unique('auth_session', 'token_hash'))
    indexes('auth_session', 'user_id')

    op.create_table('regulator_scope', integer('id'), integer('user_id'), integer('region_id'),
        integer('granted_by_id', null=True), moment('created_at'),
        foreign_key('regulator_scope', 'granted_by_id', 'user_account'),
        foreign_key('regulator_scope', 'region_id', 'region'),
        foreign_key('regulator_scope', 'user_id', 'user_account'), primary_key('regulator_scope'),
        unique('regulator_scope', 'user_id', 'region_id'))
    indexes('regulator_scope', 'user_id')

    op.create_table('school', integer('id'), integer('region_id'), string('name', 100), string('kind', 20),
        string('address', 200, null=True), moment('created_at'), foreign_key('school', 'region_id', 'region'),
        primary_key('school'))
    indexes('school', 'region_id')

    op.create_table('audit_log', integer('id'), moment('at'), integer('actor_id', null=True),
        integer('school_id', null=True), string('action', 64), string('target_type', 32, null=True),
        integer('target_id', null=True), json('details'), foreign_key('audit_log', 'actor_id', 'user_account'),
        foreign_key('audit_log', 'school_id', 'school'), primary_key('audit_log'))
    indexes('audit_log', 'actor_id', 'at', 'school_id')

    op.create_table('canteen', integer('id'), integer('school_id'), string('name', 100), json('meal_windows'),
        json('live_windows'), moment('created_at'), foreign_key('canteen', 'school_id', 'school'),
        primary_key('canteen'))
    indexes('canteen', 'school_id')

    op.create_table('invite', integer('id'), integer('school_id'), string('role', 16), string('scene', 32),
        string('short_code', 12), integer('created_by_id', null=True), moment('created_at'), moment('expires_at'),
        integer('max_uses'), integer('uses'), moment('revoked_at', null=True),
        foreign_key('invite', 'created_by_id', 'user_account'), foreign_key('invite', 'school_id', 'school'),
        primary_key('invite'), unique('invite', 'scene'), unique('invite', 'short_code'))
    indexes('invite', 'school_id')

    op.create_table('kitchen_area', integer('id'), integer('canteen_id'), string('name', 100), string('kind', 20),
        boolean('public'), foreign_key('kitchen_area', 'canteen_id', 'canteen'), primary_key('kitchen_area'))
    indexes('kitchen_area', 'canteen_id')

    op.create_table('membership', integer('id'), integer('user_id'), integer('school_id'), string('role', 16),
        string('status', 16), string('child_class', 64, null=True), integer('invite_id', null=True),
        moment('created_at'), moment('decided_at', null=True), integer('decided_by_id', null=True),
        foreign_key('membership', 'decided_by_id', 'user_account'),
        foreign_key('membership', 'invite_id', 'invite'), foreign_key('membership', 'school_id', 'school'),
        foreign_key('membership', 'user_id', 'user_account'), primary_key('membership'),
        unique('membership', 'user_id', 'school_id', 'role'))
    indexes('membership', 'school_id', 'user_id')

    op.create_table('camera', integer('id'), integer('area_id'), string('name', 100), string('source_kind', 20),
        text('source_url'), text('source_username', null=True), text('source_password', null=True),
        integer('sampling_interval_seconds'), json('work_hours'), json('enabled_checks'),
        json('regions_of_interest'), boolean('enabled'), moment('created_at'),
        foreign_key('camera', 'area_id', 'kitchen_area'), primary_key('camera'))
    indexes('camera', 'area_id')


def downgrade():
    drop_tables('camera', 'membership', 'kitchen_area', 'invite', 'canteen', 'audit_log', 'school',
        'regulator_scope', 'auth_session', 'wechat_access_token', 'user_account', 'region')
