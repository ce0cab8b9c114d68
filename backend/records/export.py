"""A canteen's records for a date range as an Excel workbook, one sheet per record type.

Regulators ask for these tables during inspections. Every sheet lists the current version of each record
(with the correction reason when it was corrected); one sheet lists every correction, one every seal made or
released in the range (封存记录, with its release), and the last states the result of verifying the chain, so the
workbook stands as evidence on its own.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from datetime import date, datetime
from typing import Any

from openpyxl import Workbook
from sqlalchemy import select

from backend.audit.actions import AuditAction
from backend.audit.services import record_audit
from backend.errors import ApiError
from backend.extensions import db
from backend.permissions import Principal
from backend.records.bundle import load_bundle
from backend.records.chain import verify_chain
from backend.records.idempotency import actor_id
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
from backend.records.queries import days_between
from backend.records.staff import current_staff, staff_certificates
from backend.records.versions import is_current
from backend.records.waste_additives import additive_stock, purchases_for_export
from backend.schools.models import Canteen
from backend.timeutil import SHANGHAI, as_utc
from backend.xlsx import append_row, header_row

MAX_EXPORT_DAYS = 366
BATCH = 500


def _t(value: datetime | None) -> str:
    return "" if value is None else as_utc(value).astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")


def _d(value: date | None) -> str:
    return "" if value is None else value.isoformat()


def _amend(entry: RecordEntry) -> str:
    return entry.reason or "" if entry.amends_id else ""


# (sheet title, kind, column headers and widths, row builder)
RowBuilder = Callable[[RecordEntry, Any, dict[str, Any]], Iterator[list[Any]]]


def _supplier_rows(entry: RecordEntry, row: Any, ctx: dict[str, Any]) -> Iterator[list[Any]]:
    yield [entry.record_id, row.name, row.credit_code or "", row.contact_name or "", row.phone or "",
           row.address or "", row.remarks or "", _t(entry.created_at), _amend(entry)]


def _certificate_rows(entry: RecordEntry, row: Any, ctx: dict[str, Any]) -> Iterator[list[Any]]:
    status = certificate_status(row.valid_until, ctx["today"])
    yield [entry.record_id, ctx["supplier_name"](row.supplier_id), CERTIFICATE_LABELS.get(row.kind, row.kind),
           row.number, row.issuer or "", _d(row.valid_from), _d(row.valid_until), CERT_STATUS_LABELS[status],
           len(ctx["attachments"].get(entry.id, [])), _amend(entry)]


def _receiving_rows(entry: RecordEntry, row: Any, ctx: dict[str, Any]) -> Iterator[list[Any]]:
    files = ctx["attachments"].get(entry.id, [])
    reports = sum(1 for a in files if a.role == "inspection_report")
    invoices = sum(1 for a in files if a.role == "invoice")
    for item in ctx["items"].get(entry.id, []):
        yield [entry.record_id, _t(row.received_at), ctx["supplier_name"](row.supplier_id), item.ingredient,
               CATEGORY_LABELS.get(item.category, item.category), item.batch, item.quantity, item.unit,
               _d(item.production_date), item.shelf_life_days or "", _d(item.expiry_date),
               STORAGE_LABELS.get(item.storage, item.storage),
               "" if item.storage_temperature_c is None else item.storage_temperature_c, row.receiver_name,
               reports, invoices, row.accepted_expired_reason or "", _amend(entry)]


def _menu_rows(entry: RecordEntry, row: Any, ctx: dict[str, Any]) -> Iterator[list[Any]]:
    for dish in ctx["dishes"].get(entry.id, []):
        ingredients = "；".join(ctx["item_label"](link.item_id) for link in ctx["links"].get(dish.id, []))
        yield [entry.record_id, _d(row.service_date), MEAL_LABELS.get(row.meal, row.meal), dish.name, ingredients,
               _amend(entry)]


def _disinfection_rows(entry: RecordEntry, row: Any, ctx: dict[str, Any]) -> Iterator[list[Any]]:
    yield [entry.record_id, _d(row.service_date), MEAL_LABELS.get(row.meal, row.meal),
           TARGET_LABELS.get(row.target, row.target), row.target_name, METHOD_LABELS.get(row.method, row.method),
           "" if row.temperature_c is None else row.temperature_c, "" if row.minutes is None else row.minutes,
           "" if row.concentration_mg_l is None else row.concentration_mg_l, row.item_count or "",
           _t(row.performed_at), row.operator_name, _amend(entry)]


def _sample_rows(entry: RecordEntry, row: Any, ctx: dict[str, Any]) -> Iterator[list[Any]]:
    yield [entry.record_id, _d(row.service_date), MEAL_LABELS.get(row.meal, row.meal), row.dish_name, row.weight_g,
           _t(row.sampled_at), "是" if row.sealed else "否", row.fridge_temperature_c, row.sampler_name,
           _t(row.keep_until), _amend(entry)]


def _disposal_rows(entry: RecordEntry, row: Any, ctx: dict[str, Any]) -> Iterator[list[Any]]:
    yield [entry.record_id, row.sample_id, _t(row.disposed_at), row.disposer_name, row.remarks or "", _amend(entry)]


def _accompanied_rows(entry: RecordEntry, row: Any, ctx: dict[str, Any]) -> Iterator[list[Any]]:
    yield [entry.record_id, _d(row.service_date), MEAL_LABELS.get(row.meal, row.meal), row.companion_name,
           COMPANION_LABELS.get(row.companion_role, row.companion_role), row.rating, row.remarks or "", _amend(entry)]


def _staff_rows(entry: RecordEntry, row: Any, ctx: dict[str, Any]) -> Iterator[list[Any]]:
    held = ctx["certificates"].get(entry.record_id)
    status = certificate_status(held[1].valid_until, ctx["today"]) if held else None
    yield [entry.record_id, row.name, row.post, row.phone or "", "在职" if row.active else "离职",
           held[1].number if held else "", _d(held[1].valid_until) if held else "",
           CERT_STATUS_LABELS[status] if status else "无健康证", _t(entry.created_at), _amend(entry)]


def _health_certificate_rows(entry: RecordEntry, row: Any, ctx: dict[str, Any]) -> Iterator[list[Any]]:
    status = certificate_status(row.valid_until, ctx["today"])
    yield [entry.record_id, ctx["staff_name"](row.staff_id), row.number, row.issuer, _d(row.valid_from),
           _d(row.valid_until), CERT_STATUS_LABELS[status], len(ctx["attachments"].get(entry.id, [])), _amend(entry)]


def _morning_check_rows(entry: RecordEntry, row: Any, ctx: dict[str, Any]) -> Iterator[list[Any]]:
    for person in ctx["persons"].get(entry.id, []):
        yield [entry.record_id, _d(row.check_date), _t(row.checked_at), row.checker_name,
               ctx["staff_name"](person.staff_id), person.temperature_c, "正常" if person.hands_ok else "异常",
               "、".join(SYMPTOM_LABELS[s] for s in person.symptom_list) or "无",
               CHECK_RESULT_LABELS[person.result], person.remarks or "", _amend(entry)]


def _waste_rows(entry: RecordEntry, row: Any, ctx: dict[str, Any]) -> Iterator[list[Any]]:
    yield [entry.record_id, _t(row.disposed_at), WASTE_KIND_LABELS.get(row.waste_kind, row.waste_kind), row.quantity_kg,
           row.collector_company, row.collector_name, row.collector_licence or "", row.handover_name,
           len(ctx["attachments"].get(entry.id, [])), row.remarks or "", _amend(entry)]


def _additive_purchase_rows(entry: RecordEntry, row: Any, ctx: dict[str, Any]) -> Iterator[list[Any]]:
    yield [entry.record_id, _d(row.purchase_date), row.additive_name, row.manufacturer, row.batch, row.quantity,
           ADDITIVE_UNIT_LABELS.get(row.unit, row.unit), _d(row.expiry_date), row.supplier_name, row.buyer_name,
           row.keeper_name, row.cabinet, row.remarks or "", _amend(entry)]


def _additive_use_rows(entry: RecordEntry, row: Any, ctx: dict[str, Any]) -> Iterator[list[Any]]:
    batch = ctx["purchases"].get(row.purchase_id)
    yield [entry.record_id, _d(row.use_date), MEAL_LABELS.get(row.meal, row.meal), row.dish_name,
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


def _entries(canteen_id: int, kind: str, date_from: date, date_to: date) -> Iterator[list[RecordEntry]]:
    last = (date.min, 0)
    while True:
        entries = list(db.session.scalars(
            select(RecordEntry).where(RecordEntry.canteen_id == canteen_id, RecordEntry.kind == kind, is_current(),
                                      RecordEntry.record_date.between(date_from, date_to),
                                      (RecordEntry.record_date > last[0])
                                      | ((RecordEntry.record_date == last[0]) & (RecordEntry.id > last[1])))
            .order_by(RecordEntry.record_date, RecordEntry.id).limit(BATCH)))
        if not entries:
            return
        yield entries
        last = (entries[-1].record_date, entries[-1].id)


def build_workbook(canteen: Canteen, date_from: date, date_to: date, today: date) -> bytes:
    """The workbook of one canteen's records whose day lies in ``[date_from, date_to]``."""
    workbook = Workbook(write_only=True)
    supplier_names: dict[int, str] = {}
    staff_names: dict[int, str] = {}
    purchases: dict[int, Any] = {}
    for title, kind, columns, builder in SHEETS:
        sheet = workbook.create_sheet(title)
        header_row(sheet, columns)
        for entries in _entries(canteen.id, kind, date_from, date_to):
            bundle = load_bundle(entries)
            wanted = {getattr(r, "supplier_id", None) for r in bundle.typed.values()} - {None} - set(supplier_names)
            supplier_names.update({k: v.name for k, v in suppliers_by_id({canteen.id}, wanted).items()})
            item_labels = _item_labels(canteen.id, [link.item_id for ls in bundle.links.values() for link in ls],
                                       supplier_names)
            staff = _staff_lookups(canteen.id, entries, bundle, staff_names)
            purchases_for_export(canteen.id, bundle.typed.values(), purchases)
            ctx = {"today": today, "attachments": bundle.attachments, "items": bundle.items, "dishes": bundle.dishes,
                   "links": bundle.links, "supplier_name": lambda sid: supplier_names.get(sid, f"#{sid}"),
                   "item_label": lambda iid, labels=item_labels: labels.get(iid, f"#{iid}"),
                   "persons": bundle.persons, "certificates": staff, "purchases": purchases,
                   "staff_name": lambda sid: staff_names.get(sid, f"#{sid}")}
            for entry in entries:
                for values in builder(entry, bundle.typed[entry.id], ctx):
                    append_row(sheet, values)
    _stock_sheet(workbook, canteen.id, date_to)
    _amendments_sheet(workbook, canteen.id, date_from, date_to)
    _seals_sheet(workbook, canteen.id, date_from, date_to, today)
    _verification_sheet(workbook, canteen, date_from, date_to)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


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


def _stock_sheet(workbook: Workbook, canteen_id: int, on: date) -> None:
    """The additives' stock at the end of the range, per batch (purchases minus uses)."""
    sheet = workbook.create_sheet("食品添加剂库存")
    header_row(sheet, [("名称", 16), ("单位", 7), ("批号", 16), ("生产厂家", 24), ("采购日期", 12), ("保质期至", 12),
                       ("采购数量", 10), ("已使用", 10), ("结存", 10), ("保管人", 10), ("存放专柜", 16)])
    stock = additive_stock(canteen_id, on)
    for additive in stock["additives"]:
        for batch in additive["batches"]:
            append_row(sheet, [additive["additive_name"], additive["unit_label"], batch["batch"], batch["manufacturer"],
                               batch["purchase_date"], batch["expiry_date"] or "", batch["quantity"], batch["used"],
                               batch["remaining"], batch["keeper_name"], batch["cabinet"]])


def _amendments_sheet(workbook: Workbook, canteen_id: int, date_from: date, date_to: date) -> None:
    sheet = workbook.create_sheet("更正记录")
    header_row(sheet, [("记录编号", 10), ("记录类型", 14), ("被更正版本", 12), ("新版本", 10), ("更正时间", 17),
                    ("更正人编号", 10), ("更正原因", 40)])
    from backend.records.models import KIND_LABELS

    for entry in db.session.scalars(select(RecordEntry).where(
            RecordEntry.canteen_id == canteen_id, RecordEntry.amends_id.is_not(None),
            RecordEntry.record_date.between(date_from, date_to)).order_by(RecordEntry.seq)):
        append_row(sheet, [entry.record_id, KIND_LABELS.get(entry.kind, entry.kind), entry.amends_id, entry.id,
                        _t(entry.created_at), entry.created_by_id or "", entry.reason or ""])


def _seals_sheet(workbook: Workbook, canteen_id: int, date_from: date, date_to: date, today: date) -> None:
    """封存记录: every seal made or released in the range, with its release."""
    from backend.records.presenters import present_records
    from backend.records.sealing import seals_between

    sheet = workbook.create_sheet("封存记录")
    header_row(sheet, [("记录编号", 10), ("封存时间", 17), ("封存对象", 10), ("名称", 28), ("封存理由", 36),
                       ("封存方", 10), ("封存人编号", 10), ("状态", 8), ("解封时间", 17), ("解封理由", 36),
                       ("解封方", 10)])
    entries = seals_between(canteen_id, date_from, date_to)
    for start in range(0, len(entries), BATCH):
        for seal in present_records(entries[start:start + BATCH], today):
            release = seal["release"] or {}
            append_row(sheet, [seal["id"], _iso(seal["sealed_at"]), seal["target_label"], seal["target_name"],
                               seal["reason"], seal["authority_label"], seal["created_by_id"] or "",
                               "封存中" if seal["in_force"] else "已解封", _iso(release.get("released_at")),
                               release.get("reason", ""), release.get("authority_label", "")])


def _iso(value: str | None) -> str:
    """An ISO time of the API as the sheets write times."""
    return "" if not value else value[:16].replace("T", " ")


def _verification_sheet(workbook: Workbook, canteen: Canteen, date_from: date, date_to: date) -> None:
    result = verify_chain(canteen.id)
    sheet = workbook.create_sheet("校验信息")
    header_row(sheet, [("项目", 20), ("内容", 70)])
    rows = [("学校", canteen.school.name), ("食堂", canteen.name), ("日期范围", f"{_d(date_from)} 至 {_d(date_to)}"),
            ("记录链校验", "完整，未发现改动" if result.broken is None
             else f"第 {result.broken.seq} 条起断开：{result.broken.message}"),
            ("已校验记录数", str(result.checked)), ("链尾序号", str(result.head_seq)), ("链尾哈希", result.head_hash)]
    for row in rows:
        append_row(sheet, list(row))


def export_records(principal: Principal, canteen: Canteen, date_from: date, date_to: date, today: date,
                   now: datetime) -> tuple[str, bytes]:
    """The file name and bytes of a canteen's export; the export itself is audited."""
    if date_from > date_to:
        raise ApiError(422, "date_range_reversed", "开始日期不能晚于结束日期", {"fields": {"from": ["晚于结束日期"]}})
    if days_between(date_from, date_to) > MAX_EXPORT_DAYS:
        raise ApiError(422, "date_range_too_long", f"一次最多导出 {MAX_EXPORT_DAYS} 天的记录")
    data = build_workbook(canteen, date_from, date_to, today)
    record_audit(actor_id(principal), AuditAction.RECORDS_EXPORT, school_id=canteen.school_id,
                 target=("canteen", canteen.id),
                 details={"from": date_from.isoformat(), "to": date_to.isoformat(), "bytes": len(data)})
    db.session.commit()
    name = f"{canteen.school.name}-{canteen.name}-食堂记录-{date_from:%Y%m%d}-{date_to:%Y%m%d}.xlsx"
    return name, data



