"""Record-compliance rules: findings that come from the records themselves (or their absence).

``run_record_rules(day, now)`` is what the scheduler calls (every few minutes, for today and yesterday:
the disinfection deadline of a late meal can fall after midnight). It looks at every canteen in a fixed
number of queries and raises, through ``raise_violation(source="record_rule")``:

- ``sample_missing``: a served meal (one with a menu) whose dishes are not all sampled by the end of its
  window; one violation per meal, naming the missing dishes;
- ``disinfection_missing``: a served meal without a tableware disinfection record two hours after its
  window ends;
- ``certificate_expired``: a supplier whose newest certificate of some kind expired before a day on which
  its goods were received or used in a dish; one violation per expired certificate;
- ``morning_check_missing``: a canteen that serves meals on the day without a morning check (晨检) when its
  first meal window opens; one per canteen and day;
- ``health_certificate_expired``: someone on the day's morning check whose newest health certificate expired
  before that day (or who has none); one violation per person and expired certificate. The text names the
  staff record, never the person: violations reach the committee and the public list.

The idempotency key names the fact, so running the rules again (or concurrently, or after a crash) never
makes a second violation for it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import select

from backend.extensions import db
from backend.records.day import meals_of_day, morning_check_deadline
from backend.records.meal_windows import shanghai_today, window_for
from backend.records.models import (
    CERTIFICATE_LABELS,
    MEAL_LABELS,
    DishIngredient,
    DisinfectionLog,
    DisinfectionTarget,
    Menu,
    MenuDish,
    MorningCheck,
    ReceivingItem,
    ReceivingRecord,
    RecordEntry,
    SampleLog,
    Supplier,
)
from backend.records.staff import morning_checks, newest_valid_until, persons_of
from backend.records.supplier_certificates import newest_certificates
from backend.records.versions import is_current, item_logical_in, logical_id
from backend.schools.models import Canteen
from backend.timeutil import SHANGHAI, as_utc, shanghai_iso
from backend.violations.models import ViolationKind, ViolationSource
from backend.violations.services import RaisedViolation, raise_violation


def _current(model: Any, canteen_ids: list[int] | None, *conditions: Any) -> list[tuple[RecordEntry, Any]]:
    query = select(RecordEntry, model).join(model, model.entry_id == RecordEntry.id).where(is_current(), *conditions)
    if canteen_ids is not None:
        query = query.where(RecordEntry.canteen_id.in_(canteen_ids))
    return [(entry, row) for entry, row in db.session.execute(query.order_by(RecordEntry.id)).all()]


def run_record_rules(day: date, now: datetime, canteen_ids: Iterable[int] | None = None) -> list[RaisedViolation]:
    """Raise the record-rule violations of ``day`` whose deadline has passed at ``now``.

    Returns every violation the facts of that day correspond to; ``created`` is False for those that
    already existed. Each violation is committed on its own, so an interrupted run loses nothing.
    """
    now = as_utc(now)
    ids = None if canteen_ids is None else sorted(set(canteen_ids))
    raised: list[RaisedViolation] = []
    raised += _meal_rules(day, now, ids)
    raised += _morning_check_rule(day, now, ids)
    if day <= shanghai_today(now):
        raised += _certificate_rule(day, ids)
        raised += _health_certificate_rule(day, ids)
    return raised


def _morning_check_rule(day: date, now: datetime, canteen_ids: list[int] | None) -> list[RaisedViolation]:
    query = select(Canteen).order_by(Canteen.id)
    if canteen_ids is not None:
        query = query.where(Canteen.id.in_(canteen_ids))
    canteens = list(db.session.scalars(query))
    ids = [c.id for c in canteens]
    served: dict[int, set[str]] = defaultdict(set)
    for entry, menu in _current(Menu, ids, Menu.service_date == day):
        served[entry.canteen_id].add(menu.meal)
    checked = {entry.canteen_id for entry, _ in morning_checks(ids, day)}
    raised = []
    for canteen in canteens:
        deadline = morning_check_deadline(meals_of_day(canteen, day, served[canteen.id]))
        if deadline is None or now < deadline or canteen.id in checked:
            continue
        raised.append(raise_violation(
            canteen_id=canteen.id, kind=ViolationKind.MORNING_CHECK_MISSING, source=ViolationSource.RECORD_RULE,
            idempotency_key=f"records:morning_check_missing:{canteen.id}:{day.isoformat()}", occurred_at=deadline,
            description=f"{day.isoformat()} 首餐开餐前未完成从业人员晨检",
            details={"date": day.isoformat(), "deadline": shanghai_iso(deadline)}))
    return raised


def _health_certificate_rule(day: date, canteen_ids: list[int] | None) -> list[RaisedViolation]:
    checks = _current(MorningCheck, canteen_ids, MorningCheck.check_date == day)
    persons = persons_of([entry.id for entry, _ in checks])
    present = sorted({(entry.canteen_id, p.staff_id) for entry, _ in checks for p in persons.get(entry.id, [])})
    valid_until = newest_valid_until(staff_id for _, staff_id in present)
    on_duty_from = datetime.combine(day, time(0, 0), tzinfo=SHANGHAI)
    raised = []
    for canteen_id, staff_id in present:
        until = valid_until.get(staff_id)
        if until is not None and until >= day:
            continue
        what = "无健康证" if until is None else f"健康证已于 {until.isoformat()} 过期"
        raised.append(raise_violation(
            canteen_id=canteen_id, kind=ViolationKind.HEALTH_CERTIFICATE_EXPIRED, source=ViolationSource.RECORD_RULE,
            idempotency_key=(f"records:health_certificate_expired:{canteen_id}:{staff_id}:"
                             f"{until.isoformat() if until else 'none'}"),
            occurred_at=on_duty_from,
            description=f"{day.isoformat()} 晨检在岗人员（人员记录 {staff_id}）{what}",
            details={"staff_id": staff_id, "valid_until": until.isoformat() if until else None,
                     "first_on_duty_while_expired": day.isoformat()}))
    return raised


def _meal_rules(day: date, now: datetime, canteen_ids: list[int] | None) -> list[RaisedViolation]:
    menus = _current(Menu, canteen_ids, Menu.service_date == day)
    if not menus:
        return []
    canteens = {c.id: c for c in db.session.scalars(select(Canteen).where(
        Canteen.id.in_({entry.canteen_id for entry, _ in menus})))}
    dishes: dict[int, list[str]] = defaultdict(list)
    for dish in db.session.scalars(select(MenuDish).where(MenuDish.entry_id.in_([e.id for e, _ in menus]))
                                   .order_by(MenuDish.entry_id, MenuDish.position)):
        dishes[dish.entry_id].append(dish.name)
    sampled = {(e.canteen_id, s.meal, s.dish_name) for e, s in _current(SampleLog, canteen_ids,
                                                                         SampleLog.service_date == day)}
    disinfected = {(e.canteen_id, d.meal) for e, d in _current(
        DisinfectionLog, canteen_ids, DisinfectionLog.service_date == day,
        DisinfectionLog.target == DisinfectionTarget.TABLEWARE)}
    raised = []
    for entry, menu in menus:
        canteen = canteens[entry.canteen_id]
        window = window_for(canteen, day, menu.meal)
        meal_label = f"{day.isoformat()} {MEAL_LABELS.get(menu.meal, menu.meal)}"
        details = {"date": day.isoformat(), "meal": menu.meal, "menu_id": entry.record_id}
        if now >= window.sample_deadline:
            missing = [name for name in dishes[entry.id] if (canteen.id, menu.meal, name) not in sampled]
            if missing:
                raised.append(raise_violation(
                    canteen_id=canteen.id, kind=ViolationKind.SAMPLE_MISSING, source=ViolationSource.RECORD_RULE,
                    idempotency_key=f"records:sample_missing:{canteen.id}:{day.isoformat()}:{menu.meal}",
                    occurred_at=window.sample_deadline,
                    description=f"{meal_label}未按规定留样：{'、'.join(missing)}",
                    details={**details, "missing_dishes": missing,
                             "deadline": shanghai_iso(window.sample_deadline)}))
        if now >= window.disinfection_deadline and (canteen.id, menu.meal) not in disinfected:
            raised.append(raise_violation(
                canteen_id=canteen.id, kind=ViolationKind.DISINFECTION_MISSING, source=ViolationSource.RECORD_RULE,
                idempotency_key=f"records:disinfection_missing:{canteen.id}:{day.isoformat()}:{menu.meal}",
                occurred_at=window.disinfection_deadline,
                description=f"{meal_label}无餐饮具消毒记录",
                details={**details, "deadline": shanghai_iso(window.disinfection_deadline)}))
    return raised


def suppliers_in_use(day: date, canteen_ids: list[int] | None) -> dict[int, set[int]]:
    """Supplier record ids per canteen whose goods were received on ``day`` or used in that day's dishes."""
    in_use: dict[int, set[int]] = defaultdict(set)
    received = _current(ReceivingRecord, canteen_ids, RecordEntry.record_date == day)
    for entry, record in received:
        in_use[entry.canteen_id].add(record.supplier_id)
    menus = _current(Menu, canteen_ids, Menu.service_date == day)
    if menus:
        item_ids = list(db.session.scalars(
            select(DishIngredient.item_id).join(MenuDish, MenuDish.id == DishIngredient.dish_id)
            .where(MenuDish.entry_id.in_([e.id for e, _ in menus]))).unique())
        if item_ids:
            rows = db.session.execute(
                select(RecordEntry.canteen_id, ReceivingRecord.supplier_id)
                .join(ReceivingItem, ReceivingItem.entry_id == RecordEntry.id)
                .join(ReceivingRecord, ReceivingRecord.entry_id == RecordEntry.id)
                .where(is_current(), item_logical_in(item_ids))).all()
            for canteen_id, supplier_id in rows:
                in_use[canteen_id].add(supplier_id)
    return in_use


def _certificate_rule(day: date, canteen_ids: list[int] | None) -> list[RaisedViolation]:
    in_use = suppliers_in_use(day, canteen_ids)
    supplier_ids = {s for group in in_use.values() for s in group}
    if not supplier_ids:
        return []
    newest = newest_certificates(supplier_ids)
    names = dict(db.session.execute(
        select(logical_id(), Supplier.name).join(Supplier, Supplier.entry_id == RecordEntry.id)
        .where(is_current(), logical_id().in_(supplier_ids))).all())
    used_from = datetime.combine(day, time(0, 0), tzinfo=SHANGHAI)
    raised = []
    for canteen_id, suppliers in sorted(in_use.items()):
        for supplier_id in sorted(suppliers):
            for (owner, kind), valid_until in sorted(newest.items()):
                if owner != supplier_id or valid_until >= day:
                    continue
                label = CERTIFICATE_LABELS.get(kind, kind)
                raised.append(raise_violation(
                    canteen_id=canteen_id, kind=ViolationKind.CERTIFICATE_EXPIRED,
                    source=ViolationSource.RECORD_RULE,
                    idempotency_key=(f"records:certificate_expired:{canteen_id}:{supplier_id}:{kind}:"
                                     f"{valid_until.isoformat()}"),
                    occurred_at=used_from,
                    description=(f"供应商「{names.get(supplier_id, supplier_id)}」的{label}已于 "
                                 f"{valid_until.isoformat()} 过期，{day.isoformat()} 仍在使用"),
                    details={"supplier_id": supplier_id, "certificate_kind": kind,
                             "valid_until": valid_until.isoformat(), "first_used_while_expired": day.isoformat()}))
    return raised
