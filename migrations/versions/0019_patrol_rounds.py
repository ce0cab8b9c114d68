"""patrol rounds: online patrol of the video wall, the cameras watched and the findings with their snapshots

Revision ID: 0019_patrol_rounds
Revises: 0017_console_login_ticket
Create Date: 2026-12-06 10:30:00.000000

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0019_patrol_rounds'
down_revision = '0017_console_login_ticket'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'patrol_round',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('region_id', sa.Integer(), sa.ForeignKey('region.id'), nullable=False),
        sa.Column('title', sa.String(length=100), nullable=False),
        sa.Column('canteen_ids', sa.JSON(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('summary', sa.Text(), nullable=True),
        sa.Column('created_by_id', sa.Integer(), sa.ForeignKey('user_account.id'), nullable=False),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index('ix_patrol_round_region_id', 'patrol_round', ['region_id'])
    op.create_table(
        'patrol_view',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('patrol_id', sa.Integer(), sa.ForeignKey('patrol_round.id'), nullable=False),
        sa.Column('camera_id', sa.Integer(), sa.ForeignKey('camera.id'), nullable=False),
        sa.Column('canteen_id', sa.Integer(), sa.ForeignKey('canteen.id'), nullable=False),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index('ix_patrol_view_patrol_id', 'patrol_view', ['patrol_id'])
    op.create_table(
        'patrol_finding',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('patrol_id', sa.Integer(), sa.ForeignKey('patrol_round.id'), nullable=False),
        sa.Column('camera_id', sa.Integer(), sa.ForeignKey('camera.id'), nullable=False),
        sa.Column('canteen_id', sa.Integer(), sa.ForeignKey('canteen.id'), nullable=False),
        sa.Column('inspector_id', sa.Integer(), sa.ForeignKey('user_account.id'), nullable=False),
        sa.Column('kind', sa.String(length=32), nullable=False),
        sa.Column('severity', sa.String(length=16), nullable=False),
        sa.Column('description', sa.Text(), nullable=False),
        sa.Column('snapshot_key', sa.String(length=255), nullable=False),
        sa.Column('violation_id', sa.Integer(), sa.ForeignKey('violation.id'), nullable=True),
        sa.Column('inspection_finding_id', sa.Integer(), sa.ForeignKey('inspection_finding.id'), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index('ix_patrol_finding_patrol_id', 'patrol_finding', ['patrol_id'])


def downgrade():
    op.drop_table('patrol_finding')
    op.drop_table('patrol_view')
    op.drop_table('patrol_round')
