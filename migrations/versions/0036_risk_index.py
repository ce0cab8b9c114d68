"""risk index: each school's measured days (records completeness, camera seconds) and its monthly food-safety
index (食安指数) with the inputs it was computed from, its runs; indexes on the moments the incremental run reads

Revision 0036_risk_index after 0035_risk_warnings, written 2026-12-06 16:40:00.
"""
from alembic import op
from migrations.columns import date, drop_tables, foreign_key, integer, moment, primary_key, real, string, unique

revision = '0036_risk_index'
down_revision = '0035_risk_warnings'

INDEX_COUNTS = ('class1', 'class2', 'class3', 'due', 'late', 'canteen_days', 'canteen_days_complete',
                'online_seconds', 'known_seconds', 'alarms_confirmed', 'alarms_escalated', 'alarms_false',
                'findings_minor', 'findings_major', 'findings_critical')
CHANGE_MOMENTS = (('violation_event', 'at'), ('alarm_review', 'reviewed_at'), ('inspection_finding', 'created_at'))


def upgrade():
    op.create_table('risk_daily_fact', integer('id'), integer('school_id'), date('day'), integer('canteens'),
                    integer('canteens_complete'), integer('online_seconds'), integer('known_seconds'),
                    moment('computed_at'),
                    foreign_key('risk_daily_fact', 'school_id', 'school'),
                    primary_key('risk_daily_fact'), unique('risk_daily_fact', 'school_id', 'day'))
    op.create_index('ix_risk_daily_fact_day', 'risk_daily_fact', ['day'])
    op.create_index('ix_risk_daily_fact_computed_at', 'risk_daily_fact', ['computed_at'])
    op.create_table('risk_index', integer('id'), integer('school_id'), date('month'), moment('as_of'),
                    *[integer(name) for name in INDEX_COUNTS], real('score'), string('rating', 1),
                    moment('computed_at'),
                    foreign_key('risk_index', 'school_id', 'school'),
                    primary_key('risk_index'), unique('risk_index', 'school_id', 'month'))
    op.create_index('ix_risk_index_month_score', 'risk_index', ['month', 'score'])
    op.create_index('ix_risk_index_computed_at', 'risk_index', ['computed_at'])
    op.create_table('risk_index_run', integer('id'), moment('started_at'), moment('finished_at', null=True),
                    integer('computed'), primary_key('risk_index_run'))
    for table, column in CHANGE_MOMENTS:
        op.create_index(f'ix_{table}_{column}', table, [column])


def downgrade():
    for table, column in CHANGE_MOMENTS:
        op.drop_index(f'ix_{table}_{column}', table_name=table)
    drop_tables('risk_index_run', 'risk_index', 'risk_daily_fact')
