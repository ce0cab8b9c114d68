"""Reading records: filtered lists with cursor pagination, one record with its versions."""

from __future__ import annotations

import base64
import binascii
from datetime import date, timedelta
from typing import Any

from sqlalchemy import and_, exists, func, or_, select

from backend.accounts.people import Person, people_in_school
from backend.errors import ApiError, not_found
from backend.extensions import db
from backend.records.history import version_changes
from backend.records.models import (
    TYPED_MODELS,
    AdditivePurchase,
    ReceivingItem,
    RecordEntry,
    RecordKind,
    SampleDisposal,
    StaffMember,
    Supplier,
)
from backend.records.presenters import EXPIRING_WITHIN, present_records
from backend.records.versions import current_version, is_current, logical_id, record_versions
from backend.schools.models import Canteen


def encode_cursor(record_date: date, entry_id: int) -> str:
    """An opaque cursor after the given row (lists are ordered by day, then newest version first)."""
    return base64.urlsafe_b64encode(f"{record_date.isoformat()}|{entry_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[date, int]:
    """Read a cursor made by :func:`encode_cursor`."""
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        day, entry_id = text.split("|")
        return date.fromisoformat(day), int(entry_id)
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise ApiError(422, "cursor_invalid", "分页参数无效，请从第一页重新加载") from exc


# Filters that ask for one value of a column of the kind's table, wherever that table has the column.
EQUALITY_FILTERS = ("supplier_id", "meal", "target", "sample_id", "companion_role", "staff_id", "waste_kind",
                    "purchase_id")


def _kind_filters(kind: str, filters: dict[str, Any], on: date) -> tuple[Any, list[Any]]:
    """The typed table to join and the conditions of a kind's filters."""
    model = TYPED_MODELS[kind]
    conditions: list[Any] = [getattr(model, name) == filters[name] for name in EQUALITY_FILTERS
                             if filters.get(name) and hasattr(model, name)]
    if kind == RecordKind.SUPPLIER:
        if filters.get("q"):
            conditions.append(Supplier.name.contains(filters["q"], autoescape=True))
    elif kind in (RecordKind.CERTIFICATE, RecordKind.HEALTH_CERTIFICATE):
        status = filters.get("status")
        if status == "expired":
            conditions.append(model.valid_until < on)
        elif status == "expiring":
            conditions.append(model.valid_until.between(on, on + EXPIRING_WITHIN))
        elif status == "valid":
            conditions.append(model.valid_until > on + EXPIRING_WITHIN)
    elif kind == RecordKind.STAFF:
        if filters.get("q"):
            conditions.append(StaffMember.name.contains(filters["q"], autoescape=True))
        if filters.get("active") is not None:
            conditions.append(StaffMember.active.is_(filters["active"]))
    elif kind == RecordKind.ADDITIVE_PURCHASE:
        if filters.get("q"):
            conditions.append(AdditivePurchase.additive_name.contains(filters["q"], autoescape=True))
    elif kind == RecordKind.RECEIVING:
        item_conditions = []
        if filters.get("ingredient"):
            item_conditions.append(ReceivingItem.ingredient.contains(filters["ingredient"], autoescape=True))
        if filters.get("batch"):
            item_conditions.append(ReceivingItem.batch == filters["batch"])
        if item_conditions:
            conditions.append(exists().where(ReceivingItem.entry_id == RecordEntry.id, *item_conditions))
    elif kind == RecordKind.SAMPLE and filters.get("disposed") is not None:
        disposal = aliased_disposal_exists()
        conditions.append(disposal if filters["disposed"] else ~disposal)
    return model, conditions


def aliased_disposal_exists() -> Any:
    """SQL condition: the listed sample has a current disposal."""
    from sqlalchemy.orm import aliased

    disposal_entry = aliased(RecordEntry, name="disposal_entry")
    return exists().where(SampleDisposal.entry_id == disposal_entry.id, is_current(disposal_entry),
                          SampleDisposal.sample_id == logical_id())


def list_records(canteen_id: int, kind: str, filters: dict[str, Any], *, cursor: str | None, limit: int,
                 on: date) -> dict[str, Any]:
    """Current versions of a canteen's records of one kind, newest day first, ``limit`` per page."""
    model, conditions = _kind_filters(kind, filters, on)
    query = (select(RecordEntry).join(model, model.entry_id == RecordEntry.id)
             .where(RecordEntry.canteen_id == canteen_id, RecordEntry.kind == kind, is_current(), *conditions))
    if filters.get("date_from"):
        query = query.where(RecordEntry.record_date >= filters["date_from"])
    if filters.get("date_to"):
        query = query.where(RecordEntry.record_date <= filters["date_to"])
    if cursor:
        after_date, after_id = decode_cursor(cursor)
        query = query.where(or_(RecordEntry.record_date < after_date,
                                and_(RecordEntry.record_date == after_date, RecordEntry.id < after_id)))
    entries = list(db.session.scalars(query.order_by(RecordEntry.record_date.desc(), RecordEntry.id.desc())
                                      .limit(limit + 1)))
    more = len(entries) > limit
    entries = entries[:limit]
    return {"items": present_records(entries, on),
            "next_cursor": encode_cursor(entries[-1].record_date, entries[-1].id) if more else None}


def record_detail(record_id: int, on: date) -> dict[str, Any]:
    """The current version of a record, with every version (oldest first): who wrote it, why it corrected the
    one before and what it changed (``history.version_changes``)."""
    current = current_version(record_id)
    if current is None:
        raise not_found("记录")
    versions = record_versions(record_id)
    presented = present_records(versions, on)
    by_id = {p["version_id"]: p for p in presented}
    changes = version_changes(versions, on)
    school_id = db.session.scalar(select(Canteen.school_id).where(Canteen.id == current.canteen_id))
    people = people_in_school(school_id, {v.created_by_id for v in versions if v.created_by_id is not None})
    detail = dict(by_id[current.id])
    detail["versions"] = [{"version_id": v.id, "seq": v.seq, "created_at": by_id[v.id]["created_at"],
                           "created_by_id": v.created_by_id, **_author(people.get(v.created_by_id)),
                           "amends_version_id": v.amends_id, "reason": v.reason, "hash": v.hash,
                           "current": v.id == current.id, "changes": changes[v.id], "record": by_id[v.id]}
                          for v in versions]
    return detail


def _author(person: Person | None) -> dict[str, str | None]:
    """Who wrote a version, as the school names them (none for a version written by the system)."""
    return {"created_by_name": person.name if person else None,
            "created_by_role_label": person.role_label if person else None}


def count_by_kind(canteen_id: int, date_from: date, date_to: date) -> dict[str, int]:
    """Current records per kind in a date range (for the export summary)."""
    rows = db.session.execute(select(RecordEntry.kind, func.count()).where(
        RecordEntry.canteen_id == canteen_id, is_current(), RecordEntry.record_date.between(date_from, date_to))
        .group_by(RecordEntry.kind)).all()
    return dict(rows)


def days_between(date_from: date, date_to: date) -> int:
    """Number of days in an inclusive range."""
    return (date_to - date_from + timedelta(days=1)).days

