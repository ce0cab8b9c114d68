"""risk: violation classes per region, card durations, yellow and red cards, and each violation's class

Revision 0030_risk after 0029_open_list_index, written 2026-12-06 14:20:00.
"""
from alembic import op
import sqlalchemy as sa

from migrations.columns import drop_tables, foreign_key, integer, moment, primary_key, string, text, unique

revision = '0030_risk'
down_revision = '0029_open_list_index'

# The shipped classes when this migration ran (backend/risk/classes.py), for the violations raised before it.
CLASS_OF_KIND = {'rodent': 1, 'camera_offline_meal': 1, 'sample_missing': 1, 'certificate_expired': 1,
                 'smoking': 2, 'person_after_hours': 2, 'disinfection_missing': 2, 'camera_occluded': 2,
                 'inspection_finding': 2, 'reported': 2, 'no_mask': 3, 'no_hat': 3, 'no_uniform': 3, 'phone': 3,
                 'camera_offline': 3, 'camera_blurred': 3}


def upgrade():
    op.create_table('risk_kind_setting', integer('id'), integer('region_id'), string('kind', 32),
                    integer('risk_class'), integer('deadline_hours'), integer('updated_by_id', null=True),
                    moment('updated_at'),
                    foreign_key('risk_kind_setting', 'region_id', 'region'),
                    foreign_key('risk_kind_setting', 'updated_by_id', 'user_account'),
                    primary_key('risk_kind_setting'), unique('risk_kind_setting', 'region_id', 'kind'))
    op.create_table('risk_card_setting', integer('region_id'), integer('yellow_after_hours'),
                    integer('red_after_hours'), integer('updated_by_id', null=True), moment('updated_at'),
                    foreign_key('risk_card_setting', 'region_id', 'region'),
                    foreign_key('risk_card_setting', 'updated_by_id', 'user_account'),
                    primary_key('risk_card_setting', 'region_id'))
    op.create_table('risk_card', integer('id'), integer('violation_id'), integer('school_id'), string('color', 8),
                    integer('risk_class'), moment('issued_at'), moment('lifted_at', null=True),
                    integer('lifted_by_id', null=True), text('lift_reason', null=True),
                    foreign_key('risk_card', 'violation_id', 'violation'),
                    foreign_key('risk_card', 'school_id', 'school'),
                    foreign_key('risk_card', 'lifted_by_id', 'user_account'),
                    primary_key('risk_card'), unique('risk_card', 'violation_id', 'color'))
    op.create_index('ix_risk_card_school_issued', 'risk_card', ['school_id', 'issued_at'])
    with op.batch_alter_table('violation', schema=None) as batch_op:
        batch_op.add_column(integer('risk_class', null=True))
    violation = sa.table('violation', sa.column('kind', sa.String()), sa.column('risk_class', sa.Integer()))
    for kind, risk_class in CLASS_OF_KIND.items():
        op.execute(violation.update().where(violation.c.kind == kind).values(risk_class=risk_class))


def downgrade():
    with op.batch_alter_table('violation', schema=None) as batch_op:
        batch_op.drop_column('risk_class')
    op.drop_index('ix_risk_card_school_issued', table_name='risk_card')
    drop_tables('risk_card', 'risk_card_setting', 'risk_kind_setting')
