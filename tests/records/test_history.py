"""更正记录 (``GET /records/<id>``): who wrote each version of a record, why it corrected the one before, and what
it changed, in the words of the ledger's tables."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from backend.extensions import db
from backend.records.models import SEAL_KINDS, RecordEntry
from backend.records.versions import is_current
from backend.timeutil import utcnow
from tests.records.helpers import amended_sample, item, record_every_kind, today


def _changes(kit, record_id):
    return [v["changes"] for v in kit.get(f"/records/{record_id}").get_json()["versions"]]


def _correct(manager, record_id, reason, **changed):
    draft = manager.get(f"/records/{record_id}/draft").get_json()
    return manager.post(f"/records/{record_id}/amendments", {
        "reason": reason, "expected_version_id": draft["version_id"], "record": {**draft["record"], **changed}})


def test_a_correction_says_what_it_changed_and_who_made_it(manager, traced, kit):
    sample = amended_sample(manager, traced)
    detail = kit("demo-parent-1").get(f"/records/{sample['id']}").get_json()
    first, second = detail["versions"]
    assert first["changes"] == [] and first["reason"] is None
    assert second["changes"] == [{"field": "重量(克)", "before": "150", "after": "180", "line": None}]
    assert second["reason"] == "称重时误读，实际 180 克"
    assert second["created_by_role_label"] == "食堂负责人" and second["created_by_name"]
    assert second["created_by_id"] == first["created_by_id"]


def test_every_kind_sent_back_unchanged_changes_nothing(manager, traced, morning_checked):
    record_every_kind(manager, traced)
    entries = [e for e in db.session.scalars(select(RecordEntry).where(RecordEntry.canteen_id == 1, is_current()))
               if e.kind not in SEAL_KINDS]
    for entry in entries:
        _correct(manager, entry.record_id, "核对无误，原样重录")
        assert _changes(manager, entry.record_id)[-1] == [], entry.kind


def test_lines_are_matched_by_name(manager, traced):
    receiving = traced["receiving"]
    draft = manager.get(f"/records/{receiving['id']}/draft").get_json()["record"]
    pork, rice = draft["items"]
    manager.post(f"/records/{receiving['id']}/amendments", {
        "reason": "补录一项，猪肉数量有误", "record": {**draft, "receiver_name": "钱师傅", "items": [
            {**rice}, {**pork, "quantity": 15}, {**item("鸡蛋", category="egg", batch="JD-1", quantity=30, unit="个",
                                                     shelf_life_days=30)}]}})
    changes = _changes(manager, receiving["id"])[-1]
    assert {"field": "验收人", "before": "周师傅", "after": "钱师傅", "line": None} in changes
    assert {"field": "数量", "before": "12.5", "after": "15", "line": "猪肉"} in changes
    added = [c for c in changes if c["field"] == "新增"]
    assert [(c["line"], c["before"]) for c in added] == [("鸡蛋", "")]
    assert "批号 JD-1" in added[0]["after"] and "数量 30" in added[0]["after"]
    # Reordering lines is no change; the rice line was moved first.
    assert not [c for c in changes if c["line"] == "大米"]
    again = manager.get(f"/records/{receiving['id']}/draft").get_json()["record"]
    manager.post(f"/records/{receiving['id']}/amendments", {
        "reason": "鸡蛋未到货", "record": {**again, "items": again["items"][:2]}})
    removed = _changes(manager, receiving["id"])[-1]
    assert [(c["field"], c["line"], c["after"]) for c in removed] == [("删除", "鸡蛋", "")]
    assert "批号 JD-1" in removed[0]["before"]


def test_a_replaced_photo_is_a_change_though_their_number_stays(manager, traced):
    disinfection = manager.disinfection(today(), "lunch").get_json()
    _correct(manager, disinfection["id"], "照片拍错了", photo_upload_ids=[manager.photo()])
    assert _changes(manager, disinfection["id"])[-1] == [
        {"field": "照片", "before": "1 份", "after": "1 份（已更换）", "line": None, "role": "photo"}]
    # The role names where the two versions keep their files: the replaced photo is still there to look at.
    first, second = manager.get(f"/records/{disinfection['id']}").get_json()["versions"]
    (before,), (after,) = first["record"]["files"]["photo"], second["record"]["files"]["photo"]
    assert before["upload_id"] != after["upload_id"] and before["url"] and after["url"]
    _correct(manager, disinfection["id"], "补一张照片",
             photo_upload_ids=[*manager.get(f"/records/{disinfection['id']}/draft").get_json()["record"][
                 "photo_upload_ids"], manager.photo()])
    assert _changes(manager, disinfection["id"])[-1] == [
        {"field": "照片", "before": "1 份", "after": "2 份", "line": None, "role": "photo"}]


def test_names_stand_for_ids_and_labels_for_codes(manager, traced, morning_checked):
    staff_id = manager.create("staff", {"name": "孙师傅", "post": "厨师"}).get_json()["id"]
    _correct(manager, staff_id, "已离职", active=False)
    assert _changes(manager, staff_id)[-1] == [{"field": "状态", "before": "在职", "after": "离职", "line": None}]
    check = morning_checked
    draft = manager.get(f"/records/{check['id']}/draft").get_json()["record"]
    person = {**draft["persons"][0], "temperature_c": 37.6, "symptoms": ["fever"], "result": "fail"}
    manager.post(f"/records/{check['id']}/amendments", {"reason": "复测体温", "record": {**draft, "persons": [person]}})
    changes = _changes(manager, check["id"])[-1]
    assert {"field": "体温(°C)", "before": "36.4", "after": "37.6", "line": "吴阿姨"} in changes
    assert {"field": "症状", "before": "无", "after": "发热", "line": "吴阿姨"} in changes
    failed = "不合格（当日不得从事接触食品工作）"
    assert {"field": "结果", "before": "合格", "after": failed, "line": "吴阿姨"} in changes


def test_a_record_history_is_read_as_the_record_is(manager, traced, kit, morning_checked):
    sample = amended_sample(manager, traced)
    # Parents read a sample's history, never a person's; nobody reads another school's.
    assert kit("demo-parent-1").get(f"/records/{morning_checked['id']}", expect=403).status_code == 403
    assert kit("demo-manager-2").get(f"/records/{sample['id']}", expect=None).status_code in (403, 404)
    assert kit("demo-regulator").get(f"/records/{sample['id']}").get_json()["versions"][1]["changes"]
    assert manager.get("/records/999999", expect=404).get_json()["error"]["code"] == "not_found"


def test_an_amended_meal_time_reads_in_shanghai_minutes(manager, traced):
    sample = manager.sample(traced["dishes"]["米饭"], utcnow().replace(second=0, microsecond=0)
                            - timedelta(minutes=30)).get_json()
    _correct(manager, sample["id"], "留样时间记错", sampled_at=(utcnow().replace(second=0, microsecond=0)
                                                         - timedelta(minutes=20)).isoformat())
    (change,) = [c for c in _changes(manager, sample["id"])[-1] if c["field"] == "留样时间"]
    assert len(change["before"]) == len("2026-03-10 14:30") and change["before"] < change["after"]


def test_a_record_never_corrected_and_a_seal_have_one_version_and_no_changes(manager, traced, kit):
    sample = manager.sample(traced["dishes"]["米饭"], utcnow() - timedelta(minutes=5)).get_json()
    seal = kit("demo-principal-1").create("seals", {"target": "sample", "target_id": sample["id"],
                                                    "reason": "疑似食物中毒，封存留样"}).get_json()
    for record_id in (sample["id"], seal["id"]):
        (version,) = manager.get(f"/records/{record_id}").get_json()["versions"]
        assert version["changes"] == [] and version["current"] is True
