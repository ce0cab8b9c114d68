"""The food-waste ledger (餐厨废弃物台账) and the food-additive ledger (食品添加剂台账) of a canteen.

Three record kinds on the canteen's chain, written through ``services.create_record`` / ``amend_record`` like
every other record (idempotency key, every rule checked at once, amendments):

- ``waste_disposal``: food waste, waste oil or other waste handed over to a collector (company, the person who
  collected it, their licence or agreement number), how many kilograms, when, and which person of the staff
  register handed it over; a disposal dated in the future is refused;
- ``additive_purchase``: a batch of an additive (name, manufacturer, batch, quantity and unit, purchase and
  expiry dates, supplier) with the people and place of the "five dedicated" rule (食品添加剂“五专”): who bought
  it (专人采购), who keeps it (专人保管) and the cabinet it is kept in (专柜存放);
- ``additive_use``: an amount of one batch weighed out for a dish of a meal, who issued it from the cabinet
  (专人领用/发放) and who used it. The ledger itself is the fifth: 专用台账.

Stock is never stored: a batch's remaining quantity is its purchase minus its current uses, and a use (or an
amended purchase) that would make it negative is refused, checked again under the chain's lock.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select

from backend.extensions import db
from backend.records.models import (
    ADDITIVE_UNIT_LABELS,
    MEAL_LABELS,
    WASTE_KIND_LABELS,
    AdditivePurchase,
    AdditiveUse,
    Menu,
    MenuDish,
    RecordEntry,
    RecordKind,
    WasteDisposal,
)
from backend.records.services import (
    IMAGE_TYPES,
    Prepared,
    RuleBreaches,
    _attach,
    _fail,
    _not_future,
    _uploads,
    shanghai_date,
)
from backend.records.staff import current_staff
from backend.records.versions import is_current, logical_id
from backend.timeutil import shanghai_iso

WASTE_ADDITIVE_KINDS = frozenset({RecordKind.WASTE_DISPOSAL, RecordKind.ADDITIVE_PURCHASE,
                                  RecordKind.ADDITIVE_USE})
# Quantities are compared with this slack, so 0.1 + 0.2 of a 0.3 g batch is not refused.
EPSILON = 1e-9


def _amount(quantity: float, unit: str) -> str:
    return f"{quantity:g} {ADDITIVE_UNIT_LABELS.get(unit, unit)}"


# Reads ---------------------------------------------------------------------------------------------------
def current_purchases(canteen_ids: Iterable[int], purchase_ids: Iterable[int] | None = None,
                      on: date | None = None) -> dict[int, AdditivePurchase]:
    """Current purchase rows by purchase record id (all of the canteens', only ``purchase_ids``, or only those
    bought by ``on``)."""
    query = (select(logical_id(), AdditivePurchase).join(AdditivePurchase, AdditivePurchase.entry_id == RecordEntry.id)
             .where(RecordEntry.canteen_id.in_(sorted(set(canteen_ids))), is_current()))
    if purchase_ids is not None:
        query = query.where(logical_id().in_(sorted(set(purchase_ids))))
    if on is not None:
        query = query.where(AdditivePurchase.purchase_date <= on)
    return dict(db.session.execute(query).all())


def used_of(purchase_ids: Iterable[int], *, on: date | None = None, excluding: int | None = None) -> dict[int, float]:
    """How much of each batch current uses took (by ``on`` if given), leaving out use record ``excluding``."""
    wanted = sorted(set(purchase_ids))
    if not wanted:
        return {}
    query = (select(AdditiveUse.purchase_id, func.sum(AdditiveUse.quantity))
             .join(RecordEntry, RecordEntry.id == AdditiveUse.entry_id)
             .where(AdditiveUse.purchase_id.in_(wanted), is_current()).group_by(AdditiveUse.purchase_id))
    if on is not None:
        query = query.where(AdditiveUse.use_date <= on)
    if excluding is not None:
        query = query.where(logical_id() != excluding)
    return {purchase_id: float(total or 0) for purchase_id, total in db.session.execute(query).all()}


def additive_stock(canteen_id: int, on: date) -> dict[str, Any]:
    """The canteen's additive stock at the end of ``on``: per additive (name and unit) the batches bought by then
    with what is left of each, and the people and cabinets of the "five dedicated" rule seen on its records."""
    purchases = current_purchases([canteen_id], on=on)
    used = used_of(purchases, on=on)
    additives: dict[tuple[str, str], dict[str, Any]] = {}
    for purchase_id, row in sorted(purchases.items(), key=lambda p: (p[1].purchase_date, p[0])):
        remaining = max(row.quantity - used.get(purchase_id, 0.0), 0.0)
        group = additives.setdefault((row.additive_name, row.unit), {
            "additive_name": row.additive_name, "unit": row.unit, "unit_label": ADDITIVE_UNIT_LABELS[row.unit],
            "purchased": 0.0, "used": 0.0, "remaining": 0.0, "batches": []})
        group["purchased"] += row.quantity
        group["used"] += used.get(purchase_id, 0.0)
        group["remaining"] += remaining
        group["batches"].append({
            "purchase_id": purchase_id, "batch": row.batch, "manufacturer": row.manufacturer,
            "purchase_date": row.purchase_date.isoformat(),
            "expiry_date": row.expiry_date.isoformat() if row.expiry_date else None,
            "quantity": row.quantity, "used": used.get(purchase_id, 0.0), "remaining": remaining,
            "keeper_name": row.keeper_name, "cabinet": row.cabinet})
    issuers = db.session.scalars(
        select(AdditiveUse.issuer_name).join(RecordEntry, RecordEntry.id == AdditiveUse.entry_id)
        .where(RecordEntry.canteen_id == canteen_id, is_current(), AdditiveUse.use_date <= on).distinct())
    rows = list(purchases.values())
    return {"date": on.isoformat(), "additives": [additives[key] for key in sorted(additives)],
            "dedicated": {"buyers": sorted({r.buyer_name for r in rows}),
                          "keepers": sorted({r.keeper_name for r in rows}),
                          "issuers": sorted(set(issuers)), "cabinets": sorted({r.cabinet for r in rows})}}


# Writing -------------------------------------------------------------------------------------------------
def _kept_handover(amend: RecordEntry | None, staff_id: int) -> bool:
    """A correction keeps the person who handed the waste over, even one who has left since."""
    return amend is not None and db.session.get(WasteDisposal, amend.id).staff_id == staff_id


def prepare_waste_disposal(canteen: Any, values: dict[str, Any], now: datetime, amend: RecordEntry | None) -> Prepared:
    """Waste handed over to a collector, by a person of the staff register, not in the future."""
    rules = RuleBreaches()
    disposed_at = values["disposed_at"]
    with rules.check():
        disposed_at = _not_future(disposed_at, now, "disposed_at")
    member = current_staff(canteen.id, [values["staff_id"]]).get(values["staff_id"])
    if member is None:
        rules.add(_fail(422, "staff_not_found", "交接人不在该食堂的从业人员名单中", field="staff_id"))
    elif not member.active and not _kept_handover(amend, values["staff_id"]):
        rules.add(_fail(422, "staff_inactive", f"「{member.name}」已离职，不能作为交接人", field="staff_id"))
    with rules.check():
        photos = _uploads(canteen, values["photo_upload_ids"], IMAGE_TYPES, "photo_upload_ids")
    rules.raise_any()

    def build(entry: RecordEntry) -> None:
        db.session.add(WasteDisposal(
            entry_id=entry.id, disposed_at=disposed_at, waste_kind=values["waste_kind"],
            quantity_kg=float(values["quantity_kg"]), collector_company=values["collector_company"].strip(),
            collector_name=values["collector_name"].strip(), collector_licence=values.get("collector_licence"),
            staff_id=values["staff_id"], handover_name=member.name, remarks=values.get("remarks")))
        _attach(entry, "photo", photos)

    return Prepared(shanghai_date(disposed_at), build)


def prepare_additive_purchase(canteen: Any, values: dict[str, Any], now: datetime,
                              amend: RecordEntry | None) -> Prepared:
    """A batch bought: not in the future, not expired on arrival; a correction keeps what was already used."""
    rules = RuleBreaches()
    purchase_date, expiry = values["purchase_date"], values.get("expiry_date")
    if purchase_date > shanghai_date(now):
        rules.add(_fail(422, "purchase_date_in_future", "采购日期不能晚于今天", field="purchase_date"))
    if expiry is not None and expiry < purchase_date:
        rules.add(_fail(422, "additive_expired", f"「{values['additive_name']}」采购时已过保质期，不得入库",
                        field="expiry_date"))
    rules.raise_any()

    def check_locked() -> None:
        if amend is None:
            return
        used = used_of([amend.record_id]).get(amend.record_id, 0.0)
        if values["quantity"] + EPSILON < used:
            raise _fail(409, "additive_quantity_below_used",
                        f"该批次已使用 {_amount(used, values['unit'])}，采购数量不能少于已使用量",
                        field="quantity", used=used)
        earliest = db.session.scalar(
            select(func.min(AdditiveUse.use_date)).join(RecordEntry, RecordEntry.id == AdditiveUse.entry_id)
            .where(AdditiveUse.purchase_id == amend.record_id, is_current()))
        if earliest is not None and purchase_date > earliest:
            raise _fail(409, "purchase_after_use", f"该批次 {earliest.isoformat()} 已有使用记录，采购日期不能晚于该日",
                        field="purchase_date", first_use=earliest.isoformat())

    def build(entry: RecordEntry) -> None:
        db.session.add(AdditivePurchase(
            entry_id=entry.id, additive_name=values["additive_name"].strip(),
            manufacturer=values["manufacturer"].strip(), batch=values["batch"].strip(),
            quantity=float(values["quantity"]), unit=values["unit"], purchase_date=purchase_date, expiry_date=expiry,
            supplier_name=values["supplier_name"].strip(), buyer_name=values["buyer_name"].strip(),
            keeper_name=values["keeper_name"].strip(), cabinet=values["cabinet"].strip(),
            remarks=values.get("remarks")))

    return Prepared(purchase_date, build, check_locked)


def _menu_dish(canteen: Any, values: dict[str, Any]) -> str:
    """The dish's name: the chosen dish of the canteen's current menu of that meal, or the name given."""
    if values.get("dish_id") is None:
        if not (values.get("dish_name") or "").strip():
            raise _fail(422, "dish_required", "请选择菜单中的菜品或填写菜品名称", field="dish_name")
        return values["dish_name"].strip()
    row = db.session.execute(
        select(MenuDish, Menu).join(RecordEntry, RecordEntry.id == MenuDish.entry_id)
        .join(Menu, Menu.entry_id == RecordEntry.id)
        .where(MenuDish.id == values["dish_id"], RecordEntry.canteen_id == canteen.id, is_current())).first()
    if row is None:
        raise _fail(422, "dish_not_found", "菜品不存在或不在该食堂的现行菜单中", field="dish_id")
    dish, menu = row
    if menu.service_date != values["use_date"] or menu.meal != values["meal"]:
        raise _fail(422, "dish_not_in_meal", f"「{dish.name}」不在该日该餐次的菜单中", field="dish_id")
    return dish.name


def _check_stock(purchase_id: int, row: AdditivePurchase, quantity: float, amend: RecordEntry | None) -> None:
    """Refuse a use larger than what is left of its batch (the use being corrected does not count)."""
    used = used_of([purchase_id], excluding=amend.record_id if amend is not None else None).get(purchase_id, 0.0)
    remaining = max(row.quantity - used, 0.0)
    if quantity > remaining + EPSILON:
        raise _fail(422, "additive_stock_insufficient",
                    f"「{row.additive_name}」批号 {row.batch} 库存不足：剩余 {_amount(remaining, row.unit)}，"
                    f"本次使用 {_amount(quantity, row.unit)}",
                    field="quantity", remaining=remaining, unit=row.unit)


def prepare_additive_use(canteen: Any, values: dict[str, Any], now: datetime, amend: RecordEntry | None) -> Prepared:
    """An amount of one batch used for a dish: on or after its purchase, before its expiry, within its stock."""
    rules = RuleBreaches()
    use_date, purchase_id = values["use_date"], values["purchase_id"]
    if use_date > shanghai_date(now):
        rules.add(_fail(422, "use_date_in_future", "使用日期不能晚于今天", field="use_date"))
    dish_name = None
    with rules.check():
        dish_name = _menu_dish(canteen, values)
    row = current_purchases([canteen.id], [purchase_id]).get(purchase_id)
    if row is None:
        rules.add(_fail(422, "additive_not_found", "食品添加剂采购记录不存在或不属于该食堂", field="purchase_id"))
    else:
        if use_date < row.purchase_date:
            rules.add(_fail(422, "use_before_purchase",
                            f"使用日期早于该批次的采购日期（{row.purchase_date.isoformat()}）", field="use_date"))
        if row.expiry_date is not None and use_date > row.expiry_date:
            rules.add(_fail(422, "additive_expired", f"「{row.additive_name}」批号 {row.batch} 已过保质期"
                            f"（{row.expiry_date.isoformat()}），不得使用", field="purchase_id"))
        with rules.check():
            _check_stock(purchase_id, row, values["quantity"], amend)
    rules.raise_any()

    def check_locked() -> None:
        _check_stock(purchase_id, row, values["quantity"], amend)

    def build(entry: RecordEntry) -> None:
        db.session.add(AdditiveUse(
            entry_id=entry.id, use_date=use_date, meal=values["meal"], dish_id=values.get("dish_id"),
            dish_name=dish_name, purchase_id=purchase_id, quantity=float(values["quantity"]),
            issuer_name=values["issuer_name"].strip(), user_name=values["user_name"].strip(),
            remarks=values.get("remarks")))

    return Prepared(use_date, build, check_locked)


WASTE_ADDITIVE_PREPARERS = {
    RecordKind.WASTE_DISPOSAL: prepare_waste_disposal,
    RecordKind.ADDITIVE_PURCHASE: prepare_additive_purchase,
    RecordKind.ADDITIVE_USE: prepare_additive_use,
}


# Presenting ----------------------------------------------------------------------------------------------
def presenter(entries: list[RecordEntry], bundle: Any) -> Any:
    """The presenter of waste and additive rows, with the batches and stock they refer to loaded at once."""
    purchase_ids: set[int] = set()
    canteen_ids: set[int] = set()
    for entry in entries:
        if entry.kind == RecordKind.ADDITIVE_PURCHASE:
            purchase_ids.add(entry.record_id)
            canteen_ids.add(entry.canteen_id)
        elif entry.kind == RecordKind.ADDITIVE_USE:
            purchase_ids.add(bundle.typed[entry.id].purchase_id)
            canteen_ids.add(entry.canteen_id)
    purchases = current_purchases(canteen_ids, purchase_ids) if purchase_ids else {}
    used = used_of(purchase_ids)

    def present(entry: RecordEntry, row: Any) -> dict[str, Any]:
        if entry.kind == RecordKind.WASTE_DISPOSAL:
            return {"disposed_at": shanghai_iso(row.disposed_at), "waste_kind": row.waste_kind,
                    "waste_kind_label": WASTE_KIND_LABELS[row.waste_kind], "quantity_kg": row.quantity_kg,
                    "collector_company": row.collector_company, "collector_name": row.collector_name,
                    "collector_licence": row.collector_licence, "staff_id": row.staff_id,
                    "handover_name": row.handover_name, "remarks": row.remarks}
        if entry.kind == RecordKind.ADDITIVE_PURCHASE:
            taken = used.get(entry.record_id, 0.0)
            return {"additive_name": row.additive_name, "manufacturer": row.manufacturer, "batch": row.batch,
                    "quantity": row.quantity, "unit": row.unit, "unit_label": ADDITIVE_UNIT_LABELS[row.unit],
                    "purchase_date": row.purchase_date.isoformat(),
                    "expiry_date": row.expiry_date.isoformat() if row.expiry_date else None,
                    "supplier_name": row.supplier_name, "buyer_name": row.buyer_name, "keeper_name": row.keeper_name,
                    "cabinet": row.cabinet, "remarks": row.remarks, "used": taken,
                    "remaining": max(row.quantity - taken, 0.0)}
        batch = purchases.get(row.purchase_id)
        return {"use_date": row.use_date.isoformat(), "meal": row.meal, "meal_label": MEAL_LABELS[row.meal],
                "dish_id": row.dish_id, "dish_name": row.dish_name, "purchase_id": row.purchase_id,
                "additive_name": getattr(batch, "additive_name", None), "batch": getattr(batch, "batch", None),
                "quantity": row.quantity, "unit": getattr(batch, "unit", None),
                "unit_label": ADDITIVE_UNIT_LABELS.get(getattr(batch, "unit", ""), None),
                "issuer_name": row.issuer_name, "user_name": row.user_name, "remarks": row.remarks}

    return present


def purchases_for_export(canteen_id: int, rows: Iterable[Any], known: dict[int, AdditivePurchase]) -> None:
    """Fill ``known`` with the batches the use rows of an export batch refer to."""
    wanted = {row.purchase_id for row in rows if isinstance(row, AdditiveUse)} - set(known)
    if wanted:
        known.update(current_purchases([canteen_id], wanted))
