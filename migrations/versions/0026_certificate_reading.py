"""certificate reading: what OCR read from a certificate photo and what the person confirmed when saving

Revision 0026_certificate_reading after 0025_alarm_queue_index, written 2026-12-06 14:00:00.
"""
from alembic import op

from migrations.columns import (drop_tables, foreign_key, indexes, integer, json, moment, primary_key, real,
                                string)

revision = '0026_certificate_reading'
down_revision = '0025_alarm_queue_index'


def upgrade():
    op.create_table(
        'certificate_reading',
        integer('id'), integer('upload_id'), string('kind', 32), json('suggested'), real('seconds'),
        integer('read_by_id'), moment('created_at'), json('confirmed', null=True), integer('entry_id', null=True),
        moment('confirmed_at', null=True),
        foreign_key('certificate_reading', 'entry_id', 'record_entry'),
        foreign_key('certificate_reading', 'read_by_id', 'user_account'),
        foreign_key('certificate_reading', 'upload_id', 'upload'),
        primary_key('certificate_reading'))
    indexes('certificate_reading', 'entry_id', 'upload_id')


def downgrade():
    drop_tables('certificate_reading')
