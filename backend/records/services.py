"""Writing canteen records: validation of every rule, append to the canteen's chain, amendments.

Every write goes through :func:`create_record` or :func:`amend_record`: check the caller may write the
canteen's records, return the earlier result of a repeated ``Idempotency-Key``, validate the record, lock
the canteen's chain head, re-check what could have changed meanwhile (duplicates), append and commit.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select

from backend.errors import ApiError, not_found
from backend.extensions import db
from backend.permissions import Action, Principal, require
from backend.records import certificate_readings, idempotency
from backend.records.chain import lock_head, seal_entry, start_entry
from backend.records.idempotency import actor_id
from backend.records.models import (
    CERTIFICATE_LABELS,
    FRESH_PRODUCE,
    KIND_LABELS,
    AccompaniedMeal,
    DishIngredient,
    DisinfectionLog,
    DisinfectionMethod,
    DisinfectionTarget,
    Menu,
    MenuDish,
    ReceivingItem,
    ReceivingRecord,
    RecordAttachment,
    RecordEntry,
    RecordKind,
    SampleDisposal,
    SampleLog,
    StorageCondition,
    Supplier,
    SupplierCertificate,
    Upload,
)
from backend.records.supplier_certificates import newest_certificates
from backend.records.versions import current_version, is_current, item_logical_in, logical_id
from backend.schools.models import Canteen, KitchenArea
from backend.timeutil import SHANGHAI, as_utc, shanghai_iso, utcnow

# Rules of GB 31654-2021 for retained samples.
SAMPLE_MIN_WEIGHT_G = 125.0
SAMPLE_FRIDGE_MIN_C = 0.0
SAMPLE_FRIDGE_MAX_C = 8.0
SAMPLE_RETENTION = timedelta(hours=48)
# Cold chain on arrival: chilled goods at most 8 °C, frozen goods at most -12 °C.
CHILLED_MAX_C = 8.0
FROZEN_MAX_C = -12.0
# Phones' clocks drift: a time this far ahead of the server is still "now".
FUTURE_TOLERANCE = timedelta(minutes=5)

# Minimums of the 餐饮服务食品安全操作规范 per method: (temperature °C, minutes, chlorine mg/L).
DISINFECTION_MINIMUMS: dict[str, tuple[float | None, float | None, float | None]] = {
    DisinfectionMethod.STEAM: (100.0, 10.0, None),
    DisinfectionMethod.BOILING: (100.0, 10.0, None),
    DisinfectionMethod.INFRARED: (120.0, 10.0, None),
    DisinfectionMethod.DISHWASHER: (85.0, None, None),
    DisinfectionMethod.CHEMICAL: (None, 5.0, 250.0),
    DisinfectionMethod.ULTRAVIOLET: (None, 30.0, None),
}
FIELD_LABELS = {"temperature_c": "温度", "minutes": "时长", "concentration_mg_l": "有效氯浓度"}
FIELD_UNITS = {"temperature_c": "°C", "minutes": "分钟", "concentration_mg_l": "mg/L"}
IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/webp"})
DOCUMENT_TYPES = IMAGE_TYPES | {"application/pdf"}


@dataclass(frozen=True)
class WriteResult:
    """What a create or amendment produced (or, for a repeated Idempotency-Key, had produced)."""

    record_id: int
    version_id: int
    replayed: bool


@dataclass
class Prepared:
    """A validated record, ready to append: its day, how to build its rows, and checks to run under the lock."""

    record_date: date
    build: Callable[[RecordEntry], None]
    check_locked: Callable[[], None] = lambda: None
    # Runs after the entry is sealed into the chain, in the same transaction (an audit row).
    after: Callable[[RecordEntry], None] = lambda entry: None


def shanghai_date(value: datetime) -> date:
    """The Asia/Shanghai calendar day of an instant."""
    return as_utc(value).astimezone(SHANGHAI).date()


def _fail(status: int, code: str, message: str, **details: Any) -> ApiError:
    return ApiError(status, code, message, details)


def _field_of(details: dict[str, Any]) -> str | None:
    # Rules about one delivered item name its line; the field is then the item list.
    return details.get("field") or ("items" if "line" in details else None)


class BrokenRules(ApiError):
    """A 422 naming every rule a record breaks: code and message of the first, ``details.errors`` all of them.

    ``details`` also keeps the first rule's own details at its top level, as a single broken rule has them.
    """

    def __init__(self, errors: list[ApiError]) -> None:
        first = errors[0]
        listed = [{"code": e.code, "message": e.message, "field": _field_of(e.detail), **e.detail} for e in errors]
        super().__init__(422, first.code, first.message, {**first.detail, "errors": listed})


class RuleBreaches:
    """Collects the rules a record breaks, so the client hears of all of them in one answer, not one per try."""

    def __init__(self) -> None:
        self.errors: list[ApiError] = []

    def add(self, error: ApiError) -> None:
        """Record a broken rule and go on checking."""
        self.errors.append(error)

    @contextmanager
    def check(self) -> Iterator[None]:
        """Run a check that raises: its 422 is recorded and checking goes on; any other error stops at once."""
        try:
            yield
        except BrokenRules:
            raise
        except ApiError as error:
            if error.status_code != 422:
                raise
            self.errors.append(error)

    def raise_any(self) -> None:
        """Raise :class:`BrokenRules` if a rule was broken."""
        if self.errors:
            raise BrokenRules(self.errors)


def _not_future(value: datetime, now: datetime, field: str) -> datetime:
    value = as_utc(value)
    if value > now + FUTURE_TOLERANCE:
        raise _fail(422, "time_in_future", "时间不能晚于当前时间", field=field)
    return value


# Attachments -------------------------------------------------------------------------------------------
def _uploads(canteen: Canteen, ids: list[int], allowed_types: frozenset[str], field: str) -> list[Upload]:
    """Uploads to attach: they exist, were uploaded for this canteen and are of an allowed type."""
    if len(set(ids)) != len(ids):
        raise _fail(422, "duplicate_upload", "同一文件不能重复附加", field=field)
    if not ids:
        return []
    found = {u.id: u for u in db.session.scalars(select(Upload).where(Upload.id.in_(ids)))}
    for upload_id in ids:
        upload = found.get(upload_id)
        if upload is None or upload.canteen_id != canteen.id:
            raise _fail(422, "upload_not_found", "附件不存在或不属于该食堂", field=field, upload_id=upload_id)
        if upload.content_type not in allowed_types:
            raise _fail(422, "upload_type_not_allowed", "该处只能附加照片" if allowed_types == IMAGE_TYPES
                        else "附件类型不符合要求", field=field, upload_id=upload_id)
    return [found[i] for i in ids]


def _attach(entry: RecordEntry, role: str, uploads: list[Upload]) -> None:
    for position, upload in enumerate(uploads):
        db.session.add(RecordAttachment(entry_id=entry.id, upload_id=upload.id, role=role, position=position))


# Suppliers and certificates ----------------------------------------------------------------------------
def _prepare_supplier(canteen: Canteen, values: dict[str, Any], now: datetime, amend: RecordEntry | None) -> Prepared:
    name = values["name"].strip()

    def check_locked() -> None:
        query = (select(RecordEntry.id).join(Supplier, Supplier.entry_id == RecordEntry.id)
                 .where(RecordEntry.canteen_id == canteen.id, is_current(), Supplier.name == name))
        if amend is not None:
            query = query.where(logical_id() != amend.record_id)
        existing = db.session.scalar(query.limit(1))
        if existing is not None:
            raise _fail(409, "supplier_exists", "该食堂已有同名供应商", record_id=existing)

    def build(entry: RecordEntry) -> None:
        db.session.add(Supplier(entry_id=entry.id, name=name, credit_code=values.get("credit_code"),
                                contact_name=values.get("contact_name"), phone=values.get("phone"),
                                address=values.get("address"), remarks=values.get("remarks")))

    return Prepared(shanghai_date(now), build, check_locked)


def _supplier(canteen: Canteen, supplier_id: int) -> RecordEntry:
    supplier = current_version(supplier_id, canteen_id=canteen.id, kind=RecordKind.SUPPLIER)
    if supplier is None:
        raise _fail(422, "supplier_not_found", "供应商不存在或不属于该食堂", field="supplier_id")
    return supplier


def _prepare_certificate(canteen: Canteen, values: dict[str, Any], now: datetime,
                         amend: RecordEntry | None) -> Prepared:
    supplier = _supplier(canteen, values["supplier_id"])
    if values.get("valid_from") and values["valid_from"] > values["valid_until"]:
        raise _fail(422, "validity_reversed", "有效期起始日期不能晚于截止日期", field="valid_from")
    scans = _uploads(canteen, values["scan_upload_ids"], DOCUMENT_TYPES, "scan_upload_ids")
    reading = certificate_readings.reading_for_record(values, canteen, values["kind"])

    def build(entry: RecordEntry) -> None:
        number = values["number"].strip()
        db.session.add(SupplierCertificate(entry_id=entry.id, supplier_id=supplier.record_id, kind=values["kind"],
                                      number=number, issuer=values.get("issuer"),
                                      valid_from=values.get("valid_from"), valid_until=values["valid_until"]))
        _attach(entry, "scan", scans)
        certificate_readings.confirm(reading, entry, {
            "number": number, "holder": db.session.get(Supplier, supplier.id).name,
            "valid_from": values.get("valid_from"), "valid_until": values["valid_until"],
            "issuer": values.get("issuer")}, now)

    return Prepared(shanghai_date(now), build)


# Receiving ---------------------------------------------------------------------------------------------
def expiry_of(item: dict[str, Any], line: int) -> date | None:
    """The last day an item may be used: printed expiry date, or production date + shelf life - 1 day."""
    production, shelf_life, printed = item.get("production_date"), item.get("shelf_life_days"), item.get("expiry_date")
    computed = production + timedelta(days=shelf_life - 1) if production and shelf_life else None
    if printed and computed and printed != computed:
        raise _fail(422, "expiry_mismatch", "保质期截止日期与生产日期、保质期天数不一致", line=line,
                    expected=computed.isoformat())
    return printed or computed


def _check_item(item: dict[str, Any], line: int, received_on: date, rules: RuleBreaches) -> date | None:
    """The rules of one delivered item (each broken one goes to ``rules``); returns its expiry date."""
    if item.get("production_date") and item["production_date"] > received_on:
        rules.add(_fail(422, "production_date_in_future", "生产日期不能晚于收货日期", line=line))
    try:
        expiry = expiry_of(item, line)
    except ApiError as error:  # the dates disagree: no expiry to judge the item by
        rules.add(error)
        expiry = None
    else:
        if expiry is None and item["category"] not in FRESH_PRODUCE:
            rules.add(_fail(422, "shelf_life_required", "请填写生产日期和保质期（或保质期截止日期）", line=line,
                            ingredient=item["ingredient"]))
    if expiry is not None and expiry < received_on:
        rules.add(_fail(422, "item_expired", f"「{item['ingredient']}」已过保质期（{expiry.isoformat()}），不得验收",
                        line=line, ingredient=item["ingredient"], expiry_date=expiry.isoformat()))
    storage, temperature = item.get("storage") or StorageCondition.AMBIENT, item.get("storage_temperature_c")
    if storage in (StorageCondition.CHILLED, StorageCondition.FROZEN):
        limit = CHILLED_MAX_C if storage == StorageCondition.CHILLED else FROZEN_MAX_C
        if temperature is None:
            rules.add(_fail(422, "storage_temperature_required", "冷藏、冷冻食品须记录到货温度", line=line))
        elif temperature > limit:
            rules.add(_fail(422, "cold_chain_broken",
                            f"「{item['ingredient']}」到货温度 {temperature:g}°C 高于 {limit:g}°C，不得验收",
                            line=line, ingredient=item["ingredient"], maximum=limit))
    return expiry


def _items_in_use(logical_ids: set[int]) -> set[int]:
    """Which of these item ids are linked from a current menu."""
    if not logical_ids:
        return set()
    rows = db.session.scalars(
        select(DishIngredient.item_id).join(MenuDish, MenuDish.id == DishIngredient.dish_id)
        .join(RecordEntry, RecordEntry.id == MenuDish.entry_id)
        .where(DishIngredient.item_id.in_(logical_ids), is_current()))
    return set(rows)


def _prepare_receiving(canteen: Canteen, values: dict[str, Any], now: datetime,
                       amend: RecordEntry | None) -> Prepared:
    rules = RuleBreaches()
    supplier: RecordEntry | None = None
    with rules.check():
        supplier = _supplier(canteen, values["supplier_id"])
    received_at = as_utc(values["received_at"])
    with rules.check():
        _not_future(received_at, now, "received_at")
    received_on = shanghai_date(received_at)
    accepted_expired = _accepted_expired_reason(supplier, received_on, values.get("accepted_expired_reason"), rules)
    items = values["items"]
    expiries = [_check_item(item, line, received_on, rules) for line, item in enumerate(items, start=1)]
    previous_ids: set[int] = set()
    if amend is not None:
        previous_ids = {i.logical_id for i in db.session.scalars(
            select(ReceivingItem).where(ReceivingItem.entry_id == amend.id))}
    carried = [item.get("item_id") for item in items if item.get("item_id") is not None]
    if len(set(carried)) != len(carried):
        rules.add(_fail(422, "duplicate_item", "同一明细不能出现两次", field="items"))
    unknown = [i for i in carried if i not in previous_ids]
    if unknown:
        rules.add(_fail(422, "item_not_in_record", "明细不属于该进货记录", item_ids=unknown))
    with rules.check():
        reports = _uploads(canteen, values["inspection_report_upload_ids"], DOCUMENT_TYPES,
                           "inspection_report_upload_ids")
    with rules.check():
        invoices = _uploads(canteen, values["invoice_upload_ids"], DOCUMENT_TYPES, "invoice_upload_ids")
    rules.raise_any()

    def check_locked() -> None:
        removed = _items_in_use(previous_ids - set(carried))
        if removed:
            raise _fail(409, "item_in_use", "被删除的明细已被菜单引用，请保留该明细", item_ids=sorted(removed))

    def build(entry: RecordEntry) -> None:
        db.session.add(ReceivingRecord(entry_id=entry.id, supplier_id=supplier.record_id, received_at=received_at,
                                       receiver_name=values["receiver_name"], remarks=values.get("remarks"),
                                       accepted_expired_reason=accepted_expired))
        for line, (item, expiry) in enumerate(zip(items, expiries, strict=True), start=1):
            db.session.add(ReceivingItem(
                entry_id=entry.id, line_no=line, origin_item_id=item.get("item_id"), ingredient=item["ingredient"],
                category=item["category"], batch=item["batch"], quantity=float(item["quantity"]), unit=item["unit"],
                production_date=item.get("production_date"), shelf_life_days=item.get("shelf_life_days"),
                expiry_date=expiry, storage=item.get("storage") or StorageCondition.AMBIENT,
                storage_temperature_c=_float(item.get("storage_temperature_c"))))
        _attach(entry, "inspection_report", reports)
        _attach(entry, "invoice", invoices)

    return Prepared(received_on, build, check_locked)


def _accepted_expired_reason(supplier: RecordEntry | None, received_on: date, reason: str | None,
                             rules: RuleBreaches) -> str | None:
    """The reason for accepting goods from a supplier with a licence expired on the day, which such a delivery
    must give (else a broken rule naming the licences, at the door rather than in the next rules run); ``None``
    when every licence was valid."""
    if supplier is None:
        return None
    expired = sorted((until, kind) for (_, kind), until in newest_certificates({supplier.record_id}).items()
                     if until < received_on)
    if not expired:
        return None
    if reason and reason.strip():
        return reason.strip()
    name = db.session.get(Supplier, supplier.id).name
    listed = "、".join(f"{CERTIFICATE_LABELS.get(kind, kind)}（{until.isoformat()} 到期）" for until, kind in expired)
    rules.add(_fail(422, "supplier_certificate_expired",
                    f"供应商「{name}」的{listed}已过期：请拒收，或填写仍然接收的理由", field="accepted_expired_reason",
                    certificates=[{"kind": kind, "valid_until": until.isoformat()} for until, kind in expired]))
    return None


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


# Menus -------------------------------------------------------------------------------------------------
def current_items(canteen_id: int, logical_ids: list[int]) -> dict[int, tuple[ReceivingItem, ReceivingRecord]]:
    """Current versions of received items (by logical id) with their receiving record."""
    if not logical_ids:
        return {}
    rows = db.session.execute(
        select(ReceivingItem, ReceivingRecord).join(RecordEntry, RecordEntry.id == ReceivingItem.entry_id)
        .join(ReceivingRecord, ReceivingRecord.entry_id == RecordEntry.id)
        .where(RecordEntry.canteen_id == canteen_id, is_current(),
               item_logical_in(logical_ids))).all()
    return {item.logical_id: (item, record) for item, record in rows}


def _keep_sampled_dishes(menu: RecordEntry, service_date: date, meal: str, names: list[str]) -> None:
    """A menu's correction keeps what its retained samples are of: a sample names its menu, day, meal and dish (by
    name), so a sampled dish is not renamed or removed and a sampled menu keeps its day and meal (409)."""
    sampled = sorted(set(db.session.scalars(
        select(SampleLog.dish_name).join(RecordEntry, RecordEntry.id == SampleLog.entry_id)
        .where(SampleLog.menu_id == menu.record_id, is_current()))))
    if not sampled:
        return
    kept = db.session.get(Menu, menu.id)
    if (kept.service_date, kept.meal) != (service_date, meal):
        raise _fail(409, "menu_sampled", "该菜单已有留样，不能更改供餐日期或餐次", field="service_date",
                    dishes=sampled)
    dropped = [name for name in sampled if name not in names]
    if dropped:
        raise _fail(409, "dish_sampled", f"「{'」「'.join(dropped)}」已留样，不能删除或改名", field="dishes",
                    dishes=dropped)


def _prepare_menu(canteen: Canteen, values: dict[str, Any], now: datetime, amend: RecordEntry | None) -> Prepared:
    service_date, meal, dishes = values["service_date"], values["meal"], values["dishes"]
    names = [d["name"].strip() for d in dishes]
    if len(set(names)) != len(names):
        raise _fail(422, "duplicate_dish", "同一餐次的菜品名称不能重复", field="dishes")
    wanted = sorted({i for d in dishes for i in d["ingredient_item_ids"]})
    found = current_items(canteen.id, wanted)
    for position, dish in enumerate(dishes, start=1):
        if len(set(dish["ingredient_item_ids"])) != len(dish["ingredient_item_ids"]):
            raise _fail(422, "duplicate_ingredient", "同一菜品不能重复关联同一原料", dish=dish["name"])
        for item_id in dish["ingredient_item_ids"]:
            pair = found.get(item_id)
            if pair is None or shanghai_date(pair[1].received_at) > service_date:
                raise _fail(422, "ingredient_not_found", "关联的原料不存在，或在供餐日期之后才验收",
                            dish=dish["name"], position=position, item_id=item_id)
            item = pair[0]
            if item.expiry_date is not None and item.expiry_date < service_date:
                raise _fail(422, "ingredient_expired",
                            f"「{dish['name']}」使用的「{item.ingredient}」已于 {item.expiry_date.isoformat()} 过期",
                            dish=dish["name"], item_id=item_id, expiry_date=item.expiry_date.isoformat())
    refuse_sealed(canteen.id, items=wanted, use="用于菜单")

    def check_locked() -> None:
        refuse_sealed(canteen.id, items=wanted, use="用于菜单")
        query = (select(RecordEntry.id, RecordEntry.root_id).join(Menu, Menu.entry_id == RecordEntry.id)
                 .where(RecordEntry.canteen_id == canteen.id, is_current(), Menu.service_date == service_date,
                        Menu.meal == meal))
        if amend is not None:
            query = query.where(logical_id() != amend.record_id)
        existing = db.session.execute(query.limit(1)).first()
        if existing is not None:
            raise _fail(409, "menu_exists", "该餐次已有菜单，如需修改请提交更正", record_id=existing[1] or existing[0])
        if amend is not None:
            _keep_sampled_dishes(amend, service_date, meal, names)

    def build(entry: RecordEntry) -> None:
        db.session.add(Menu(entry_id=entry.id, service_date=service_date, meal=meal, remarks=values.get("remarks")))
        for position, (dish, name) in enumerate(zip(dishes, names, strict=True), start=1):
            row = MenuDish(entry_id=entry.id, position=position, name=name, category=dish.get("category"))
            db.session.add(row)
            db.session.flush()
            for link_position, item_id in enumerate(dish["ingredient_item_ids"], start=1):
                db.session.add(DishIngredient(dish_id=row.id, item_id=item_id, position=link_position))

    return Prepared(service_date, build, check_locked)


# Disinfection ------------------------------------------------------------------------------------------
def check_disinfection(method: str, target: str, values: dict[str, Any], rules: RuleBreaches) -> None:
    """Refuse a disinfection that does not reach its method's minimum temperature, time or concentration."""
    if method == DisinfectionMethod.ULTRAVIOLET and target == DisinfectionTarget.TABLEWARE:
        rules.add(_fail(422, "method_not_for_target", "紫外线消毒只适用于场所，不适用于餐饮具", field="method"))
    minimums = dict(zip(("temperature_c", "minutes", "concentration_mg_l"), DISINFECTION_MINIMUMS[method],
                        strict=True))
    for field, minimum in minimums.items():
        if minimum is None:
            continue
        value = values.get(field)
        if value is None:
            rules.add(_fail(422, "disinfection_field_required", f"请填写消毒{FIELD_LABELS[field]}", field=field))
        elif value < minimum:
            rules.add(_fail(422, "disinfection_insufficient",
                            f"消毒{FIELD_LABELS[field]}不足：至少 {minimum:g} {FIELD_UNITS[field]}",
                            field=field, minimum=minimum, value=value))


def _prepare_disinfection(canteen: Canteen, values: dict[str, Any], now: datetime,
                          amend: RecordEntry | None) -> Prepared:
    target, method = values["target"], values["method"]
    rules = RuleBreaches()
    check_disinfection(method, target, values, rules)
    with rules.check():
        performed_at = _not_future(values.get("performed_at") or now, now, "performed_at")
    area_name = None
    if values.get("area_id") is not None:
        area = db.session.get(KitchenArea, values["area_id"])
        if area is None or area.canteen_id != canteen.id:
            rules.add(_fail(422, "area_not_found", "区域不存在或不属于该食堂", field="area_id"))
        else:
            area_name = area.name
            with rules.check():
                refuse_sealed(canteen.id, areas=[area.id], use="在其中作业")
    if target == DisinfectionTarget.TABLEWARE and not values.get("item_count"):
        rules.add(_fail(422, "item_count_required", "餐饮具消毒须填写件数", field="item_count"))
    target_name = values.get("target_name") or area_name or ("餐饮具" if target == DisinfectionTarget.TABLEWARE
                                                             else None)
    if not target_name and values.get("area_id") is None:  # an unknown area is already named above
        rules.add(_fail(422, "target_name_required", "请填写消毒场所或选择区域", field="target_name"))
    with rules.check():
        photos = _uploads(canteen, values["photo_upload_ids"], IMAGE_TYPES, "photo_upload_ids")
    rules.raise_any()

    def build(entry: RecordEntry) -> None:
        db.session.add(DisinfectionLog(
            entry_id=entry.id, service_date=values["service_date"], meal=values["meal"], target=target,
            area_id=values.get("area_id"), target_name=target_name, method=method,
            temperature_c=_float(values.get("temperature_c")), minutes=_float(values.get("minutes")),
            concentration_mg_l=_float(values.get("concentration_mg_l")), item_count=values.get("item_count"),
            performed_at=performed_at, operator_name=values["operator_name"]))
        _attach(entry, "photo", photos)

    return Prepared(values["service_date"], build)


# Samples -----------------------------------------------------------------------------------------------
def check_sample(weight_g: float, fridge_temperature_c: float, sealed: bool, rules: RuleBreaches) -> None:
    """The GB 31654-2021 rules a sample must meet when it is recorded (each broken one goes to ``rules``)."""
    if weight_g < SAMPLE_MIN_WEIGHT_G:
        rules.add(_fail(422, "sample_weight_too_low", f"留样重量不得少于 {SAMPLE_MIN_WEIGHT_G:g} 克",
                        field="weight_g", minimum=SAMPLE_MIN_WEIGHT_G, value=weight_g))
    if not SAMPLE_FRIDGE_MIN_C <= fridge_temperature_c <= SAMPLE_FRIDGE_MAX_C:
        rules.add(_fail(422, "sample_fridge_temperature_out_of_range",
                        f"留样冰箱温度应在 {SAMPLE_FRIDGE_MIN_C:g}–{SAMPLE_FRIDGE_MAX_C:g}°C 之间",
                        field="fridge_temperature_c", minimum=SAMPLE_FRIDGE_MIN_C, maximum=SAMPLE_FRIDGE_MAX_C))
    if not sealed:
        rules.add(_fail(422, "sample_not_sealed", "留样须密封保存", field="sealed"))


def _prepare_sample(canteen: Canteen, values: dict[str, Any], now: datetime, amend: RecordEntry | None) -> Prepared:
    rules = RuleBreaches()
    check_sample(values["weight_g"], values["fridge_temperature_c"], values["sealed"], rules)
    with rules.check():
        sampled_at = _not_future(values["sampled_at"], now, "sampled_at")
    row = db.session.execute(
        select(MenuDish, Menu, RecordEntry).join(RecordEntry, RecordEntry.id == MenuDish.entry_id)
        .join(Menu, Menu.entry_id == RecordEntry.id)
        .where(MenuDish.id == values["dish_id"], RecordEntry.canteen_id == canteen.id, is_current())).first()
    if row is None:
        rules.add(_fail(422, "dish_not_found", "菜品不存在或不在该食堂的现行菜单中", field="dish_id"))
    else:
        with rules.check():
            off_food_handling(canteen.id, row[1].service_date, values["sampler_name"], "sampler_name")
    with rules.check():
        photos = _uploads(canteen, values["photo_upload_ids"], IMAGE_TYPES, "photo_upload_ids")
    rules.raise_any()
    dish, menu, menu_entry = row

    def check_locked() -> None:
        query = (select(RecordEntry.id, RecordEntry.root_id).join(SampleLog, SampleLog.entry_id == RecordEntry.id)
                 .where(RecordEntry.canteen_id == canteen.id, is_current(),
                        SampleLog.service_date == menu.service_date, SampleLog.meal == menu.meal,
                        SampleLog.dish_name == dish.name))
        if amend is not None:
            query = query.where(logical_id() != amend.record_id)
        existing = db.session.execute(query.limit(1)).first()
        if existing is not None:
            raise _fail(409, "sample_exists", f"「{dish.name}」本餐次已留样", record_id=existing[1] or existing[0])

    def build(entry: RecordEntry) -> None:
        db.session.add(SampleLog(
            entry_id=entry.id, service_date=menu.service_date, meal=menu.meal, menu_id=menu_entry.record_id,
            dish_name=dish.name, weight_g=float(values["weight_g"]), sampled_at=sampled_at, sealed=True,
            fridge_temperature_c=float(values["fridge_temperature_c"]), sampler_name=values["sampler_name"],
            keep_until=sampled_at + SAMPLE_RETENTION))
        _attach(entry, "photo", photos)

    return Prepared(menu.service_date, build, check_locked)


def off_food_handling(canteen_id: int, day: date, name: str, field: str) -> None:
    """Refuse a person who failed the day's morning check (晨检) as the one handling food that day."""
    from backend.records.staff import failed_names

    if name.strip() in failed_names(canteen_id, day):
        raise _fail(422, "failed_morning_check", f"「{name.strip()}」当日晨检不合格，不得从事接触食品的工作",
                    field=field)


def check_disposal_time(sampled_at: datetime, disposed_at: datetime) -> None:
    """A sample is kept at least 48 hours after it was taken."""
    keep_until = as_utc(sampled_at) + SAMPLE_RETENTION
    if as_utc(disposed_at) < keep_until:
        raise _fail(422, "sample_retention_too_short", "留样须保存 48 小时以上，未到期不得处置",
                    keep_until=shanghai_iso(keep_until))


def _prepare_disposal(canteen: Canteen, values: dict[str, Any], now: datetime, amend: RecordEntry | None) -> Prepared:
    sample_entry = current_version(values["sample_id"], canteen_id=canteen.id, kind=RecordKind.SAMPLE)
    if sample_entry is None:
        raise _fail(422, "sample_not_found", "留样记录不存在或不属于该食堂", field="sample_id")
    sample = db.session.get(SampleLog, sample_entry.id)
    disposed_at = _not_future(values.get("disposed_at") or now, now, "disposed_at")
    check_disposal_time(sample.sampled_at, disposed_at)
    refuse_sealed(canteen.id, samples=[sample_entry.record_id], use="处置")

    def check_locked() -> None:
        refuse_sealed(canteen.id, samples=[sample_entry.record_id], use="处置")
        query = (select(RecordEntry.id).join(SampleDisposal, SampleDisposal.entry_id == RecordEntry.id)
                 .where(RecordEntry.canteen_id == canteen.id, is_current(),
                        SampleDisposal.sample_id == sample_entry.record_id))
        if amend is not None:
            query = query.where(logical_id() != amend.record_id)
        if db.session.scalar(query.limit(1)) is not None:
            raise _fail(409, "sample_already_disposed", "该留样已处置")

    def build(entry: RecordEntry) -> None:
        db.session.add(SampleDisposal(entry_id=entry.id, sample_id=sample_entry.record_id, disposed_at=disposed_at,
                                      disposer_name=values["disposer_name"], remarks=values.get("remarks")))

    return Prepared(shanghai_date(disposed_at), build, check_locked)


# Accompanied meals -------------------------------------------------------------------------------------
def _prepare_accompanied(canteen: Canteen, values: dict[str, Any], now: datetime,
                         amend: RecordEntry | None) -> Prepared:
    photos = _uploads(canteen, values["photo_upload_ids"], IMAGE_TYPES, "photo_upload_ids")

    def build(entry: RecordEntry) -> None:
        db.session.add(AccompaniedMeal(
            entry_id=entry.id, service_date=values["service_date"], meal=values["meal"],
            companion_name=values["companion_name"], companion_role=values["companion_role"],
            rating=values["rating"], remarks=values.get("remarks")))
        _attach(entry, "photo", photos)

    return Prepared(values["service_date"], build)


PREPARERS: dict[str, Callable[[Canteen, dict[str, Any], datetime, RecordEntry | None], Prepared]] = {
    RecordKind.SUPPLIER: _prepare_supplier,
    RecordKind.CERTIFICATE: _prepare_certificate,
    RecordKind.RECEIVING: _prepare_receiving,
    RecordKind.MENU: _prepare_menu,
    RecordKind.DISINFECTION: _prepare_disinfection,
    RecordKind.SAMPLE: _prepare_sample,
    RecordKind.SAMPLE_DISPOSAL: _prepare_disposal,
    RecordKind.ACCOMPANIED_MEAL: _prepare_accompanied,
}


def _preparer(kind: str) -> Callable[[Canteen, dict[str, Any], datetime, RecordEntry | None], Prepared]:
    """The preparer of a kind; the staff kinds live in ``records.staff`` and the waste and additive kinds in
    ``records.waste_additives``, which build on this module."""
    if kind not in PREPARERS:
        from backend.records.sealing import SEAL_PREPARERS
        from backend.records.staff import STAFF_PREPARERS
        from backend.records.waste_additives import WASTE_ADDITIVE_PREPARERS

        PREPARERS.update(STAFF_PREPARERS)
        PREPARERS.update(WASTE_ADDITIVE_PREPARERS)
        PREPARERS.update(SEAL_PREPARERS)
    return PREPARERS[kind]


def refuse_sealed(canteen_id: int, *, items: Collection[int] = (), samples: Collection[int] = (),
                  areas: Collection[int] = (),
                  use: str) -> None:
    """Refuse (409) to use a received batch, retained sample or area under a seal (封存); see records.sealing."""
    from backend.records.sealing import refuse_sealed as refuse

    refuse(canteen_id, items=list(items), samples=list(samples), areas=list(areas), use=use)


def check_amendable(entry: RecordEntry) -> None:
    """Refuse to correct a seal or its release, or a record holding something sealed (records.sealing)."""
    from backend.records.sealing import check_amendable as check

    check(entry)


# Writing -----------------------------------------------------------------------------------------------
def _replayed(found: idempotency.Replay, resource_type: str) -> WriteResult:
    entry = db.session.get(RecordEntry, found.resource_id)
    if found.resource_type != resource_type or entry is None:
        raise _fail(422, "idempotency_key_reused", "该 Idempotency-Key 已用于另一个请求，请使用新的 Key")
    return WriteResult(entry.record_id, entry.id, True)


def _write(principal: Principal, canteen: Canteen, kind: str, values: dict[str, Any], *, key: str, fingerprint: str,
           amend: RecordEntry | None, reason: str | None, now: datetime | None,
           action: Action = Action.RECORDS_WRITE) -> WriteResult:
    require(principal, action, canteen.school)
    resource_type = f"record:{kind}"
    user_id = actor_id(principal)
    found = idempotency.lookup(user_id, key, fingerprint)
    if found is not None:
        return _replayed(found, resource_type)
    # A time given by the caller (the demo's past days) is the entry's; otherwise the chain takes it once it holds
    # the canteen's lock, so a writer that waited for the lock never stamps an earlier time than the one before it.
    written_at = as_utc(now) if now is not None else None
    now = as_utc(now or utcnow())
    rules = RuleBreaches()
    with rules.check():  # a preparer that stops at its first broken rule still answers in the listed shape
        prepared = _preparer(kind)(canteen, values, now, amend)
    rules.raise_any()
    found = idempotency.reserve(user_id, key, fingerprint, resource_type)
    if found is not None:
        db.session.rollback()
        return _replayed(found, resource_type)
    try:
        head = lock_head(canteen.id)
        latest = current_version(amend.record_id, canteen_id=canteen.id) if amend is not None else None
        if amend is not None and (latest is None or latest.id != amend.id):
            raise _fail(409, "record_version_conflict", "该记录已被他人更正，请刷新后重试")
        if amend is not None:
            check_amendable(amend)
        prepared.check_locked()
        entry = start_entry(head, kind=kind, record_date=prepared.record_date, actor_id=user_id,
                            root_id=amend.record_id if amend else None, amends_id=amend.id if amend else None,
                            reason=reason, at=written_at)
        prepared.build(entry)
        seal_entry(head, entry)
        prepared.after(entry)
        idempotency.complete(user_id, key, entry.id)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return WriteResult(entry.record_id, entry.id, False)


def create_record(principal: Principal, canteen: Canteen, kind: str, values: dict[str, Any], *,
                  idempotency_key: str, fingerprint: str, now: datetime | None = None) -> WriteResult:
    """Validate and append a new record to the canteen's chain (once per Idempotency-Key). ``now``: when it is
    written (the routes never pass it: the chain's time is the server's; the demo's history writes past days)."""
    return _write(principal, canteen, kind, values, key=idempotency_key, fingerprint=fingerprint, amend=None,
                  reason=None, now=now)


def amend_record(principal: Principal, record_id: int, values: dict[str, Any], reason: str, *,
                 expected_version_id: int | None, idempotency_key: str, fingerprint: str,
                 now: datetime | None = None) -> WriteResult:
    """Correct a record: a new version that points at the current one and says why."""
    current = current_version(record_id)
    if current is None:
        raise not_found("记录")
    canteen = db.session.get(Canteen, current.canteen_id)
    require(principal, Action.RECORDS_WRITE, canteen.school)
    check_amendable(current)
    if expected_version_id is not None and expected_version_id != current.id:
        # A retry of an amendment that already went through is answered by the idempotency key first.
        found = idempotency.lookup(actor_id(principal), idempotency_key, fingerprint)
        if found is None:
            raise _fail(409, "record_version_conflict", "该记录已被更正，请刷新后基于最新版本修改",
                        current_version_id=current.id)
    return _write(principal, canteen, current.kind, values, key=idempotency_key, fingerprint=fingerprint,
                  amend=current, reason=reason.strip(), now=now)


def kind_label(kind: str) -> str:
    """The Chinese name of a record kind."""
    return KIND_LABELS.get(kind, kind)
