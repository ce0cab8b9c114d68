"""false alarm learning: a reviewer's corrected boxes on a verdict, and the audited tuning changes that raise a
camera's confidence threshold of a kind whose alarms are mostly false (reversible)

Revision 0033_false_alarm_learning after 0032_waste_additives, written 2026-12-06 16:40:00.
"""
from alembic import op

from migrations.columns import (drop_tables, foreign_key, indexes, integer, json, moment, primary_key, real,
                                string)

revision = '0033_false_alarm_learning'
down_revision = '0032_waste_additives'


def upgrade():
    with op.batch_alter_table('alarm_review', schema=None) as batch_op:
        batch_op.add_column(json('boxes', null=True))

    op.create_table('camera_tuning_change', integer('id'), integer('camera_id'), string('kind', 32),
        string('setting', 32), real('old_value'), real('new_value'), string('reason', 16), integer('verdicts'),
        integer('false_positives'), moment('at'), integer('actor_id', null=True), moment('reverted_at', null=True),
        integer('reverted_by_id', null=True),
        foreign_key('camera_tuning_change', 'camera_id', 'camera', ondelete='CASCADE'),
        foreign_key('camera_tuning_change', 'actor_id', 'user_account'),
        foreign_key('camera_tuning_change', 'reverted_by_id', 'user_account'),
        primary_key('camera_tuning_change'))
    indexes('camera_tuning_change', 'camera_id')


def downgrade():
    drop_tables('camera_tuning_change')
    with op.batch_alter_table('alarm_review', schema=None) as batch_op:
        batch_op.drop_column('boxes')
