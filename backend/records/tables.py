"""Each record kind as a table in words: its columns (Chinese headers) and the rows one version of a record makes.

One reading of a record for people: the export writes these rows as its sheets, and a record's history
(``history.py``) compares the rows of its versions to say what a correction changed. Ids become names (the
supplier, the person, the batch), codes become labels, times are Asia/Shanghai minutes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, datetime
from typing import Any

from backend.records.bundle import Bundle
from backend.records.models import (
    ADDITIVE_UNIT_LABELS,
    CATEGORY_LABELS,
    CERTIFICATE_LABELS,
    CHECK_RESULT_LABELS,
    COMPANION_LABELS,
    MEAL_LABELS,
    METHOD_LABELS,
    STORAGE_LABELS,
    SYMPTOM_LABELS,
    TARGET_LABELS,
    WASTE_KIND_LABELS,
    RecordEntry,
    RecordKind,
)
from backend.records.presenters import CERT_STATUS_LABELS, certificate_status, suppliers_by_id
from backend.records.staff import current_staff, staff_certificates
from backend.records.waste_additives import purchases_for_export
from backend.timeutil import SHANGHAI, as_utc


def show_minute(value: datetime | None) -> str:
    """A stored time as the tables write it (Asia/Shanghai, to the minute); empty for none."""
    return "" if value is None else as_utc(value).astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")


def show_day(value: date | None) -> str:
    """A day as the tables write it (ISO); empty for none."""
    return "" if value is None else value.isoformat()


def _amend(entry: RecordEntry) -> str:
    return entry.reason or "" if entry.amends_id else ""


RowBuilder = Callable[[RecordEntry, Any, dict[str, Any]], Iterator[list[Any]]]


def _supplier_rows(entry: RecordEntry, row: Any, ctx: dict[str, Any]) -> Iterator[list[Any]]:
    yield [entry.record_id, row.name, row.credit_code or "", row.contact_name or "", row.phone or "",
           row.address or "", row.remarks or "", show_minute(entry.created_at), _amend(entry)]


def _certificate_rows(entry: RecordEntry, row: Any, ctx: dict[str, Any]) -> Iterator[list[Any]]:
    status = certificate_status(row.valid_until, ctx["today"])
    yield [entry.record_id, ctx["supplier_name"](row.supplier_id), CERTIFICATE_LABELS.get(row.kind, row.kind),
           row.number, row.issuer or "", show_day(row.valid_from), show_day(row.valid_until),
           CERT_STATUS_LABELS[status], len(ctx["attachments"].get(entry.id, [])), _amend(entry)]


def _receiving_rows(entry: RecordEntry, row: Any, ctx: dict[str, Any]) -> Iterator[list[Any]]:
    files = ctx["attachments"].get(entry.id, [])
    reports = sum(1 for a in files if a.role == "inspection_report")
    invoices = sum(1 for a in files if a.role == "invoice")
    for item in ctx["items"].get(entry.id, []):
        yield [entry.record_id, show_minute(row.received_at), ctx["supplier_name"](row.supplier_id), item.ingredient,
               CATEGORY_LABELS.get(item.category, item.category), item.batch, item.quantity, item.unit,
               show_day(item.production_date), item.shelf_life_days or "", show_day(item.expiry_date),
               STORAGE_LABELS.get(item.storage, item.storage),
               "" if item.storage_temperature_c is None else item.storage_temperature_c, row.receiver_name,
               reports, invoices, row.accepted_expired_reason or "", _amend(entry)]


def _menu_rows(entry: RecordEntry, row: Any, ctx: dict[str, Any]) -> Iterator[list[Any]]:
    for dish in ctx["dishes"].get(entry.id, []):
        ingredients = "；".join(ctx["item_label"](link.item_id) for link in ctx["links"].get(dish.id, []))
        yield [entry.record_id, show_day(row.service_date), MEAL_LABELS.get(row.meal, row.meal), dish.name, ingredients,
               _amend(entry)]


def _disinfection_rows(entry: RecordEntry, row: Any, ctx: dict[str, Any]) -> Iterator[list[Any]]:
    yield [entry.record_id, show_day(row.service_date), MEAL_LABELS.get(row.meal, row.meal),
           TARGET_LABELS.get(row.target, row.target), row.target_name, METHOD_LABELS.get(row.method, row.method),
           "" if row.temperature_c is None else row.temperature_c, "" if row.minutes is None else row.minutes,
           "" if row.concentration_mg_l is None else row.concentration_mg_l, row.item_count or "",
           show_minute(row.performed_at), row.operator_name, _amend(entry)]


def _sample_rows(entry: RecordEntry, row: Any, ctx: dict[str, Any]) -> Iterator[list[Any]]:
    yield [entry.record_id, show_day(row.service_date), MEAL_LABELS.get(row.meal, row.meal), row.dish_name,
           row.weight_g, show_minute(row.sampled_at), "是" if row.sealed else "否", row.fridge_temperature_c,
           row.sampler_name, show_minute(row.keep_until), _amend(entry)]


def _disposal_rows(entry: RecordEntry, row: Any, ctx: dict[str, Any]) -> Iterator[list[Any]]:
    yield [entry.record_id, row.sample_id, show_minute(row.disposed_at), row.disposer_name, row.remarks or "",
           _amend(entry)]


def _accompanied_rows(entry: RecordEntry, row: Any, ctx: dict[str, Any]) -> Iterator[list[Any]]:
    yield [entry.record_id, show_day(row.service_date), MEAL_LABELS.get(row.meal, row.meal), row.companion_name,
           COMPANION_LABELS.get(row.companion_role, row.companion_role), row.rating, row.remarks or "", _amend(entry)]


def _staff_rows(entry: RecordEntry, row: Any, ctx: dict[str, Any]) -> Iterator[list[Any]]:
    held = ctx["certificates"].get(entry.record_id)
    status = certificate_status(held[1].valid_until, ctx["today"]) if held else None
    yield [entry.record_id, row.name, row.post, row.phone or "", "在职" if row.active else "离职",
           held[1].number if held else "", show_day(held[1].valid_until) if held else "",
           CERT_STATUS_LABELS[status] if status else "无健康证", show_minute(entry.created_at), _amend(entry)]


def _health_certificate_rows(entry: RecordEntry, row: Any, ctx: dict[str, Any]) -> Iterator[list[Any]]:
    status = certificate_status(row.valid_until, ctx["today"])
    yield [entry.record_id, ctx["staff_name"](row.staff_id), row.number, row.issuer, show_day(row.valid_from),
           show_day(row.valid_until), CERT_STATUS_LABELS[status], len(ctx["attachments"].get(entry.id, [])),
           _amend(entry)]


def _morning_check_rows(entry: RecordEntry, row: Any, ctx: dict[str, Any]) -> Iterator[list[Any]]:
    for person in ctx["persons"].get(entry.id, []):
        yield [entry.record_id, show_day(row.check_date), show_minute(row.checked_at), row.checker_name,
               ctx["staff_name"](person.staff_id), person.temperature_c, "正常" if person.hands_ok else "异常",
               "、".join(SYMPTOM_LABELS[s] for s in person.symptom_list) or "无",
               CHECK_RESULT_LABELS[person.result], person.remarks or "", _amend(entry)]


def _waste_rows(entry: RecordEntry, row: Any, ctx: dict[str, Any]) -> Iterator[list[Any]]:
    yield [entry.record_id, show_minute(row.disposed_at), WASTE_KIND_LABELS.get(row.waste_kind, row.waste_kind),
           row.quantity_kg, row.collector_company, row.collector_name, row.collector_licence or "", row.handover_name,
           len(ctx["attachments"].get(entry.id, [])), row.remarks or "", _amend(entry)]


def _additive_purchase_rows(entry: RecordEntry, row: Any, ctx: dict[str, Any]) -> Iterator[list[Any]]:
    yield [entry.record_id, show_day(row.purchase_date), row.additive_name, row.manufacturer, row.batch, row.quantity,
           ADDITIVE_UNIT_LABELS.get(row.unit, row.unit), show_day(row.expiry_date), row.supplier_name, row.buyer_name,
           row.keeper_name, row.cabinet, row.remarks or "", _amend(entry)]


def _additive_use_rows(entry: RecordEntry, row: Any, ctx: dict[str, Any]) -> Iterator[list[Any]]:
    batch = ctx["purchases"].get(row.purchase_id)
    yield [entry.record_id, show_day(row.use_date), MEAL_LABELS.get(row.meal, row.meal), row.dish_name,
           getattr(batch, "additive_name", f"#{row.purchase_id}"), getattr(batch, "batch", ""), row.quantity,
           ADDITIVE_UNIT_LABELS.get(getattr(batch, "unit", ""), ""), row.issuer_name, row.user_name, row.remarks or "",
           _amend(entry)]


SHEETS: list[tuple[str, str, list[tuple[str, int]], RowBuilder]] = [
    ("供应商", RecordKind.SUPPLIER, [("记录编号", 10), ("供应商名称", 28), ("统一社会信用代码", 22), ("联系人", 10),
                                  ("电话", 14), ("地址", 30), ("备注", 20), ("登记时间", 17), ("更正说明", 24)],
     _supplier_rows),
    ("供应商证照", RecordKind.CERTIFICATE, [("记录编号", 10), ("供应商", 24), ("证照类型", 16), ("证照编号", 22),
                                       ("发证机关", 20), ("有效期起", 12), ("有效期至", 12), ("状态", 12),
                                       ("扫描件数", 9), ("更正说明", 24)], _certificate_rows),
    ("进货查验", RecordKind.RECEIVING, [("记录编号", 10), ("收货时间", 17), ("供应商", 24), ("品名", 16), ("类别", 10),
                                    ("批号", 16), ("数量", 9), ("单位", 7), ("生产日期", 12), ("保质期(天)", 10),
                                    ("保质期至", 12), ("贮存条件", 9), ("到货温度(°C)", 12), ("验收人", 10),
                                    ("检验报告(份)", 12), ("票据(份)", 9), ("证照过期仍接收的理由", 24),
                                    ("更正说明", 24)], _receiving_rows),
    ("菜单", RecordKind.MENU, [("记录编号", 10), ("日期", 12), ("餐次", 8), ("菜品", 18), ("原料（批号·供应商）", 60),
                             ("更正说明", 24)], _menu_rows),
    ("消毒记录", RecordKind.DISINFECTION, [("记录编号", 10), ("日期", 12), ("餐次", 8), ("对象", 8), ("名称", 16),
                                       ("方法", 14), ("温度(°C)", 9), ("时长(分钟)", 10), ("有效氯(mg/L)", 12),
                                       ("件数", 8), ("消毒时间", 17), ("操作人", 10), ("更正说明", 24)],
     _disinfection_rows),
    ("留样记录", RecordKind.SAMPLE, [("记录编号", 10), ("日期", 12), ("餐次", 8), ("菜品", 18), ("重量(克)", 9),
                                 ("留样时间", 17), ("密封", 6), ("冰箱温度(°C)", 12), ("留样人", 10), ("保存至", 17),
                                 ("更正说明", 24)], _sample_rows),
    ("留样处置", RecordKind.SAMPLE_DISPOSAL, [("记录编号", 10), ("留样记录编号", 12), ("处置时间", 17), ("处置人", 10),
                                          ("备注", 24), ("更正说明", 24)], _disposal_rows),
    ("陪餐记录", RecordKind.ACCOMPANIED_MEAL, [("记录编号", 10), ("日期", 12), ("餐次", 8), ("陪餐人", 12),
                                           ("身份", 12), ("评分", 6), ("意见建议", 40), ("更正说明", 24)],
     _accompanied_rows),
    ("从业人员", RecordKind.STAFF, [("记录编号", 10), ("姓名", 10), ("岗位", 12), ("电话", 14), ("状态", 6),
                                ("健康证编号", 20), ("健康证有效期至", 14), ("健康证状态", 12), ("登记时间", 17),
                                ("更正说明", 24)], _staff_rows),
    ("健康证", RecordKind.HEALTH_CERTIFICATE, [("记录编号", 10), ("姓名", 10), ("证号", 20), ("发证机构", 24),
                                          ("有效期起", 12), ("有效期至", 12), ("状态", 12), ("照片数", 8),
                                          ("更正说明", 24)], _health_certificate_rows),
    ("晨检记录", RecordKind.MORNING_CHECK, [("记录编号", 10), ("日期", 12), ("晨检时间", 17), ("晨检人", 10),
                                       ("姓名", 10), ("体温(°C)", 9), ("手部", 6), ("症状", 24), ("结果", 30),
                                       ("备注", 20), ("更正说明", 24)], _morning_check_rows),
    ("餐厨废弃物", RecordKind.WASTE_DISPOSAL, [("记录编号", 10), ("处置时间", 17), ("种类", 10), ("数量(千克)", 10),
                                          ("收运单位", 28), ("收运人", 10), ("许可证/协议编号", 20), ("交接人", 10),
                                          ("照片数", 8), ("备注", 20), ("更正说明", 24)], _waste_rows),
    ("食品添加剂采购", RecordKind.ADDITIVE_PURCHASE, [("记录编号", 10), ("采购日期", 12), ("名称", 16),
                                                ("生产厂家", 24), ("批号", 16), ("数量", 9), ("单位", 7),
                                                ("保质期至", 12), ("供货单位", 24), ("采购人", 10), ("保管人", 10),
                                                ("存放专柜", 16), ("备注", 20), ("更正说明", 24)],
     _additive_purchase_rows),
    ("食品添加剂使用", RecordKind.ADDITIVE_USE, [("记录编号", 10), ("使用日期", 12), ("餐次", 8), ("菜品", 18),
                                           ("添加剂", 16), ("批号", 16), ("用量", 9), ("单位", 7), ("领用/发放人", 12),
                                           ("使用人", 10), ("备注", 20), ("更正说明", 24)], _additive_use_rows),
]



#: What a record's row says beside its content: its number, when this version was written, why it was corrected, and
#: how many files it holds (files are compared by ``history.py`` themselves, not by their count).
BOOKKEEPING_COLUMNS = frozenset({"记录编号", "登记时间", "更正说明", "扫描件数", "照片数", "检验报告(份)", "票据(份)"})
#: Kinds whose version makes one row a line (received items, dishes, people checked): the columns of the line and
#: the one that names it.
LINE_COLUMNS: dict[str, tuple[frozenset[str], str]] = {
    RecordKind.RECEIVING: (frozenset({"品名", "类别", "批号", "数量", "单位", "生产日期", "保质期(天)", "保质期至",
                                      "贮存条件", "到货温度(°C)"}), "品名"),
    RecordKind.MENU: (frozenset({"菜品", "原料（批号·供应商）"}), "菜品"),
    RecordKind.MORNING_CHECK: (frozenset({"姓名", "体温(°C)", "手部", "症状", "结果", "备注"}), "姓名"),
}
TABLES: dict[str, tuple[str, list[tuple[str, int]], RowBuilder]] = {
    kind: (title, columns, builder) for title, kind, columns, builder in SHEETS}


class Tabulator:
    """Rows of records of one canteen, with the names their ids refer to looked up once for every batch."""

    def __init__(self, canteen_id: int, today: date) -> None:
        self.canteen_id = canteen_id
        self.today = today
        self.supplier_names: dict[int, str] = {}
        self.staff_names: dict[int, str] = {}
        self.purchases: dict[int, Any] = {}

    def rows(self, entries: list[RecordEntry], bundle: Bundle) -> Iterator[tuple[RecordEntry, list[list[Any]]]]:
        """Each entry with its rows, in the order given (``bundle`` is ``load_bundle(entries)``)."""
        wanted = {getattr(r, "supplier_id", None) for r in bundle.typed.values()} - {None} - set(self.supplier_names)
        self.supplier_names.update({k: v.name for k, v in suppliers_by_id({self.canteen_id}, wanted).items()})
        item_labels = _item_labels(self.canteen_id, [link.item_id for ls in bundle.links.values() for link in ls],
                                   self.supplier_names)
        staff = _staff_lookups(self.canteen_id, entries, bundle, self.staff_names)
        purchases_for_export(self.canteen_id, bundle.typed.values(), self.purchases)
        ctx = {"today": self.today, "attachments": bundle.attachments, "items": bundle.items,
               "dishes": bundle.dishes, "links": bundle.links, "persons": bundle.persons, "certificates": staff,
               "purchases": self.purchases,
               "supplier_name": lambda sid: self.supplier_names.get(sid, f"#{sid}"),
               "item_label": lambda iid: item_labels.get(iid, f"#{iid}"),
               "staff_name": lambda sid: self.staff_names.get(sid, f"#{sid}")}
        for entry in entries:
            yield entry, list(TABLES[entry.kind][2](entry, bundle.typed[entry.id], ctx))


def _staff_lookups(canteen_id: int, entries: list[RecordEntry], bundle: Any,
                   staff_names: dict[int, str]) -> dict[int, tuple[RecordEntry, Any]]:
    """Fill in the names of the people a batch refers to; the newest health certificate of each staff row."""
    referred = {getattr(row, "staff_id", None) for row in bundle.typed.values()} - {None}
    referred |= {p.staff_id for group in bundle.persons.values() for p in group}
    missing = referred - set(staff_names)
    if missing:
        staff_names.update({k: v.name for k, v in current_staff(canteen_id, missing).items()})
    registered = [e.record_id for e in entries if e.kind == RecordKind.STAFF]
    return {k: rows[0] for k, rows in staff_certificates(registered).items() if rows}


def _item_labels(canteen_id: int, item_ids: list[int], supplier_names: dict[int, str]) -> dict[int, str]:
    from backend.records.services import current_items

    found = current_items(canteen_id, sorted(set(item_ids)))
    missing = {record.supplier_id for _, record in found.values()} - set(supplier_names)
    supplier_names.update({k: v.name for k, v in suppliers_by_id({canteen_id}, missing).items()})
    return {item_id: f"{item.ingredient}（批号 {item.batch}·{supplier_names.get(record.supplier_id, '')}）"
            for item_id, (item, record) in found.items()}
