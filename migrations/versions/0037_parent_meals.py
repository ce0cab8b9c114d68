"""parent meals: accompanied-meal slots the school publishes, parents' sign-ups, ratings and the school's answers

Revision 0037_parent_meals after 0036_risk_index, written 2026-12-06 16:40:00.
"""
from alembic import op
from migrations.columns import (date, drop_tables, foreign_key, indexes, integer, moment, primary_key, string, text,
                                unique)

revision = '0037_parent_meals'
down_revision = '0036_risk_index'


def upgrade():
    op.create_table('parent_meal_slot', integer('id'), integer('school_id'), integer('canteen_id'),
        date('service_date'), string('meal', 16), integer('capacity'), text('note', null=True),
        integer('created_by_id', null=True), moment('created_at'),
        foreign_key('parent_meal_slot', 'school_id', 'school'), foreign_key('parent_meal_slot', 'canteen_id', 'canteen'),
        foreign_key('parent_meal_slot', 'created_by_id', 'user_account'),
        primary_key('parent_meal_slot'), unique('parent_meal_slot', 'canteen_id', 'service_date', 'meal'))
    indexes('parent_meal_slot', 'school_id')

    op.create_table('parent_meal_signup', integer('id'), integer('slot_id'), integer('school_id'), integer('user_id'),
        string('role', 16), string('status', 16), text('note', null=True), moment('created_at'),
        moment('decided_at', null=True), integer('decided_by_id', null=True), text('decision_note', null=True),
        integer('taste', null=True), integer('hygiene', null=True), integer('portion', null=True),
        text('comment', null=True), moment('rated_at', null=True), text('answer', null=True),
        moment('answered_at', null=True), integer('answered_by_id', null=True), integer('revision'),
        foreign_key('parent_meal_signup', 'slot_id', 'parent_meal_slot'),
        foreign_key('parent_meal_signup', 'school_id', 'school'),
        foreign_key('parent_meal_signup', 'user_id', 'user_account'),
        foreign_key('parent_meal_signup', 'decided_by_id', 'user_account'),
        foreign_key('parent_meal_signup', 'answered_by_id', 'user_account'),
        primary_key('parent_meal_signup'), unique('parent_meal_signup', 'slot_id', 'user_id'))
    indexes('parent_meal_signup', 'slot_id', 'school_id')


def downgrade():
    drop_tables('parent_meal_signup', 'parent_meal_slot')
