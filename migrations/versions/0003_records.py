"""records: canteen record chain, typed records, uploads and idempotency keys

Revision 0003_records after 0002_violations, written 2026-11-22.
"""
from alembic import op
from migrations.columns import (boolean, date, drop_tables, foreign_key, indexes, integer, moment, primary_key,
    real, string, text, unique)


revision = '0003_records'
down_revision = '0002_violations'


def upgrade():
    op.create_table('idempotency_key', integer('id'), integer('user_id'), string('key', 128),
        string('fingerprint', 64), string('resource_type', 32), integer('resource_id', null=True),
        moment('created_at'), foreign_key('idempotency_key', 'user_id', 'user_account'),
        primary_key('idempotency_key'), unique('idempotency_key', 'user_id', 'key'))
    indexes('idempotency_key', 'created_at')

    op.create_table('record_chain_head', integer('canteen_id'), integer('seq'), string('hash', 64),
        moment('updated_at'), foreign_key('record_chain_head', 'canteen_id', 'canteen'),
        primary_key('record_chain_head', 'canteen_id'))
    op.create_table('record_entry', integer('id'), integer('canteen_id'), integer('seq'), string('kind', 32),
        date('record_date'), integer('root_id', null=True), integer('amends_id', null=True),
        text('reason', null=True), moment('created_at'), integer('created_by_id', null=True),
        string('prev_hash', 64), string('hash', 64), foreign_key('record_entry', 'amends_id', 'record_entry'),
        foreign_key('record_entry', 'canteen_id', 'canteen'),
        foreign_key('record_entry', 'created_by_id', 'user_account'),
        foreign_key('record_entry', 'root_id', 'record_entry'), primary_key('record_entry'),
        unique('record_entry', 'amends_id'), unique('record_entry', 'canteen_id', 'seq'))
    with op.batch_alter_table('record_entry', schema=None) as batch_op:
        batch_op.create_index('ix_record_entry_canteen_kind_date', ['canteen_id', 'kind', 'record_date'], unique=False)
        batch_op.create_index(batch_op.f('ix_record_entry_root_id'), ['root_id'], unique=False)

    op.create_table('upload', integer('id'), integer('canteen_id'), integer('uploader_id'), string('key', 255),
        string('content_type', 32), integer('size'), string('sha256', 64), string('original_sha256', 64),
        integer('original_size'), string('original_filename', 255, null=True), integer('width', null=True),
        integer('height', null=True), integer('pages', null=True), moment('created_at'),
        foreign_key('upload', 'canteen_id', 'canteen'), foreign_key('upload', 'uploader_id', 'user_account'),
        primary_key('upload'), unique('upload', 'key'))
    indexes('upload', 'canteen_id', 'uploader_id')

    op.create_table('record_accompanied_meal', integer('entry_id'), date('service_date'), string('meal', 16),
        string('companion_name', 50), string('companion_role', 16), integer('rating'), text('remarks', null=True),
        foreign_key('record_accompanied_meal', 'entry_id', 'record_entry'),
        primary_key('record_accompanied_meal', 'entry_id'))
    op.create_table('record_attachment', integer('id'), integer('entry_id'), integer('upload_id'),
        string('role', 32), integer('position'), foreign_key('record_attachment', 'entry_id', 'record_entry'),
        foreign_key('record_attachment', 'upload_id', 'upload'), primary_key('record_attachment'),
        unique('record_attachment', 'entry_id', 'role', 'position'))
    indexes('record_attachment', 'entry_id', 'upload_id')

    op.create_table('record_certificate', integer('entry_id'), integer('supplier_id'), string('kind', 32),
        string('number', 64), string('issuer', 100, null=True), date('valid_from', null=True), date('valid_until'),
        foreign_key('record_certificate', 'entry_id', 'record_entry'),
        foreign_key('record_certificate', 'supplier_id', 'record_entry'),
        primary_key('record_certificate', 'entry_id'))
    indexes('record_certificate', 'supplier_id')

    op.create_table('record_disinfection', integer('entry_id'), date('service_date'), string('meal', 16),
        string('target', 16), integer('area_id', null=True), string('target_name', 100), string('method', 16),
        real('temperature_c', null=True), real('minutes', null=True), real('concentration_mg_l', null=True),
        integer('item_count', null=True), moment('performed_at'), string('operator_name', 50),
        foreign_key('record_disinfection', 'area_id', 'kitchen_area'),
        foreign_key('record_disinfection', 'entry_id', 'record_entry'),
        primary_key('record_disinfection', 'entry_id'))
    op.create_table('record_menu', integer('entry_id'), date('service_date'), string('meal', 16),
        text('remarks', null=True), foreign_key('record_menu', 'entry_id', 'record_entry'),
        primary_key('record_menu', 'entry_id'))
    op.create_table('record_menu_dish', integer('id'), integer('entry_id'), integer('position'), string('name', 50),
        string('category', 16, null=True), foreign_key('record_menu_dish', 'entry_id', 'record_entry'),
        primary_key('record_menu_dish'), unique('record_menu_dish', 'entry_id', 'position'))
    indexes('record_menu_dish', 'entry_id')

    op.create_table('record_receiving', integer('entry_id'), integer('supplier_id'), moment('received_at'),
        string('receiver_name', 50), text('remarks', null=True),
        foreign_key('record_receiving', 'entry_id', 'record_entry'),
        foreign_key('record_receiving', 'supplier_id', 'record_entry'), primary_key('record_receiving', 'entry_id'))
    indexes('record_receiving', 'supplier_id')

    op.create_table('record_receiving_item', integer('id'), integer('entry_id'), integer('line_no'),
        integer('origin_item_id', null=True), string('ingredient', 100), string('category', 16),
        string('batch', 64), real('quantity'), string('unit', 16), date('production_date', null=True),
        integer('shelf_life_days', null=True), date('expiry_date', null=True), string('storage', 16),
        real('storage_temperature_c', null=True), foreign_key('record_receiving_item', 'entry_id', 'record_entry'),
        foreign_key('record_receiving_item', 'origin_item_id', 'record_receiving_item'),
        primary_key('record_receiving_item'), unique('record_receiving_item', 'entry_id', 'line_no'))
    indexes('record_receiving_item', 'entry_id', 'origin_item_id')

    op.create_table('record_sample', integer('entry_id'), date('service_date'), string('meal', 16),
        integer('menu_id'), string('dish_name', 50), real('weight_g'), moment('sampled_at'), boolean('sealed'),
        real('fridge_temperature_c'), string('sampler_name', 50), moment('keep_until'),
        foreign_key('record_sample', 'entry_id', 'record_entry'),
        foreign_key('record_sample', 'menu_id', 'record_entry'), primary_key('record_sample', 'entry_id'))
    indexes('record_sample', 'menu_id')

    op.create_table('record_sample_disposal', integer('entry_id'), integer('sample_id'), moment('disposed_at'),
        string('disposer_name', 50), text('remarks', null=True),
        foreign_key('record_sample_disposal', 'entry_id', 'record_entry'),
        foreign_key('record_sample_disposal', 'sample_id', 'record_entry'),
        primary_key('record_sample_disposal', 'entry_id'))
    indexes('record_sample_disposal', 'sample_id')

    op.create_table('record_supplier', integer('entry_id'), string('name', 100),
        string('credit_code', 18, null=True), string('contact_name', 50, null=True), string('phone', 20, null=True),
        string('address', 200, null=True), text('remarks', null=True),
        foreign_key('record_supplier', 'entry_id', 'record_entry'), primary_key('record_supplier', 'entry_id'))
    op.create_table('record_dish_ingredient', integer('id'), integer('dish_id'), integer('item_id'),
        integer('position'), foreign_key('record_dish_ingredient', 'dish_id', 'record_menu_dish'),
        foreign_key('record_dish_ingredient', 'item_id', 'record_receiving_item'),
        primary_key('record_dish_ingredient'), unique('record_dish_ingredient', 'dish_id', 'item_id'))
    indexes('record_dish_ingredient', 'dish_id', 'item_id')


def downgrade():
    drop_tables('record_dish_ingredient', 'record_supplier', 'record_sample_disposal', 'record_sample',
        'record_receiving_item', 'record_receiving', 'record_menu_dish', 'record_menu', 'record_disinfection',
        'record_certificate', 'record_attachment', 'record_accompanied_meal', 'upload', 'record_entry',
        'record_chain_head', 'idempotency_key')
