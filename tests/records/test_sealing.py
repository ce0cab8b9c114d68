"""Seals (封存): regulators of the region and the school's principal seal batches, samples and areas; what is
sealed cannot be used, disposed of or corrected until released; seals are chain records, audited, in the
台账 and the export."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
import sqlalchemy as sa
import time_machine
from openpyxl import load_workbook

from backend.audit.models import AuditLog
from backend.extensions import db
from backend.schools.models import Canteen, KitchenArea
from backend.timeutil import utcnow
from tests.records.conftest import RECORDS_CLOCK
from tests.records.helpers import item, today


def _seal(kit, target, target_id, reason="抽检发现疑似问题，暂停使用", expect=201, canteen_id=1):
    return kit.post(f"/canteens/{canteen_id}/seals", {"target": target, "target_id": target_id, "reason": reason},
                    expect=expect)


@pytest.fixture
def principal(kit):
    return kit("demo-principal-1")


@pytest.fixture
def regulator(kit):
    return kit("demo-regulator")


@pytest.mark.db
def test_a_sealed_batch_cannot_be_used_in_a_menu_until_released(manager, principal, regulator, traced):
    seal = _seal(principal, "item", traced["pork"]).get_json()
    assert seal["kind"] == "seal" and seal["in_force"] is True and seal["release"] is None
    assert seal["target"] == "item" and seal["item_id"] == traced["pork"] and seal["authority"] == "principal"
    assert "猪肉" in seal["target_name"] and "ZR-0301" in seal["target_name"]

    refused = manager.menu(today(), "dinner", [("回锅肉", [traced["pork"]])], expect=409).get_json()["error"]
    assert refused["code"] == "item_sealed" and "已被封存" in refused["message"] and "猪肉" in refused["message"]
    assert refused["details"]["seal_id"] == seal["id"]
    # A correction of the lunch menu that keeps the sealed pork is refused too; one without it is not.
    lunch = traced["menu"]
    kept = {"service_date": today(), "meal": "lunch", "dishes": [
        {"name": "红烧肉", "ingredient_item_ids": [traced["pork"], traced["rice"]]}]}
    refused = manager.post(f"/records/{lunch['id']}/amendments", {"reason": "换菜", "record": kept},
                           expect=409).get_json()["error"]
    assert refused["code"] == "item_sealed"
    # The delivery holding the sealed batch cannot be corrected either.
    receiving = traced["receiving"]
    refused = manager.post(f"/records/{receiving['id']}/amendments", {"reason": "改数量", "record": {
        "supplier_id": traced["supplier_id"], "received_at": receiving["received_at"], "receiver_name": "周师傅",
        "items": [item("猪肉", batch="ZR-0301", item_id=traced["pork"]),
                  item("大米", category="grain", batch="DM-0215", item_id=traced["rice"],
                       production_date=today() - timedelta(days=20), shelf_life_days=365, storage="ambient",
                       storage_temperature_c=None)],
        "invoice_upload_ids": []}}, expect=409).get_json()["error"]
    assert refused["code"] == "item_sealed"
    # Rice is not sealed: a dinner of rice alone is fine.
    manager.menu(today(), "dinner", [("白米饭", [traced["rice"]])])

    released = regulator.post(f"/records/{seal['id']}/release", {"reason": "检验合格，解除封存"}).get_json()
    assert released["id"] == seal["id"] and released["in_force"] is False
    assert released["release"]["reason"] == "检验合格，解除封存" and released["release"]["authority"] == "regulator"
    manager.menu(today(), "breakfast", [("肉包", [traced["pork"]])])
    repeat = regulator.post(f"/records/{seal['id']}/release", {"reason": "再次解除"}, expect=409).get_json()
    assert repeat["error"]["code"] == "seal_already_released"

    # Both are records of the chain, which still verifies; both are audited.
    verify = regulator.get("/canteens/1/records/verify").get_json()
    assert verify["ok"] is True
    kinds = [r.action for r in db.session.scalars(sa.select(AuditLog).where(AuditLog.action.like("records.seal%"))
                                                   .order_by(AuditLog.id))]
    assert kinds == ["records.seal", "records.seal_release"]
    detail = principal.get(f"/records/{seal['id']}").get_json()
    assert detail["kind"] == "seal" and detail["release"]["reason"] == "检验合格，解除封存"


@pytest.mark.db
def test_a_sealed_sample_cannot_be_disposed_of_or_corrected(kit, manager, principal, traced):
    sample = manager.sample(traced["dishes"]["米饭"], utcnow() - timedelta(minutes=1)).get_json()
    seal = _seal(principal, "sample", sample["id"], reason="疑似食物中毒，留样封存待检").get_json()
    assert seal["sample_id"] == sample["id"] and "米饭" in seal["target_name"]
    refused = manager.post(f"/records/{sample['id']}/amendments", {"reason": "重量记错", "record": {
        "dish_id": traced["dishes"]["米饭"], "weight_g": 200, "sampled_at": sample["sampled_at"], "sealed": True,
        "fridge_temperature_c": 4, "sampler_name": "吴阿姨", "photo_upload_ids": []}}, expect=409).get_json()
    assert refused["error"]["code"] == "sample_sealed"
    with time_machine.travel(RECORDS_CLOCK + timedelta(days=3), tick=True):
        manager, principal = kit("demo-manager-1"), kit("demo-principal-1")  # sessions of three days later
        refused = manager.create("sample-disposals", {"sample_id": sample["id"], "disposer_name": "吴阿姨"},
                                 expect=409).get_json()["error"]
        assert refused["code"] == "sample_sealed" and "不得处置" in refused["message"]
        principal.post(f"/records/{seal['id']}/release", {"reason": "检验完成"})
        manager.create("sample-disposals", {"sample_id": sample["id"], "disposer_name": "吴阿姨"})
        # A disposed sample cannot be sealed any more.
        assert _seal(principal, "sample", sample["id"], expect=409).get_json()["error"]["code"] == \
            "sample_already_disposed"


@pytest.mark.db
def test_no_work_is_recorded_in_a_sealed_area(manager, regulator):
    area_id = db.session.scalar(sa.select(KitchenArea.id).where(KitchenArea.canteen_id == 1).order_by(KitchenArea.id))
    seal = _seal(regulator, "area", area_id, reason="存在严重卫生问题，责令停用").get_json()
    assert seal["area_id"] == area_id and seal["authority"] == "regulator"
    refused = manager.disinfection(today(), "lunch", target="area", method="ultraviolet", temperature_c=None,
                                   minutes=30, item_count=None, area_id=area_id, expect=409).get_json()["error"]
    assert refused["code"] == "area_sealed"
    assert _seal(regulator, "area", area_id, expect=409).get_json()["error"]["code"] == "already_sealed"


@pytest.mark.db
def test_a_release_sent_again_with_its_key_answers_the_released_seal_once(principal, regulator, traced):
    seal = _seal(principal, "item", traced["pork"]).get_json()
    first = regulator.post(f"/records/{seal['id']}/release", {"reason": "检验合格"}, key="release-once-01")
    again = regulator.post(f"/records/{seal['id']}/release", {"reason": "检验合格"}, key="release-once-01")
    assert first.headers["Idempotent-Replayed"] == "false" and again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == first.get_json()
    assert first.get_json()["id"] == seal["id"] and first.get_json()["release"]["reason"] == "检验合格"


def test_seal_input_is_checked(principal, manager, traced):
    other_area = db.session.scalar(sa.select(KitchenArea.id).join(Canteen).where(Canteen.school_id == 2))
    assert _seal(principal, "area", other_area, expect=422).get_json()["error"]["code"] == "seal_target_not_found"
    assert _seal(principal, "sample", traced["menu"]["id"], expect=422).get_json()["error"]["code"] == \
        "seal_target_not_found"
    assert _seal(principal, "item", traced["pork"], reason=" ", expect=422).status_code == 422
    assert _seal(principal, "cellar", 1, expect=422).status_code == 422
    bad = principal.post(f"/records/{traced['supplier_id']}/release", {"reason": "解除"}, expect=422).get_json()
    assert bad["error"]["code"] == "not_a_seal"
    seal = _seal(principal, "item", traced["rice"]).get_json()
    refused = manager.post(f"/records/{seal['id']}/amendments", {"reason": "改理由", "record": {}}, expect=409)
    assert refused.get_json()["error"]["code"] == "record_not_amendable"
    repeat_key = "seal-once-0001"
    first = principal.post("/canteens/1/seals", {"target": "item", "target_id": traced["pork"], "reason": "复检"},
                           key=repeat_key)
    again = principal.post("/canteens/1/seals", {"target": "item", "target_id": traced["pork"], "reason": "复检"},
                           key=repeat_key)
    assert again.get_json()["id"] == first.get_json()["id"] and again.headers["Idempotent-Replayed"] == "true"


def test_only_the_regions_regulators_and_the_principal_seal_and_staff_read(kit, manager, principal, traced,
                                                                           ningbo_regulator):
    for openid in ("demo-manager-1", "demo-staff-1", "demo-parent-1", "demo-committee-1"):
        refused = _seal(kit(openid), "item", traced["pork"], expect=403).get_json()["error"]
        assert refused["code"] == "forbidden" and "封存" in refused["message"]
    assert _seal(ningbo_regulator, "item", traced["pork"], expect=403).status_code == 403
    seal = _seal(principal, "item", traced["pork"]).get_json()
    assert ningbo_regulator.post(f"/records/{seal['id']}/release", {"reason": "解除"}, expect=403).status_code == 403
    assert ningbo_regulator.get("/canteens/1/seals", expect=403).status_code == 403
    assert ningbo_regulator.get(f"/records/{seal['id']}", expect=403).status_code == 403
    assert kit("demo-parent-1").get("/canteens/1/seals", expect=403).status_code == 403
    assert kit("demo-parent-1").get(f"/records/{seal['id']}", expect=403).status_code == 403
    listed = manager.get("/canteens/1/seals", status="in_force").get_json()
    assert [s["id"] for s in listed["items"]] == [seal["id"]]
    assert manager.get("/canteens/1/seals", status="released").get_json()["items"] == []
    assert kit("demo-regulator").get("/canteens/1/seals", target="area").get_json()["items"] == []


@pytest.mark.db
def test_seals_appear_in_the_ledger_and_the_export(manager, principal, regulator, traced):
    pork = _seal(principal, "item", traced["pork"], reason="批次待检").get_json()
    rice = _seal(regulator, "item", traced["rice"], reason="包装破损").get_json()
    regulator.post(f"/records/{rice['id']}/release", {"reason": "更换包装后放行"})
    ledger = manager.get("/canteens/1/ledger", day=today().isoformat()).get_json()
    assert [s["id"] for s in ledger["seals"]["in_force"]] == [pork["id"]]
    assert [(s["id"], s["in_force"]) for s in ledger["seals"]["of_day"]] == [(pork["id"], True), (rice["id"], False)]
    response = regulator.get("/canteens/1/records/export", **{"from": today().isoformat(), "to": today().isoformat()})
    sheet = load_workbook(io.BytesIO(response.data))["封存记录"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:5] == ("记录编号", "封存时间", "封存对象", "名称", "封存理由")
    by_id = {row[0]: row for row in rows[1:]}
    assert by_id[pork["id"]][4] == "批次待检" and by_id[pork["id"]][5] == "校长" and by_id[pork["id"]][7] == "封存中"
    assert by_id[rice["id"]][7] == "已解封" and by_id[rice["id"]][9] == "更换包装后放行"
    assert by_id[rice["id"]][10] == "监管部门"


def _seal_notices(purpose):
    from backend.accounts.models import User
    from backend.notices.models import Notice
    return {openid: (notice.title, notice.body, notice.payload, notice.subject_type, notice.subject_id, notice.page)
            for notice, openid in db.session.execute(
                sa.select(Notice, User.openid).join(User, User.id == Notice.user_id).where(Notice.purpose == purpose))}


@pytest.mark.db
def test_a_seal_and_its_release_are_told_to_the_people_it_binds(manager, principal, regulator):
    # Who keeps the canteen's records is told (the principal, the manager, the food-safety staff), not parents or
    # the committee, and not the one who acted; a replayed request tells nobody twice.
    area = db.session.scalar(sa.select(KitchenArea).where(KitchenArea.canteen_id == 1).order_by(KitchenArea.id))
    key = "seal-area-notice"
    seal = regulator.post("/canteens/1/seals", {"target": "area", "target_id": area.id,
                                                "reason": "发现鼠迹，暂停使用并消杀"}, key=key).get_json()
    regulator.post("/canteens/1/seals", {"target": "area", "target_id": area.id, "reason": "发现鼠迹，暂停使用并消杀"},
                   key=key, expect=None)
    placed = _seal_notices("seal_placed")
    assert set(placed) == {"demo-principal-1", "demo-manager-1", "demo-staff-1"}
    title, body, payload, subject_type, subject_id, page = placed["demo-manager-1"]
    assert title == f"封存通知：{area.name}"
    assert body.startswith("西湖区市场监管部门封存了") and f"「{area.name}」" in body
    assert "原因：发现鼠迹，暂停使用并消杀" in body and "解除封存前不得在该区域作业（含消毒记录）" in body
    assert (subject_type, subject_id) == ("record", seal["id"])
    assert page == "pages/records/hub/index"  # 台账填报, where the seals in force are listed
    assert payload["state"] == "已封存" and payload["target"] == area.name

    principal.post(f"/records/{seal['id']}/release", {"reason": "消杀完毕，复查合格"})
    released = _seal_notices("seal_released")
    assert set(released) == {"demo-manager-1", "demo-staff-1"}  # the principal released it
    title, body, payload, _, subject_id, _ = released["demo-staff-1"]
    assert title == f"解除封存：{area.name}" and subject_id == seal["id"]
    assert body.startswith("西湖实验小学校长解除了") and "原因：消杀完毕，复查合格" in body
    assert payload["state"] == "已解除"
