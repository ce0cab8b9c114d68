"""school admin: a parent's invite may name the child's class

Revision 0023_school_admin after 0022_alarm_review, written 2026-12-06.
"""
from alembic import op
from migrations.columns import integer


revision = '0023_school_admin'
down_revision = '0022_alarm_review'


def upgrade():
    with op.batch_alter_table('invite', schema=None) as batch_op:
        batch_op.add_column(integer('school_class_id', null=True))
        batch_op.create_foreign_key(batch_op.f('fk_invite_school_class_id_school_class'), 'school_class',
                                    ['school_class_id'], ['id'])


def downgrade():
    with op.batch_alter_table('invite', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_invite_school_class_id_school_class'), type_='foreignkey')
        batch_op.drop_column('school_class_id')
