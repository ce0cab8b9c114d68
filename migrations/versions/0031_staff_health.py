"""staff health: the canteen's staff register, health certificates and daily morning checks (晨检)

Revision 0031_staff_health after 0030_risk, written 2026-12-06 14:00:00.
"""
from alembic import op
from migrations.columns import (boolean, date, drop_tables, foreign_key, indexes, integer, moment, primary_key, real,
                                string, text, unique)

revision = '0031_staff_health'
down_revision = '0030_risk'


def upgrade():
    op.create_table('record_staff', integer('entry_id'), string('name', 50), string('post', 50),
        string('phone', 20, null=True), boolean('active'),
        foreign_key('record_staff', 'entry_id', 'record_entry'), primary_key('record_staff', 'entry_id'))

    op.create_table('record_health_certificate', integer('entry_id'), integer('staff_id'), string('number', 64),
        string('issuer', 100), date('valid_from', null=True), date('valid_until'),
        foreign_key('record_health_certificate', 'entry_id', 'record_entry'),
        foreign_key('record_health_certificate', 'staff_id', 'record_entry'),
        primary_key('record_health_certificate', 'entry_id'))
    indexes('record_health_certificate', 'staff_id')

    op.create_table('record_morning_check', integer('entry_id'), date('check_date'), moment('checked_at'),
        string('checker_name', 50), text('remarks', null=True),
        foreign_key('record_morning_check', 'entry_id', 'record_entry'),
        primary_key('record_morning_check', 'entry_id'))

    op.create_table('record_morning_check_person', integer('id'), integer('entry_id'), integer('position'),
        integer('staff_id'), real('temperature_c'), boolean('hands_ok'), string('symptoms', 200),
        string('result', 16), text('remarks', null=True),
        foreign_key('record_morning_check_person', 'entry_id', 'record_entry'),
        foreign_key('record_morning_check_person', 'staff_id', 'record_entry'),
        primary_key('record_morning_check_person'), unique('record_morning_check_person', 'entry_id', 'position'))
    indexes('record_morning_check_person', 'entry_id', 'staff_id')


def downgrade():
    drop_tables('record_morning_check_person', 'record_morning_check', 'record_health_certificate', 'record_staff')
