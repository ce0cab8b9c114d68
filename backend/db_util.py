"""Small database helpers that behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite

from backend.extensions import db


def insert_if_absent(model: type, values: dict[str, Any], conflict_columns: list[str]) -> int | None:
    """INSERT … ON CONFLICT DO NOTHING; the new row's id, or None when a row with those keys exists.

    Used instead of a savepoint around a plain INSERT: pysqlite runs SAVEPOINT outside its implicit
    transaction, so a released savepoint would commit the caller's work early.
    """
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (insert(model).values(**values).on_conflict_do_nothing(index_elements=conflict_columns)
                 .returning(model.id))
    return db.session.execute(statement).scalar()
