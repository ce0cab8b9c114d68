"""risk warnings: each region's early-warning limits and the early warnings (预警) the nightly job raises

Revision 0035_risk_warnings after 0034_sealing, written 2026-12-06 16:45:00.
"""
from alembic import op
import sqlalchemy as sa

from migrations.columns import drop_tables, foreign_key, integer, json, moment, primary_key, string, text, unique

revision = '0035_risk_warnings'
down_revision = '0034_sealing'

OPEN = sa.text('resolved_at IS NULL')


def upgrade():
    op.create_table('risk_warning_setting', integer('id'), integer('region_id'), string('name', 32),
                    integer('value'), integer('updated_by_id', null=True), moment('updated_at'),
                    foreign_key('risk_warning_setting', 'region_id', 'region'),
                    foreign_key('risk_warning_setting', 'updated_by_id', 'user_account'),
                    primary_key('risk_warning_setting'), unique('risk_warning_setting', 'region_id', 'name'))
    op.create_table('risk_warning', integer('id'), string('key', 200), string('kind', 32), string('fact', 120),
                    integer('school_id'), integer('canteen_id', null=True), text('reason'), json('data'),
                    moment('raised_at'), moment('seen_at'), moment('resolved_at', null=True),
                    moment('acknowledged_at', null=True), integer('acknowledged_by_id', null=True),
                    text('ack_note', null=True),
                    foreign_key('risk_warning', 'school_id', 'school'),
                    foreign_key('risk_warning', 'canteen_id', 'canteen'),
                    foreign_key('risk_warning', 'acknowledged_by_id', 'user_account'),
                    primary_key('risk_warning'), unique('risk_warning', 'key'))
    op.create_index('ix_risk_warning_school_raised', 'risk_warning', ['school_id', 'raised_at'])
    op.create_index('ix_risk_warning_open', 'risk_warning', ['kind', 'fact'], postgresql_where=OPEN,
                    sqlite_where=OPEN)


def downgrade():
    drop_tables('risk_warning', 'risk_warning_setting')
