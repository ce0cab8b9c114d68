"""How long each record must be kept, and which records are past it: REPORTED, never deleted.

The rules (docs/records-retention.md):

- 进货查验记录 (receiving, with its certificates' role as 相关凭证): at least six months after the shelf life of
  every item ends; an item without a shelf life (fresh produce), two years after it was received
  (《食品安全法》第五十条、第六十五条; 《学校食品安全与营养健康管理规定》第三十四条).
- suppliers and their certificates: as long as any receiving of the supplier must be kept, and at least two years
  after the record (their last version).
- every other record (menus, disinfection, samples and their disposals, accompanied meals, morning checks): two
  years after its day (《餐饮服务食品安全操作规范》: 记录保存期限不少于 2 年).
- the staff register: two years after the person left (a current member is kept); a health certificate two years
  after it expired.
- a seal (封存) and its release: two years after the release; a seal in force is kept.

A record's keeping time ends on ``kept_until``; from ``removable_on`` (the day after) nothing requires it any more.
The application never deletes a record (the chain would break): this module lists them, per canteen, for the
people who decide (the region's regulators, the school's principal; ``GET /canteens/<id>/records/removable``,
``flask removable-records``). Records past their keeping time still verify and export like any other.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select

from backend.extensions import db
from backend.records.models import (
    KIND_LABELS,
    HealthCertificate,
    ReceivingItem,
    ReceivingRecord,
    RecordEntry,
    RecordKind,
    SealRelease,
    StaffMember,
    SupplierCertificate,
)
from backend.records.versions import is_current
from backend.schools.models import Canteen
from backend.timeutil import shanghai_iso

AFTER_SHELF_LIFE_MONTHS = 6
DEFAULT_YEARS = 2
BATCH = 500

RULES: dict[str, str] = {
    RecordKind.RECEIVING: "保质期满后 6 个月；没有明确保质期的，收货后 2 年",
    RecordKind.SUPPLIER: "该供应商的进货查验记录均到期，且登记后至少 2 年",
    RecordKind.CERTIFICATE: "该供应商的进货查验记录均到期，且登记后至少 2 年",
    RecordKind.STAFF: "人员离职后 2 年（在职人员持续保存）",
    RecordKind.HEALTH_CERTIFICATE: "健康证到期后 2 年",
    RecordKind.SEAL: "解除封存后 2 年（封存中的持续保存）",
    RecordKind.SEAL_RELEASE: "解除封存后 2 年",
}
OTHER_RULE = "记录日期后 2 年"


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later (the month's last day when it is shorter)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def years_after(day: date, years: int = DEFAULT_YEARS) -> date:
    """The same day ``years`` later (28 February for 29 February)."""
    return add_months(day, 12 * years)


def item_kept_until(item: ReceivingItem, received_on: date) -> date:
    """Six months after the item's shelf life ends, or two years after receipt when it has none."""
    if item.expiry_date is not None:
        return add_months(item.expiry_date, AFTER_SHELF_LIFE_MONTHS)
    return years_after(received_on)


@dataclass(frozen=True)
class Removable:
    """A record past its keeping time."""

    entry: RecordEntry
    kept_until: date

    @property
    def removable_on(self) -> date:
        """The first day nothing requires the record any more."""
        return self.kept_until + timedelta(days=1)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form for the API and the CLI."""
        return {"record_id": self.entry.record_id, "version_id": self.entry.id, "kind": self.entry.kind,
                "kind_label": KIND_LABELS.get(self.entry.kind, self.entry.kind),
                "record_date": self.entry.record_date.isoformat(), "kept_until": self.kept_until.isoformat(),
                "removable_on": self.removable_on.isoformat(), "rule": RULES.get(self.entry.kind, OTHER_RULE)}


def _entries(canteen_id: int, kinds: list[str] | None, latest_day: date) -> Iterator[list[RecordEntry]]:
    """Current versions of the canteen's records of ``kinds`` (all but ``None``) dated up to ``latest_day``."""
    last_id = 0
    while True:
        query = select(RecordEntry).where(RecordEntry.canteen_id == canteen_id, is_current(),
                                          RecordEntry.record_date <= latest_day, RecordEntry.id > last_id)
        if kinds is not None:
            query = query.where(RecordEntry.kind.in_(kinds))
        entries = list(db.session.scalars(query.order_by(RecordEntry.id).limit(BATCH)))
        if not entries:
            return
        yield entries
        last_id = entries[-1].id


def _receivings(canteen_id: int, latest_day: date) -> dict[int, tuple[RecordEntry, int, date]]:
    """Current receivings received by ``latest_day``: entry, supplier id and the day their keeping ends."""
    out: dict[int, tuple[RecordEntry, int, date]] = {}
    for entries in _entries(canteen_id, [RecordKind.RECEIVING], latest_day):
        ids = [e.id for e in entries]
        records = {r.entry_id: r for r in db.session.scalars(
            select(ReceivingRecord).where(ReceivingRecord.entry_id.in_(ids)))}
        until: dict[int, date] = {}
        for item in db.session.scalars(select(ReceivingItem).where(ReceivingItem.entry_id.in_(ids))):
            kept = item_kept_until(item, _day_of(records[item.entry_id]))
            until[item.entry_id] = max(until.get(item.entry_id, kept), kept)
        for entry in entries:
            out[entry.id] = (entry, records[entry.id].supplier_id,
                             until.get(entry.id, years_after(_day_of(records[entry.id]))))
    return out


def _day_of(record: ReceivingRecord) -> date:
    from backend.records.services import shanghai_date

    return shanghai_date(record.received_at)


def _supplier_of(entry: RecordEntry) -> int | None:
    if entry.kind == RecordKind.SUPPLIER:
        return entry.record_id
    certificate = db.session.get(SupplierCertificate, entry.id)
    return certificate.supplier_id if certificate else None


def _batch_lookups(entries: list[RecordEntry]) -> tuple[list[Any], dict[int, date]]:
    """A batch's staff, health-certificate and supplier-certificate rows loaded at once (kept referenced, so the
    per-entry ``db.session.get`` below finds them in the session), and each seal's release day."""
    ids = [e.id for e in entries]
    loaded = [row for model in (StaffMember, HealthCertificate, SupplierCertificate)
              for row in db.session.scalars(select(model).where(model.entry_id.in_(ids)))]
    seal_ids = [e.id for e in entries if e.kind == RecordKind.SEAL]
    released = dict(db.session.execute(
        select(SealRelease.seal_id, RecordEntry.record_date).join(RecordEntry, SealRelease.entry_id == RecordEntry.id)
        .where(SealRelease.seal_id.in_(seal_ids))).all()) if seal_ids else {}
    return loaded, released


def _register_kept_until(entry: RecordEntry, released: dict[int, date]) -> date | None:
    """When a staff, health-certificate or seal record stops being required; None while it must be kept.
    ``released``: the release day of each released seal."""
    if entry.kind == RecordKind.STAFF:
        staff = db.session.get(StaffMember, entry.id)
        return None if staff.active else years_after(entry.record_date)
    if entry.kind == RecordKind.HEALTH_CERTIFICATE:
        certificate = db.session.get(HealthCertificate, entry.id)
        return years_after(max(certificate.valid_until, entry.record_date))
    if entry.kind == RecordKind.SEAL:
        release_day = released.get(entry.id)
        return None if release_day is None else years_after(release_day)
    return years_after(entry.record_date)


def removable_records(canteen: Canteen, on: date) -> list[Removable]:
    """The canteen's records whose keeping time ended before ``on``, oldest end first."""
    found: list[Removable] = []
    receivings = _receivings(canteen.id, add_months(on, -AFTER_SHELF_LIFE_MONTHS))
    supplier_until: dict[int, date] = {}
    for entry, supplier_id, kept_until in receivings.values():
        supplier_until[supplier_id] = max(supplier_until.get(supplier_id, kept_until), kept_until)
        if kept_until < on:
            found.append(Removable(entry, kept_until))
    # Every other kind is kept at least two years after its day.
    others = [k.value for k in RecordKind if k != RecordKind.RECEIVING]
    latest = add_months(on, -12 * DEFAULT_YEARS) - timedelta(days=1)
    supplier_kinds = (RecordKind.SUPPLIER, RecordKind.CERTIFICATE)
    receivings_until: dict[int | None, date] = {}  # per supplier: one query each, not one per record
    for entries in _entries(canteen.id, others, latest):
        _loaded, released = _batch_lookups(entries)
        for entry in entries:
            kept_until = _register_kept_until(entry, released)
            if kept_until is not None and entry.kind in supplier_kinds:
                supplier_id = _supplier_of(entry)
                if supplier_id not in receivings_until:
                    receivings_until[supplier_id] = _supplier_receivings_until(canteen.id, supplier_id,
                                                                               supplier_until, on)
                kept_until = max(kept_until, receivings_until[supplier_id])
            if kept_until is not None and kept_until < on:
                found.append(Removable(entry, kept_until))
    return sorted(found, key=lambda r: (r.kept_until, r.entry.record_id))


def _supplier_receivings_until(canteen_id: int, supplier_id: int | None, known: dict[int, date], on: date) -> date:
    """The day the supplier's last receiving stops being required (``on`` when one received lately is not
    among the ones loaded: it is kept at least six months more)."""
    if supplier_id is None:
        return date.min
    recent = db.session.scalar(
        select(RecordEntry.id).join(ReceivingRecord, ReceivingRecord.entry_id == RecordEntry.id)
        .where(RecordEntry.canteen_id == canteen_id, is_current(), ReceivingRecord.supplier_id == supplier_id,
               RecordEntry.record_date > add_months(on, -AFTER_SHELF_LIFE_MONTHS)).limit(1))
    if recent is not None:
        return on
    return known.get(supplier_id, date.min)


def removable_report(canteen: Canteen, on: date, now: Any, *, limit: int, offset: int) -> dict[str, Any]:
    """The API's answer: the canteen's records past their keeping time on ``on``, a page of them, and the rules."""
    found = removable_records(canteen, on)
    return {"school_id": canteen.school_id, "canteen_id": canteen.id, "canteen_name": canteen.name,
            "on": on.isoformat(), "generated_at": shanghai_iso(now), "total": len(found),
            "items": [r.as_dict() for r in found[offset:offset + limit]],
            "rules": [{"kind": kind.value, "kind_label": kind.label, "rule": RULES.get(kind, OTHER_RULE)}
                      for kind in RecordKind]}
