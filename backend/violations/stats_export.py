"""The 总览 as an Excel workbook: the same figures the page shows (``overview.overview``), one sheet per part.

Sheets: 概况 (the cards, the camera online rate, today's record completeness, scope and period), 下级地区 (the
drill-down's rows),
学校排名, 按问题类型, 按周趋势, 每日趋势. The export is audited (action ``stats.export``).
"""

from __future__ import annotations

import io
from typing import Any

from openpyxl import Workbook

from backend.audit.actions import AuditAction
from backend.audit.services import record_audit
from backend.extensions import db
from backend.permissions import Principal
from backend.xlsx import append_row, header_row

FIGURES = [("found", "发现问题"), ("rectified", "已整改"), ("in_progress", "整改中"), ("overdue", "已超期"),
           ("dismissed", "误报撤销")]
BUCKET_COLUMNS = [(label, 10) for _, label in FIGURES] + [("整改率", 10)]
LEVELS = {"province": "省", "city": "市", "county": "区县", "school": "学校"}


def _rate(value: float | None) -> str:
    return "" if value is None else f"{value * 100:.1f}%"


def _bucket(row: dict[str, Any]) -> list[Any]:
    return [row[key] for key, _ in FIGURES] + [_rate(row.get("rectification_rate"))]


def _percent(value: int | None) -> str:
    return "" if value is None else f"{value}%"


def _summary_rows(figures: dict[str, Any]) -> list[list[Any]]:
    cameras = figures["cameras"]
    records = figures["records_today"]
    median = figures["median_hours_to_rectify"]
    return [["范围", figures["scope"]["name"]],
            ["统计区间", f"{figures['period']['from']} 至 {figures['period']['to']}（北京时间）"],
            *[[label, figures[key]] for key, label in FIGURES],
            ["整改率", _rate(figures["rectification_rate"])],
            ["整改用时中位数（小时）", "" if median is None else median],
            ["摄像头在线率", _rate(cameras["online_rate"])],
            ["在线摄像头 / 启用摄像头", f"{cameras['online']} / {cameras['enabled']}"],
            # The card's figures: canteens with none of the day's required records missing (Asia/Shanghai day).
            [f"今日台账完整率（{records['date']}）", _percent(records["percent"])],
            ["台账齐全食堂 / 食堂", f"{records['complete']} / {records['total']}"],
            ["生成时间", figures["generated_at"]]]


def _sheets(figures: dict[str, Any]) -> list[tuple[str, list[tuple[str, int]], list[list[Any]]]]:
    return [
        ("概况", [("项目", 26), ("数值", 40)], _summary_rows(figures)),
        ("下级地区", [("名称", 28), ("级别", 8), *BUCKET_COLUMNS],
         [[r["name"], LEVELS.get(r["level"], r["level"]), *_bucket(r)] for r in figures["by_region"]]),
        ("学校排名", [("名次", 6), ("学校", 28), *BUCKET_COLUMNS],
         [[i + 1, r["name"], *_bucket(r)] for i, r in enumerate(figures["by_school"])]),
        ("按问题类型", [("问题类型", 24), *BUCKET_COLUMNS[:5]],
         [[r["label"], *_bucket(r)[:5]] for r in figures["by_kind"]]),
        ("按周趋势", [("周", 12), ("起", 12), ("止", 12), ("发现", 10), ("整改完成", 10)],
         [[w["week"], w["from"], w["to"], w["found"], w["rectified"]] for w in figures["weekly"]]),
        ("每日趋势", [("日期", 12), ("发现", 10), ("整改完成", 10)],
         [[d["date"], d["found"], d["rectified"]] for d in figures["daily"]]),
    ]


def build_workbook(figures: dict[str, Any]) -> bytes:
    """The workbook of one overview."""
    workbook = Workbook(write_only=True)
    for title, columns, rows in _sheets(figures):
        sheet = workbook.create_sheet(title)
        header_row(sheet, columns)
        for row in rows:
            append_row(sheet, row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def export_overview(principal: Principal, figures: dict[str, Any]) -> tuple[str, bytes]:
    """The file name and bytes of an overview's export; the export itself is audited."""
    data = build_workbook(figures)
    scope, period = figures["scope"], figures["period"]
    record_audit(principal.user_id, AuditAction.STATS_EXPORT, school_id=scope.get("school_id"),
                 target=("region", scope["region_id"]) if scope.get("region_id") else None,
                 details={"scope": scope, "from": period["from"], "to": period["to"], "bytes": len(data)})
    db.session.commit()
    name = f"{scope['name']}-总览-{period['from'].replace('-', '')}-{period['to'].replace('-', '')}.xlsx"
    return name, data
