"""receiving expired reason: why goods were accepted from a supplier whose licence had expired on the day

Revision 0027_receiving_expired_reason after 0026_certificate_reading, written 2026-12-06 14:20:00.
"""
from alembic import op

from migrations.columns import text

revision = '0027_receiving_expired_reason'
down_revision = '0026_certificate_reading'


def upgrade():
    with op.batch_alter_table('record_receiving', schema=None) as batch_op:
        batch_op.add_column(text('accepted_expired_reason', null=True))


def downgrade():
    with op.batch_alter_table('record_receiving', schema=None) as batch_op:
        batch_op.drop_column('accepted_expired_reason')
