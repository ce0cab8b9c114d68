"""One canteen's day as the desk's 台账 shows it, for school staff and regulators.

Everything the canteen recorded for that day, current versions only, each marked when it is an amendment
(``amendment``: which version it corrects and why): the morning check (晨检: who was checked, who may not
handle food that day), receiving records with their files, menus, samples,
sample disposals, disinfection, accompanied meals, waste handed over (餐厨废弃物) and food additives bought
and used (食品添加剂) (``records``, as the record lists present them); the additives' stock at the end of the day
with the people and cabinets of the "five dedicated" rule (``additive_stock``); the
trace of the day's menus (dish → ingredient batches → supplier and certificates, ``trace``, the parents' day
view of this canteen); the certificates (with their scans) of every supplier the day's receivings name; and the
seals (封存, ``records/sealing.py``): those in force now, and those made or released on the day.
A fixed number of statements however many records the day has.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import select

from backend.extensions import db
from backend.records.day import build_overview
from backend.records.models import RecordEntry, RecordKind
from backend.records.presenters import certificates_of, present_records, show_date
from backend.records.sealing import seal_entries, seals_between
from backend.records.versions import is_current
from backend.records.waste_additives import additive_stock
from backend.schools.models import Canteen
from backend.timeutil import shanghai_iso

# The kinds a day holds, in the order the ledger lists them (suppliers and certificates belong to no day).
LEDGER_KINDS = (RecordKind.MORNING_CHECK, RecordKind.RECEIVING, RecordKind.MENU, RecordKind.SAMPLE,
                RecordKind.SAMPLE_DISPOSAL, RecordKind.DISINFECTION, RecordKind.ACCOMPANIED_MEAL,
                RecordKind.WASTE_DISPOSAL, RecordKind.ADDITIVE_PURCHASE, RecordKind.ADDITIVE_USE)


def canteen_ledger(canteen: Canteen, day: date, now: datetime) -> dict[str, Any]:
    """The ledger of ``canteen`` on ``day`` (see the module's docstring)."""
    entries = list(db.session.scalars(
        select(RecordEntry).where(RecordEntry.canteen_id == canteen.id, RecordEntry.record_date == day,
                                  RecordEntry.kind.in_(LEDGER_KINDS), is_current())
        .order_by(RecordEntry.kind, RecordEntry.id)))
    records = present_records(entries, day)
    by_kind: dict[str, list[dict[str, Any]]] = {kind.value: [] for kind in LEDGER_KINDS}
    for record in records:
        by_kind.setdefault(record["kind"], []).append(record)
    overview = build_overview(canteen.school, [canteen], day, now)
    supplier_ids = {r["supplier_id"] for r in by_kind[RecordKind.RECEIVING.value]}
    supplier_ids |= {int(k) for k in overview["suppliers"]}
    certificate_entries = [entry for group in certificates_of(supplier_ids).values() for entry, _ in group
                           if entry.canteen_id == canteen.id]
    certificates: dict[str, list[dict[str, Any]]] = {str(sid): [] for sid in sorted(supplier_ids)}
    for certificate in present_records(certificate_entries, day):
        certificates[str(certificate["supplier_id"])].append(certificate)
    return {"school_id": canteen.school_id, "school_name": canteen.school.name, "canteen_id": canteen.id,
            "canteen_name": canteen.name, "date": show_date(day), "generated_at": shanghai_iso(now),
            "amendments": sum(1 for r in records if r["amendment"] is not None),
            "records": by_kind, "trace": overview["canteens"][0], "receivings": overview["receivings"],
            "suppliers": overview["suppliers"], "certificates": certificates,
            "additive_stock": additive_stock(canteen.id, day),
            "seals": {"in_force": present_records(seal_entries(canteen.id, in_force=True), day),
                      "of_day": present_records(seals_between(canteen.id, day, day), day)}}
