"""stats version: the token every write of violation figures changes, so cached 总览 figures are reused safely

Revision 0024_stats_version after 0023_school_admin, written 2026-12-06 11:40:00.
"""
from alembic import op
import sqlalchemy as sa

from migrations.columns import drop_tables, integer, primary_key, string

revision = '0024_stats_version'
down_revision = '0023_school_admin'


def upgrade():
    op.create_table('stats_version', integer('id'), string('token', 32), primary_key('stats_version'))
    op.bulk_insert(sa.table('stats_version', sa.column('id', sa.Integer()), sa.column('token', sa.String())),
                   [{'id': 1, 'token': 'initial'}, {'id': 2, 'token': 'initial'}])


def downgrade():
    drop_tables('stats_version')
