"""console indexes: the 总览's figures and lists at province scale

Revision ID: 0021_console_indexes
Revises: 0019_patrol_rounds
Create Date: 2026-12-06 10:40:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0021_console_indexes'
down_revision = '0019_patrol_rounds'
branch_labels = None
depends_on = None


# The columns the figures read, carried in the indexes so PostgreSQL answers from the index alone.
COVERED = ['school_id', 'kind', 'source', 'status', 'resolution', 'due_at', 'closed_at']


def upgrade():
    # A province's figures: the violations found in the period, whatever their school.
    op.create_index('ix_violation_created_cover', 'violation', ['created_at'], postgresql_include=COVERED)
    # A county's or a school's figures: its schools' violations found in the period.
    op.create_index('ix_violation_school_created', 'violation', ['school_id', 'created_at'],
                    postgresql_include=COVERED)
    # The daily trend's "rectified that day": violations closed in the period, whenever found.
    op.create_index('ix_violation_closed_at', 'violation', ['closed_at'],
                    postgresql_include=['school_id', 'resolution', 'created_at'])


def downgrade():
    op.drop_index('ix_violation_created_cover', table_name='violation')
    op.drop_index('ix_violation_closed_at', table_name='violation')
    op.drop_index('ix_violation_school_created', table_name='violation')
