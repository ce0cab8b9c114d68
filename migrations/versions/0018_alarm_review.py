"""alarm review: the verdict on each AI alarm (confirmed, false positive, escalated) and the queue's index

Revision ID: 0018_alarm_review
Revises: 0021_console_indexes
Create Date: 2026-12-06 10:30:00.000000

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0018_alarm_review'
down_revision = '0021_console_indexes'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'alarm_review',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('violation_id', sa.Integer(), sa.ForeignKey('violation.id'), nullable=False, unique=True),
        sa.Column('verdict', sa.String(length=16), nullable=False),
        sa.Column('reason', sa.Text(), nullable=True),
        sa.Column('reviewer_id', sa.Integer(), sa.ForeignKey('user_account.id'), nullable=False),
        sa.Column('reviewed_at', sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index('ix_violation_school_source_id', 'violation', ['school_id', 'source', 'id'])


def downgrade():
    op.drop_index('ix_violation_school_source_id', table_name='violation')
    op.drop_table('alarm_review')
