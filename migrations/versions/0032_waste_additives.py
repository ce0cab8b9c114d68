"""waste additives: the food-waste ledger (餐厨废弃物台账) and the food-additive ledger (食品添加剂台账: purchases, uses)

Revision 0032_waste_additives after 0031_staff_health, written 2026-12-06 17:00:00.
"""
from alembic import op
from migrations.columns import date, drop_tables, foreign_key, indexes, integer, moment, primary_key, real, string, text

revision = '0032_waste_additives'
down_revision = '0031_staff_health'


def upgrade():
    op.create_table('record_waste_disposal', integer('entry_id'), moment('disposed_at'), string('waste_kind', 16),
        real('quantity_kg'), string('collector_company', 100), string('collector_name', 50),
        string('collector_licence', 64, null=True), integer('staff_id'), string('handover_name', 50),
        text('remarks', null=True),
        foreign_key('record_waste_disposal', 'entry_id', 'record_entry'),
        foreign_key('record_waste_disposal', 'staff_id', 'record_entry'),
        primary_key('record_waste_disposal', 'entry_id'))
    indexes('record_waste_disposal', 'staff_id')

    op.create_table('record_additive_purchase', integer('entry_id'), string('additive_name', 100),
        string('manufacturer', 100), string('batch', 64), real('quantity'), string('unit', 8), date('purchase_date'),
        date('expiry_date', null=True), string('supplier_name', 100), string('buyer_name', 50),
        string('keeper_name', 50), string('cabinet', 100), text('remarks', null=True),
        foreign_key('record_additive_purchase', 'entry_id', 'record_entry'),
        primary_key('record_additive_purchase', 'entry_id'))

    op.create_table('record_additive_use', integer('entry_id'), date('use_date'), string('meal', 16),
        integer('dish_id', null=True), string('dish_name', 100), integer('purchase_id'), real('quantity'),
        string('issuer_name', 50), string('user_name', 50), text('remarks', null=True),
        foreign_key('record_additive_use', 'dish_id', 'record_menu_dish'),
        foreign_key('record_additive_use', 'entry_id', 'record_entry'),
        foreign_key('record_additive_use', 'purchase_id', 'record_entry'),
        primary_key('record_additive_use', 'entry_id'))
    indexes('record_additive_use', 'purchase_id')


def downgrade():
    drop_tables('record_additive_use', 'record_additive_purchase', 'record_waste_disposal')
