"""Short forms of the columns, constraints and indexes the migrations create.

FROZEN: every migration that imports this module already ran on real databases. Changing what a function here
builds would change the history of the schema; add a new function instead, never edit one.

Each function builds exactly what Alembic's autogenerate wrote before (``sa.Column(name, type, nullable=...)``,
constraints named by the naming convention of ``backend/extensions.py`` through ``op.f``), so a migration
written with them creates the same tables, byte for byte, on SQLite and PostgreSQL.
"""

import sqlalchemy as sa
from alembic import op


def integer(name, null=False):
    """An ``integer`` column."""
    return sa.Column(name, sa.Integer(), nullable=null)


def bigint(name, null=False):
    """A ``bigint`` column."""
    return sa.Column(name, sa.BigInteger(), nullable=null)


def string(name, length, null=False):
    """A ``varchar(length)`` column."""
    return sa.Column(name, sa.String(length=length), nullable=null)


def text(name, null=False):
    """A ``text`` column."""
    return sa.Column(name, sa.Text(), nullable=null)


def json(name, null=False):
    """A JSON column."""
    return sa.Column(name, sa.JSON(), nullable=null)


def boolean(name, null=False):
    """A boolean column."""
    return sa.Column(name, sa.Boolean(), nullable=null)


def real(name, null=False):
    """A floating-point column (``sa.Float``)."""
    return sa.Column(name, sa.Float(), nullable=null)


def date(name, null=False):
    """A calendar-date column."""
    return sa.Column(name, sa.Date(), nullable=null)


def moment(name, null=False):
    """A time-zone-aware date-time column (the app stores UTC)."""
    return sa.Column(name, sa.DateTime(timezone=True), nullable=null)


def primary_key(table, column='id'):
    """The primary key ``pk_<table>``."""
    return sa.PrimaryKeyConstraint(column, name=op.f(f'pk_{table}'))


def foreign_key(table, column, target, **options):
    """The foreign key ``fk_<table>_<column>_<target>`` from ``column`` to ``target.id``."""
    return sa.ForeignKeyConstraint([column], [f'{target}.id'], name=op.f(f'fk_{table}_{column}_{target}'), **options)


def unique(table, *columns):
    """The unique constraint ``uq_<table>_<columns>``."""
    return sa.UniqueConstraint(*columns, name=op.f(f"uq_{table}_{'_'.join(columns)}"))


def indexes(table, *columns):
    """One non-unique index ``ix_<table>_<column>`` on each column."""
    with op.batch_alter_table(table, schema=None) as batch_op:
        for column in columns:
            batch_op.create_index(batch_op.f(f'ix_{table}_{column}'), [column], unique=False)


def drop_tables(*tables):
    """Drop the tables in this order (their indexes go with them)."""
    for table in tables:
        op.drop_table(table)
