"""A canteen's records for a date range as an Excel workbook, one sheet per record type.

Regulators ask for these tables during inspections. Every sheet lists the current version of each record
(with the correction reason when it was corrected); one sheet lists every correction, one every seal made or
released in the range (封存记录, with its release), and the last states the result of verifying the chain, so the
workbook stands as evidence on its own.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import date, datetime

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
from backend.records.models import KIND_LABELS, RecordEntry
from backend.records.queries import days_between
from backend.records.tables import SHEETS, Tabulator, show_day, show_minute
from backend.records.versions import is_current
from backend.records.waste_additives import additive_stock
from backend.schools.models import Canteen
from backend.xlsx import append_row, header_row

MAX_EXPORT_DAYS = 366
BATCH = 500


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
    tabulator = Tabulator(canteen.id, today)
    for title, kind, columns, _ in SHEETS:
        sheet = workbook.create_sheet(title)
        header_row(sheet, columns)
        for entries in _entries(canteen.id, kind, date_from, date_to):
            for _, rows in tabulator.rows(entries, load_bundle(entries)):
                for values in rows:
                    append_row(sheet, values)
    _stock_sheet(workbook, canteen.id, date_to)
    _amendments_sheet(workbook, canteen.id, date_from, date_to)
    _seals_sheet(workbook, canteen.id, date_from, date_to, today)
    _verification_sheet(workbook, canteen, date_from, date_to)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


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
    for entry in db.session.scalars(select(RecordEntry).where(
            RecordEntry.canteen_id == canteen_id, RecordEntry.amends_id.is_not(None),
            RecordEntry.record_date.between(date_from, date_to)).order_by(RecordEntry.seq)):
        append_row(sheet, [entry.record_id, KIND_LABELS.get(entry.kind, entry.kind), entry.amends_id, entry.id,
                        show_minute(entry.created_at), entry.created_by_id or "", entry.reason or ""])


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
    rows = [("学校", canteen.school.name), ("食堂", canteen.name),
            ("日期范围", f"{show_day(date_from)} 至 {show_day(date_to)}"),
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



