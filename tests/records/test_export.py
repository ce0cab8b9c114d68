"""The Excel export regulators ask for: one sheet per record type, audited."""

from __future__ import annotations

import io
from datetime import timedelta
from urllib.parse import unquote

import sqlalchemy as sa
from openpyxl import load_workbook

from backend.audit.models import AuditLog
from backend.extensions import db
from backend.timeutil import utcnow
from tests.records.helpers import today


def _export(kit, **params):
    return kit.get("/canteens/1/records/export", **{"from": today().isoformat(), "to": today().isoformat(),
                                                    **params})


def test_export_has_one_sheet_per_record_type(manager, traced):
    sample = manager.sample(traced["dishes"]["米饭"], utcnow() - timedelta(minutes=1)).get_json()
    manager.post(f"/records/{sample['id']}/amendments", {"reason": "重量记错", "record": {
        "dish_id": traced["dishes"]["米饭"], "weight_g": 200, "sampled_at": sample["sampled_at"], "sealed": True,
        "fridge_temperature_c": 5, "sampler_name": "吴阿姨",
        "photo_upload_ids": [f["upload_id"] for f in sample["files"]["photo"]]}})
    manager.disinfection(today(), "lunch")
    response = _export(manager)
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    disposition = response.headers["Content-Disposition"]
    assert unquote(disposition.split("filename*=UTF-8''")[1]) == (
        f"西湖实验小学-学生食堂-食堂记录-{today():%Y%m%d}-{today():%Y%m%d}.xlsx")
    book = load_workbook(io.BytesIO(response.data))
    assert book.sheetnames == ["供应商", "供应商证照", "进货查验", "菜单", "消毒记录", "留样记录", "留样处置",
                               "陪餐记录", "从业人员", "健康证", "晨检记录", "餐厨废弃物", "食品添加剂采购",
                               "食品添加剂使用", "食品添加剂库存", "更正记录", "封存记录", "校验信息"]
    rows = {name: list(book[name].iter_rows(values_only=True)) for name in book.sheetnames}
    assert rows["供应商"][1][:3] == (traced["supplier_id"], "杭州绿源蔬菜配送有限公司", "91330106MA27XB3K1A")
    assert rows["供应商证照"][1][2:4] == ("食品经营许可证", "JY13301060001") and rows["供应商证照"][1][7] == "有效"
    receiving = rows["进货查验"]
    assert receiving[0][:6] == ("记录编号", "收货时间", "供应商", "品名", "类别", "批号")
    assert [(r[3], r[5], r[11]) for r in receiving[1:]] == [("猪肉", "ZR-0301", "冷藏"), ("大米", "DM-0215", "常温")]
    assert receiving[1][15] == 1  # one invoice attached
    menu = rows["菜单"]
    assert [(r[2], r[3]) for r in menu[1:]] == [("午餐", "红烧肉"), ("午餐", "米饭")]
    assert menu[1][4] == ("猪肉（批号 ZR-0301·杭州绿源蔬菜配送有限公司）；"
                          "大米（批号 DM-0215·杭州绿源蔬菜配送有限公司）")
    samples = rows["留样记录"]
    assert len(samples) == 2 and samples[1][3:5] == ("米饭", 200) and samples[1][10] == "重量记错"
    assert rows["消毒记录"][1][5] == "蒸汽消毒"
    assert rows["更正记录"][1][1] == "留样记录" and rows["更正记录"][1][6] == "重量记错"
    checks = dict(rows["校验信息"][1:])
    assert checks["记录链校验"] == "完整，未发现改动" and checks["已校验记录数"] == "7"
    audit = db.session.scalars(sa.select(AuditLog).where(AuditLog.action == "records.export")).one()
    assert audit.details["from"] == today().isoformat() and audit.school_id == 1


def test_export_range_is_checked_and_excludes_other_days(manager, kit, traced):
    yesterday = (today() - timedelta(days=1)).isoformat()
    book = load_workbook(io.BytesIO(_export(manager, **{"from": yesterday, "to": yesterday}).data))
    assert all(book[name].max_row == 1 for name in ("进货查验", "菜单", "留样记录"))
    reversed_range = _export(manager, **{"from": today().isoformat(), "to": yesterday}, expect=422)
    assert reversed_range.get_json()["error"]["code"] == "date_range_reversed"
    too_long = _export(manager, **{"from": "2024-01-01", "to": "2025-06-01"}, expect=422)
    assert too_long.get_json()["error"]["code"] == "date_range_too_long"
    assert _export(kit("demo-regulator")).status_code == 200
    assert _export(kit("demo-parent-1"), expect=403).status_code == 403


def test_export_survives_control_characters_stored_before_they_were_refused(manager):
    """Rows written before the API refused control characters (some inside immutable amendments) still export."""
    from backend.accounts.models import User
    from backend.permissions import load_principal
    from backend.records.models import RecordKind
    from backend.records.services import amend_record, create_record
    from backend.schools.models import Canteen

    admin = load_principal(db.session.scalar(sa.select(User).where(User.openid == "demo-admin")))
    canteen = db.session.get(Canteen, 1)
    supplier = create_record(admin, canteen, RecordKind.SUPPLIER, {"name": "旧\x1b供应商", "remarks": "第一行\x0b"},
                             idempotency_key="legacy-supplier", fingerprint="l" * 64)
    amend_record(admin, supplier.record_id, {"name": "新\x0b供应商", "remarks": "备注\x1f"}, "改正\x07名称",
                 expected_version_id=None, idempotency_key="legacy-amend", fingerprint="a" * 64)
    response = _export(manager)
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.data))
    rows = {name: list(book[name].iter_rows(values_only=True)) for name in ("供应商", "更正记录")}
    assert rows["供应商"][1][1] == "新供应商" and rows["供应商"][1][6] == "备注" and rows["供应商"][1][8] == "改正名称"
    assert rows["更正记录"][1][6] == "改正名称"
