"""Small database helpers that behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
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


def names_by_id(model: Any, ids: Iterable[int | None]) -> dict[int, str]:
    """id → name of the rows of ``model`` (a school, region, canteen, camera ...) with these ids, in one query; no
    query at all for none."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    return dict(db.session.execute(select(model.id, model.name).where(model.id.in_(wanted))).all())
