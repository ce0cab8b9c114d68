"""sealing: seals (封存) of received batches, retained samples and kitchen areas, and their releases

Revision 0034_sealing after 0033_false_alarm_learning, written 2026-12-06 17:00:00.
"""
from alembic import op
from migrations.columns import drop_tables, foreign_key, indexes, integer, primary_key, string, text, unique

revision = '0034_sealing'
down_revision = '0033_false_alarm_learning'


def upgrade():
    op.create_table('record_seal', integer('entry_id'), string('target', 16), integer('item_id', null=True),
        integer('sample_id', null=True), integer('area_id', null=True), string('target_name', 200), text('reason'),
        string('authority', 16),
        foreign_key('record_seal', 'area_id', 'kitchen_area'),
        foreign_key('record_seal', 'entry_id', 'record_entry'),
        foreign_key('record_seal', 'item_id', 'record_receiving_item'),
        foreign_key('record_seal', 'sample_id', 'record_entry'),
        primary_key('record_seal', 'entry_id'))
    indexes('record_seal', 'area_id', 'item_id', 'sample_id')

    op.create_table('record_seal_release', integer('entry_id'), integer('seal_id'), text('reason'),
        string('authority', 16),
        foreign_key('record_seal_release', 'entry_id', 'record_entry'),
        foreign_key('record_seal_release', 'seal_id', 'record_entry'),
        primary_key('record_seal_release', 'entry_id'), unique('record_seal_release', 'seal_id'))


def downgrade():
    drop_tables('record_seal_release', 'record_seal')
