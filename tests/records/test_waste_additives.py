"""The food-waste ledger (餐厨废弃物台账) and the food-additive ledger (食品添加剂台账, 五专): rules, stock, the
台账, the export, and scoping to the canteen's own school."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

import pytest
from openpyxl import load_workbook

from backend.timeutil import utcnow
from tests.records.helpers import Kit, today

pytestmark = pytest.mark.db


def _staff(kit: Kit, name: str = "孙师傅") -> int:
    return kit.create("staff", {"name": name, "post": "厨师"}).get_json()["id"]


def _waste(kit: Kit, staff_id: int, **overrides: Any) -> Any:
    expect = overrides.pop("expect", 201)
    body = {"disposed_at": utcnow() - timedelta(minutes=10), "waste_kind": "food_waste", "quantity_kg": 35.5,
            "collector_company": "杭州城环餐厨垃圾收运有限公司", "collector_name": "陈师傅",
            "collector_licence": "HZCY-2026-0088", "staff_id": staff_id, "photo_upload_ids": [kit.photo()],
            **overrides}
    return kit.create("waste-disposals", body, expect=expect)


def _purchase(kit: Kit, **overrides: Any) -> Any:
    expect = overrides.pop("expect", 201)
    body = {"additive_name": "亚硝酸钠", "manufacturer": "浙江味美食品配料有限公司", "batch": "YX20260301",
            "quantity": 500, "unit": "g", "purchase_date": today() - timedelta(days=3),
            "expiry_date": today() + timedelta(days=300), "supplier_name": "杭州配料供应站", "buyer_name": "周师傅",
            "keeper_name": "王主管", "cabinet": "库房食品添加剂专柜（上锁）", **overrides}
    return kit.create("additive-purchases", body, expect=expect)


def _use(kit: Kit, purchase_id: int, quantity: float, **overrides: Any) -> Any:
    expect = overrides.pop("expect", 201)
    body = {"use_date": today(), "meal": "lunch", "dish_name": "腊肉炒蒜苗", "purchase_id": purchase_id,
            "quantity": quantity, "issuer_name": "王主管", "user_name": "孙师傅", **overrides}
    return kit.create("additive-uses", body, expect=expect)


# Waste -------------------------------------------------------------------------------------------------
def test_a_waste_disposal_is_recorded_with_its_collector_handover_and_photo(manager):
    staff_id = _staff(manager)
    record = _waste(manager, staff_id).get_json()
    assert (record["kind"], record["kind_label"]) == ("waste_disposal", "餐厨废弃物处置记录")
    assert (record["waste_kind"], record["waste_kind_label"], record["quantity_kg"]) == ("food_waste", "餐厨垃圾", 35.5)
    assert (record["collector_company"], record["collector_name"], record["collector_licence"]) == (
        "杭州城环餐厨垃圾收运有限公司", "陈师傅", "HZCY-2026-0088")
    assert (record["staff_id"], record["handover_name"]) == (staff_id, "孙师傅")
    assert len(record["files"]["photo"]) == 1 and record["record_date"] == today().isoformat()
    oil = _waste(manager, staff_id, waste_kind="waste_oil", quantity_kg=8, collector_licence=None,
                 photo_upload_ids=[]).get_json()
    assert (oil["waste_kind_label"], oil["collector_licence"], oil["files"]) == ("废弃油脂", None, {})
    listed = manager.get("/canteens/1/waste-disposals", waste_kind="waste_oil").get_json()["items"]
    assert [r["id"] for r in listed] == [oil["id"]]
    assert manager.get("/canteens/1/records/verify").get_json()["ok"] is True


def test_a_disposal_in_the_future_and_impossible_quantities_are_refused(manager):
    staff_id = _staff(manager)
    error = _waste(manager, staff_id, disposed_at=utcnow() + timedelta(hours=2), expect=422).get_json()["error"]
    assert (error["code"], error["message"], error["details"]["field"]) == (
        "time_in_future", "时间不能晚于当前时间", "disposed_at")
    for quantity in (0, -3, 10000.5):
        error = _waste(manager, staff_id, quantity_kg=quantity, expect=422).get_json()["error"]
        assert error["details"]["fields"]["quantity_kg"] == ["数量应大于 0 且不超过 10000 千克"]
    error = _waste(manager, staff_id, waste_kind="compost", expect=422).get_json()["error"]
    assert error["details"]["fields"]["waste_kind"] == ["未知的废弃物种类"]
    # Every broken rule at once: the future time and a handover by someone not on the register.
    error = _waste(manager, 999999, disposed_at=utcnow() + timedelta(days=1), expect=422).get_json()["error"]
    assert [e["code"] for e in error["details"]["errors"]] == ["time_in_future", "staff_not_found"]
    assert manager.get("/canteens/1/waste-disposals").get_json()["items"] == []


def test_a_disposal_is_corrected_by_an_amendment(manager):
    staff_id = _staff(manager)
    record = _waste(manager, staff_id, photo_upload_ids=[]).get_json()
    body = {"disposed_at": record["disposed_at"], "waste_kind": "food_waste", "quantity_kg": 53.5,
            "collector_company": record["collector_company"], "collector_name": "陈师傅", "staff_id": staff_id}
    amended = manager.post(f"/records/{record['id']}/amendments", {"reason": "称重读数抄错", "record": body}).get_json()
    assert (amended["id"], amended["quantity_kg"], amended["amendment"]["reason"]) == (
        record["id"], 53.5, "称重读数抄错")
    detail = manager.get(f"/records/{record['id']}").get_json()
    assert [v["record"]["quantity_kg"] for v in detail["versions"]] == [35.5, 53.5]
    # The person has left since: a correction keeps them, a new disposal cannot name them.
    manager.post(f"/records/{staff_id}/amendments", {"reason": "离职", "record": {
        "name": "孙师傅", "post": "厨师", "active": False}})
    manager.post(f"/records/{record['id']}/amendments", {"reason": "收运人更正", "record": {
        **body, "quantity_kg": 53.5, "collector_name": "陈建国"}})
    error = _waste(manager, staff_id, photo_upload_ids=[], expect=422).get_json()["error"]
    assert (error["code"], error["message"]) == ("staff_inactive", "「孙师傅」已离职，不能作为交接人")
    assert manager.get("/canteens/1/records/verify").get_json()["ok"] is True


# Additives ---------------------------------------------------------------------------------------------
def test_stock_is_purchases_minus_uses_and_a_use_beyond_it_is_refused(manager, traced):
    first = _purchase(manager).get_json()
    second = _purchase(manager, batch="YX20260308", quantity=250, purchase_date=today()).get_json()
    assert (first["remaining"], first["unit_label"], first["buyer_name"], first["keeper_name"]) == (
        500, "克", "周师傅", "王主管")
    use = _use(manager, first["id"], 120, dish_id=traced["dishes"]["红烧肉"], dish_name=None).get_json()
    assert (use["dish_name"], use["additive_name"], use["batch"], use["unit"], use["meal_label"]) == (
        "红烧肉", "亚硝酸钠", "YX20260301", "g", "午餐")
    _use(manager, first["id"], 300)
    error = _use(manager, first["id"], 80.5, expect=422).get_json()["error"]
    assert error["code"] == "additive_stock_insufficient"
    assert error["message"] == "「亚硝酸钠」批号 YX20260301 库存不足：剩余 80 克，本次使用 80.5 克"
    assert error["details"]["remaining"] == 80
    stock = manager.get("/canteens/1/additive-stock").get_json()
    (additive,) = stock["additives"]
    assert (additive["additive_name"], additive["purchased"], additive["used"], additive["remaining"]) == (
        "亚硝酸钠", 750, 420, 330)
    assert [(b["batch"], b["remaining"]) for b in additive["batches"]] == [("YX20260301", 80), ("YX20260308", 250)]
    assert stock["dedicated"] == {"buyers": ["周师傅"], "keepers": ["王主管"], "issuers": ["王主管"],
                                  "cabinets": ["库房食品添加剂专柜（上锁）"]}
    # The day before, the second batch was not bought and nothing was used.
    yesterday = manager.get("/canteens/1/additive-stock", day=(today() - timedelta(days=1)).isoformat()).get_json()
    assert [(b["batch"], b["remaining"]) for b in yesterday["additives"][0]["batches"]] == [("YX20260301", 500)]
    # The rest of the batch is fine, and its correction may take what it had plus what is left.
    last = _use(manager, first["id"], 80).get_json()
    assert manager.get(f"/records/{first['id']}").get_json()["remaining"] == 0
    _use(manager, first["id"], 0.1, expect=422)
    body = {"use_date": today(), "meal": "lunch", "dish_name": "腊肉炒蒜苗", "purchase_id": first["id"],
            "quantity": 60, "issuer_name": "王主管", "user_name": "孙师傅"}
    manager.post(f"/records/{last['id']}/amendments", {"reason": "实际用量较少", "record": body})
    assert manager.get(f"/records/{first['id']}").get_json()["remaining"] == 20
    manager.post(f"/records/{last['id']}/amendments", {"reason": "再次核对", "record": {**body, "quantity": 100.5}},
                 expect=422)
    assert second["remaining"] == 250


def test_use_rules_dates_dish_and_expiry(manager, traced):
    batch = _purchase(manager, expiry_date=today() - timedelta(days=1), purchase_date=today() - timedelta(days=30),
                      ).get_json()
    error = _use(manager, batch["id"], 5, use_date=today() - timedelta(days=31), dish_name=None,
                 dish_id=traced["dishes"]["米饭"], expect=422).get_json()["error"]
    assert [e["code"] for e in error["details"]["errors"]] == ["dish_not_in_meal", "use_before_purchase"]
    error = _use(manager, batch["id"], 5, expect=422).get_json()["error"]
    assert (error["code"], error["message"]) == (
        "additive_expired",
        f"「亚硝酸钠」批号 YX20260301 已过保质期（{(today() - timedelta(days=1)).isoformat()}），不得使用")
    fresh = _purchase(manager, batch="YX-2").get_json()
    assert _use(manager, fresh["id"], 5, dish_name=None, expect=422).get_json()["error"]["code"] == "dish_required"
    assert _use(manager, fresh["id"], 5, use_date=today() + timedelta(days=1),
                expect=422).get_json()["error"]["code"] == "use_date_in_future"
    assert _use(manager, 999999, 5, expect=422).get_json()["error"]["code"] == "additive_not_found"
    error = _purchase(manager, purchase_date=today() + timedelta(days=1), expect=422).get_json()["error"]
    assert (error["code"], error["message"]) == ("purchase_date_in_future", "采购日期不能晚于今天")
    error = _purchase(manager, unit="斤", expect=422).get_json()["error"]
    assert error["details"]["fields"]["unit"] == ["未知的单位"]


def test_a_purchase_cannot_be_corrected_below_what_was_used(manager):
    batch = _purchase(manager).get_json()
    _use(manager, batch["id"], 200, use_date=today() - timedelta(days=1))
    record = {k: batch[k] for k in ("additive_name", "manufacturer", "batch", "unit", "purchase_date", "expiry_date",
                                    "supplier_name", "buyer_name", "keeper_name", "cabinet")}
    error = manager.post(f"/records/{batch['id']}/amendments", {"reason": "数量更正", "record": {
        **record, "quantity": 150}}, expect=409).get_json()["error"]
    assert (error["code"], error["message"]) == ("additive_quantity_below_used",
                                                 "该批次已使用 200 克，采购数量不能少于已使用量")
    error = manager.post(f"/records/{batch['id']}/amendments", {"reason": "日期更正", "record": {
        **record, "quantity": 500, "purchase_date": today()}}, expect=409).get_json()["error"]
    assert error["code"] == "purchase_after_use"
    fixed = manager.post(f"/records/{batch['id']}/amendments", {"reason": "数量更正", "record": {
        **record, "quantity": 200}}).get_json()
    assert (fixed["quantity"], fixed["used"], fixed["remaining"]) == (200, 200, 0)


# Ledger, export, scoping ------------------------------------------------------------------------------
def test_the_ledger_and_the_export_show_waste_and_additives(manager, kit, traced):
    staff_id = _staff(manager)
    waste = _waste(manager, staff_id).get_json()
    batch = _purchase(manager, purchase_date=today()).get_json()
    use = _use(manager, batch["id"], 12.5).get_json()
    ledger = kit("demo-regulator").get("/canteens/1/ledger", day=today().isoformat()).get_json()
    assert [r["id"] for r in ledger["records"]["waste_disposal"]] == [waste["id"]]
    assert ledger["records"]["waste_disposal"][0]["handover_name"] == "孙师傅"
    assert [r["id"] for r in ledger["records"]["additive_purchase"]] == [batch["id"]]
    assert ledger["records"]["additive_use"][0]["quantity"] == 12.5
    assert ledger["additive_stock"]["additives"][0]["remaining"] == 487.5
    response = manager.get("/canteens/1/records/export", **{"from": today().isoformat(), "to": today().isoformat()})
    book = load_workbook(io.BytesIO(response.data))
    rows = {name: list(book[name].iter_rows(values_only=True)) for name in book.sheetnames}
    assert rows["餐厨废弃物"][0][:8] == ("记录编号", "处置时间", "种类", "数量(千克)", "收运单位", "收运人",
                                      "许可证/协议编号", "交接人")
    assert rows["餐厨废弃物"][1][0] == waste["id"] and rows["餐厨废弃物"][1][2:8] == (
        "餐厨垃圾", 35.5, "杭州城环餐厨垃圾收运有限公司", "陈师傅", "HZCY-2026-0088", "孙师傅")
    assert rows["食品添加剂采购"][1][:12] == (
        batch["id"], today().isoformat(), "亚硝酸钠", "浙江味美食品配料有限公司", "YX20260301", 500, "克",
        (today() + timedelta(days=300)).isoformat(), "杭州配料供应站", "周师傅", "王主管", "库房食品添加剂专柜（上锁）")
    assert rows["食品添加剂使用"][1][:10] == (use["id"], today().isoformat(), "午餐", "腊肉炒蒜苗", "亚硝酸钠",
                                         "YX20260301", 12.5, "克", "王主管", "孙师傅")
    assert rows["食品添加剂库存"][1][:9] == ("亚硝酸钠", "克", "YX20260301", "浙江味美食品配料有限公司",
                                       today().isoformat(), (today() + timedelta(days=300)).isoformat(), 500, 12.5,
                                       487.5)


def test_another_school_never_sees_or_writes_these_records(manager, kit):
    staff_id = _staff(manager)
    waste = _waste(manager, staff_id).get_json()
    batch = _purchase(manager).get_json()
    other = kit("demo-manager-2", canteen_id=2)
    for url in ("/canteens/1/waste-disposals", "/canteens/1/additive-purchases", "/canteens/1/additive-uses",
                "/canteens/1/additive-stock", f"/records/{waste['id']}", f"/records/{batch['id']}",
                f"/uploads/{waste['files']['photo'][0]['upload_id']}/url"):
        other.get(url, expect=403)
    other.post("/canteens/1/waste-disposals", {"disposed_at": utcnow(), "waste_kind": "other", "quantity_kg": 1,
                                               "collector_company": "某公司", "collector_name": "某人",
                                               "staff_id": staff_id}, expect=403)
    # Their own canteen cannot use our batch nor name our staff.
    assert _use(other, batch["id"], 1, expect=422).get_json()["error"]["code"] == "additive_not_found"
    assert _waste(other, staff_id, photo_upload_ids=[], expect=422).get_json()["error"]["code"] == "staff_not_found"
    assert other.get("/canteens/2/additive-stock").get_json()["additives"] == []
    assert other.get("/canteens/2/waste-disposals").get_json()["items"] == []
    # The school's own parents read the transparency records (not people's health data).
    assert kit("demo-parent-1").get("/canteens/1/waste-disposals").get_json()["items"][0]["id"] == waste["id"]
