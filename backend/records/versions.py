"""Current versions of records: a version is current while no amendment points at it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_, exists, func, or_, select
from sqlalchemy.orm import aliased

from backend.extensions import db
from backend.records.models import RecordEntry

_Amendment = aliased(RecordEntry, name="amendment")


def is_current(entry: Any = RecordEntry) -> ColumnElement[bool]:
    """SQL condition: ``entry`` has not been corrected by a later version."""
    return ~exists(select(_Amendment.id).where(_Amendment.amends_id == entry.id))


def logical_id(entry: Any = RecordEntry) -> ColumnElement[int]:
    """SQL expression of a version's record id (the id of the record's first version)."""
    return func.coalesce(entry.root_id, entry.id)


def item_logical_in(item_ids: list[int]) -> ColumnElement[bool]:
    """SQL condition: a received-item row is a version of one of the given item ids (index-friendly)."""
    from backend.records.models import ReceivingItem

    return or_(ReceivingItem.origin_item_id.in_(item_ids),
               and_(ReceivingItem.origin_item_id.is_(None), ReceivingItem.id.in_(item_ids)))


def of_record(record_id: int, entry: Any = RecordEntry) -> ColumnElement[bool]:
    """SQL condition: ``entry`` is a version of record ``record_id``."""
    return or_(entry.id == record_id, entry.root_id == record_id)


def current_version(record_id: int, *, canteen_id: int | None = None, kind: str | None = None) -> RecordEntry | None:
    """The current version of a record, optionally checking its canteen and kind."""
    query = select(RecordEntry).where(of_record(record_id), is_current())
    if canteen_id is not None:
        query = query.where(RecordEntry.canteen_id == canteen_id)
    if kind is not None:
        query = query.where(RecordEntry.kind == kind)
    return db.session.scalars(query.limit(1)).first()


def record_versions(record_id: int) -> list[RecordEntry]:
    """Every version of a record, oldest first."""
    return list(db.session.scalars(select(RecordEntry).where(of_record(record_id)).order_by(RecordEntry.seq)))
