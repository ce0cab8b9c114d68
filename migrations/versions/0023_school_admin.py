"""school admin: a parent's invite may name the child's class

Revision ID: 0023_school_admin
Revises: 0017_console_login_ticket
Create Date: 2026-12-06 10:30:00.000000

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0023_school_admin'
down_revision = '0017_console_login_ticket'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('invite', schema=None) as batch_op:
        batch_op.add_column(sa.Column('school_class_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_invite_school_class_id_school_class'), 'school_class',
                                    ['school_class_id'], ['id'])


def downgrade():
    with op.batch_alter_table('invite', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_invite_school_class_id_school_class'), type_='foreignkey')
        batch_op.drop_column('school_class_id')
