"""school classes: parents pick the child's class from the school's list; bindings carry the applicant

A new table ``school_class`` holds each school's classes, kept by its staff. ``membership.child_class`` (free
text) becomes ``membership.school_class_id``; bindings also keep the applicant's name and, for parents, how
they are related to the child.

Existing free text migrates to classes: for each school, every distinct class name parents typed (surrounding
whitespace removed, inner runs of spaces, full-width ones too, made one space) becomes one class of that
school, ordered by name, and each parent binding points at its class. Blank texts, and the texts of
non-parent bindings (which never needed one), are dropped. The downgrade writes the class names back.

Revision 0009_school_classes after 0008_live_open_fast_path, written 2026-12-06.
"""
from datetime import datetime, timezone

import sqlalchemy as sa
from alembic import op
from migrations.columns import drop_tables, foreign_key, indexes, integer, moment, primary_key, string, unique


revision = '0009_school_classes'
down_revision = '0008_live_open_fast_path'

MEMBERSHIP = sa.table('membership', sa.column('id', sa.Integer), sa.column('school_id', sa.Integer),
                      sa.column('role', sa.String), sa.column('child_class', sa.String),
                      sa.column('school_class_id', sa.Integer))
SCHOOL_CLASS = sa.table('school_class', sa.column('id', sa.Integer), sa.column('school_id', sa.Integer),
                        sa.column('name', sa.String), sa.column('position', sa.Integer),
                        sa.column('created_at', sa.DateTime(timezone=True)))


def _class_name(text):
    """The free text as a class name: whitespace runs (full-width too) as one space, none around it."""
    return ' '.join((text or '').split())[:64]


def upgrade():
    op.create_table('school_class', integer('id'), integer('school_id'), string('name', 64), integer('position'),
        moment('created_at'), foreign_key('school_class', 'school_id', 'school'), primary_key('school_class'),
        unique('school_class', 'school_id', 'name'))
    indexes('school_class', 'school_id')

    with op.batch_alter_table('membership', schema=None) as batch_op:
        batch_op.add_column(sa.Column('school_class_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('applicant_name', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('relation', sa.String(length=24), nullable=True))
        batch_op.create_index(batch_op.f('ix_membership_school_class_id'), ['school_class_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_membership_school_class_id_school_class'), 'school_class',
                                    ['school_class_id'], ['id'])

    conn = op.get_bind()
    rows = conn.execute(sa.select(MEMBERSHIP.c.id, MEMBERSHIP.c.school_id, MEMBERSHIP.c.child_class)
                        .where(MEMBERSHIP.c.role == 'parent', MEMBERSHIP.c.child_class.is_not(None))).all()
    names = {}
    for row in rows:
        name = _class_name(row.child_class)
        if name:
            names.setdefault(row.school_id, set()).add(name)
    now = datetime.now(timezone.utc)
    class_ids = {}
    for school_id in sorted(names):
        for position, name in enumerate(sorted(names[school_id]), start=1):
            class_id = conn.execute(sa.insert(SCHOOL_CLASS).values(school_id=school_id, name=name, position=position,
                                                                   created_at=now)
                                    .returning(SCHOOL_CLASS.c.id)).scalar_one()
            class_ids[(school_id, name)] = class_id
    for row in rows:
        class_id = class_ids.get((row.school_id, _class_name(row.child_class)))
        if class_id is not None:
            conn.execute(sa.update(MEMBERSHIP).where(MEMBERSHIP.c.id == row.id).values(school_class_id=class_id))

    with op.batch_alter_table('membership', schema=None) as batch_op:
        batch_op.drop_column('child_class')


def downgrade():
    with op.batch_alter_table('membership', schema=None) as batch_op:
        batch_op.add_column(sa.Column('child_class', sa.String(length=64), nullable=True))

    conn = op.get_bind()
    conn.execute(sa.update(MEMBERSHIP).where(MEMBERSHIP.c.school_class_id.is_not(None)).values(
        child_class=sa.select(SCHOOL_CLASS.c.name).where(SCHOOL_CLASS.c.id == MEMBERSHIP.c.school_class_id)
        .scalar_subquery()))

    with op.batch_alter_table('membership', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_membership_school_class_id_school_class'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_membership_school_class_id'))
        batch_op.drop_column('relation')
        batch_op.drop_column('applicant_name')
        batch_op.drop_column('school_class_id')

    drop_tables('school_class')
