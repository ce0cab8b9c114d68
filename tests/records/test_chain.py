"""Tamper evidence: the hash chain, changes made behind the application's back, amendments."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from itertools import pairwise

import pytest
import sqlalchemy as sa

from backend.extensions import db
from backend.records.chain import GENESIS_HASH, canonical_json, verify_chain
from backend.records.models import AppendOnlyViolation, RecordEntry, SampleLog
from backend.timeutil import utcnow
from tests.records.helpers import item, today


def _raw(sql, **params):
    with db.engine.begin() as conn:
        conn.execute(sa.text(sql), params)
    db.session.expire_all()


def _verify(manager):
    return manager.get("/canteens/1/records/verify").get_json()


def test_intact_chain_verifies(manager, traced):
    result = _verify(manager)
    assert result["ok"] is True and result["first_broken"] is None
    entries = db.session.scalars(sa.select(RecordEntry).order_by(RecordEntry.seq)).all()
    assert [e.seq for e in entries] == [1, 2, 3, 4]
    assert [e.kind for e in entries] == ["supplier", "certificate", "receiving", "menu"]
    assert entries[0].prev_hash == GENESIS_HASH
    assert all(b.prev_hash == a.hash for a, b in pairwise(entries))
    assert result["checked"] == 4 and result["head"] == {"seq": 4, "hash": entries[-1].hash}


def test_hash_is_sha256_of_previous_hash_and_canonical_serialisation(manager, traced):
    from backend.records.bundle import load_bundle
    from backend.records.chain import entry_document

    entry = db.session.scalars(sa.select(RecordEntry).where(RecordEntry.seq == 3)).one()
    document = entry_document(entry, load_bundle([entry]))
    assert document["record"]["receiver_name"] == "周师傅"
    assert [i["ingredient"] for i in document["items"]] == ["猪肉", "大米"]
    assert document["attachments"][0]["role"] == "invoice" and len(document["attachments"][0]["sha256"]) == 64
    text = canonical_json(document)
    assert json.loads(text) == document and " " not in text.replace("周师傅", "")
    assert entry.hash == hashlib.sha256((entry.prev_hash + "\n" + text).encode()).hexdigest()


@pytest.mark.parametrize(("sql", "seq", "problem"), [
    ("UPDATE record_supplier SET name = '假冒供应商'", 1, "hash_mismatch"),
    ("UPDATE record_receiving_item SET batch = 'FORGED' WHERE ingredient = '猪肉'", 3, "hash_mismatch"),
    ("UPDATE record_receiving_item SET quantity = 99 WHERE ingredient = '大米'", 3, "hash_mismatch"),
    ("UPDATE record_certificate SET valid_until = '2099-12-31'", 2, "hash_mismatch"),
    ("UPDATE record_dish_ingredient SET item_id = (SELECT MIN(item_id) FROM record_dish_ingredient) "
     "WHERE dish_id = (SELECT MAX(dish_id) FROM record_dish_ingredient)", 4, "hash_mismatch"),
    # Each forgery flips a character to one it cannot already be, so the row really changes.
    ("UPDATE upload SET sha256 = (CASE WHEN substr(sha256, 1, 1) = 'f' THEN 'e' ELSE 'f' END) || substr(sha256, 2) "
     "WHERE content_type = 'application/pdf'", 3, "hash_mismatch"),
    ("DELETE FROM record_attachment WHERE role = 'scan'", 2, "hash_mismatch"),
    ("UPDATE record_entry SET created_by_id = NULL WHERE seq = 2", 2, "hash_mismatch"),
    ("UPDATE record_entry SET hash = (CASE WHEN substr(hash, 1, 1) = 'a' THEN 'b' ELSE 'a' END) || substr(hash, 2) "
     "WHERE seq = 2", 2, "hash_mismatch"),
    ("UPDATE record_entry SET seq = 10 WHERE seq = 2", 2, "seq_gap"),
])
def test_rows_changed_behind_the_applications_back_are_found(manager, traced, sql, seq, problem):
    assert _verify(manager)["ok"] is True
    _raw(sql)
    result = _verify(manager)
    assert result["ok"] is False
    assert result["first_broken"]["seq"] == seq and result["first_broken"]["problem"] == problem
    assert result["first_broken"]["message"]


def test_a_recomputed_hash_still_breaks_the_next_link(manager, traced):
    # Someone changes a supplier and even recomputes that entry's hash: the next entry no longer points at it.
    from backend.records.bundle import load_bundle
    from backend.records.chain import compute_hash, entry_document

    _raw("UPDATE record_supplier SET name = '假冒供应商'")
    entry = db.session.scalars(sa.select(RecordEntry).where(RecordEntry.seq == 1)).one()
    forged = compute_hash(entry.prev_hash, entry_document(entry, load_bundle([entry])))
    _raw("UPDATE record_entry SET hash = :h WHERE seq = 1", h=forged)
    result = _verify(manager)
    assert result["first_broken"]["seq"] == 2 and result["first_broken"]["problem"] == "prev_hash_mismatch"


def test_deleted_last_entry_is_found_by_the_head(manager, traced):
    _raw("DELETE FROM record_dish_ingredient")
    _raw("DELETE FROM record_menu_dish")
    _raw("DELETE FROM record_menu")
    _raw("DELETE FROM record_entry WHERE seq = 4")
    result = _verify(manager)
    assert result["ok"] is False and result["first_broken"]["problem"] == "head_mismatch"
    assert result["checked"] == 3


def test_deleted_typed_row_is_found(manager, traced):
    _raw("DELETE FROM record_attachment WHERE entry_id IN (SELECT id FROM record_entry WHERE seq = 2)")
    _raw("DELETE FROM record_certificate")
    result = _verify(manager)
    assert result["first_broken"]["seq"] == 2 and result["first_broken"]["problem"] == "record_missing"


def test_the_application_cannot_update_or_delete_records(manager, traced):
    sample = db.session.scalars(sa.select(RecordEntry)).first()
    sample.record_date = today().replace(year=2000)
    with pytest.raises(AppendOnlyViolation):
        db.session.flush()
    db.session.rollback()
    db.session.delete(db.session.scalars(sa.select(RecordEntry)).first())
    with pytest.raises(AppendOnlyViolation):
        db.session.flush()
    db.session.rollback()


def test_amendment_points_at_the_original_and_says_why(manager, traced):
    sample = manager.sample(traced["dishes"]["米饭"], utcnow() - timedelta(minutes=5)).get_json()
    corrected = manager.post(f"/records/{sample['id']}/amendments", {
        "reason": "称重时误读，实际 180 克", "expected_version_id": sample["version_id"],
        "record": {"dish_id": traced["dishes"]["米饭"], "weight_g": 180, "sampled_at": sample["sampled_at"],
                   "sealed": True, "fridge_temperature_c": 4, "sampler_name": "吴阿姨",
                   "photo_upload_ids": [f["upload_id"] for f in sample["files"]["photo"]]}}).get_json()
    assert corrected["id"] == sample["id"] and corrected["version_id"] != sample["version_id"]
    assert corrected["amendment"] == {"amends_version_id": sample["version_id"], "reason": "称重时误读，实际 180 克"}
    assert corrected["weight_g"] == 180
    detail = manager.get(f"/records/{sample['id']}").get_json()
    assert [v["record"]["weight_g"] for v in detail["versions"]] == [150, 180]
    assert [v["current"] for v in detail["versions"]] == [False, True]
    assert detail["versions"][1]["reason"] == "称重时误读，实际 180 克"
    # The original row is untouched, both are in the chain, and lists show the corrected version only.
    rows = db.session.scalars(sa.select(SampleLog).order_by(SampleLog.entry_id)).all()
    assert [r.weight_g for r in rows] == [150, 180]
    listed = manager.get("/canteens/1/samples").get_json()["items"]
    assert [(s["id"], s["weight_g"]) for s in listed] == [(sample["id"], 180)]
    assert _verify(manager)["ok"] is True and _verify(manager)["checked"] == 6


def test_amendment_rules(manager, traced, kit):
    menu = traced["menu"]
    body = {"reason": "更换菜品", "record": {"service_date": today().isoformat(), "meal": "lunch", "dishes": [
        {"name": "清蒸猪肉", "ingredient_item_ids": [traced["pork"]]}]}}
    stale = manager.post(f"/records/{menu['id']}/amendments", {**body, "expected_version_id": 999999}, expect=409)
    assert stale.get_json()["error"]["code"] == "record_version_conflict"
    short = manager.post(f"/records/{menu['id']}/amendments", {**body, "reason": "改"}, expect=422)
    assert short.get_json()["error"]["details"]["fields"]["reason"] == ["长度应在 2 到 500 之间"]
    invalid = manager.post(f"/records/{menu['id']}/amendments", {"reason": "更换菜品", "record": {"meal": "x"}},
                           expect=422)
    assert set(invalid.get_json()["error"]["details"]["fields"]["record"]) == {"meal", "service_date", "dishes"}
    assert kit("demo-parent-1").post(f"/records/{menu['id']}/amendments", body, expect=403).status_code == 403
    amended = manager.post(f"/records/{menu['id']}/amendments", body).get_json()
    assert [d["name"] for d in amended["dishes"]] == ["清蒸猪肉"]
    # Amending through an old version id still amends the current version.
    again = manager.post(f"/records/{amended['version_id']}/amendments", {**body, "reason": "再次更换"}).get_json()
    assert again["amendment"]["amends_version_id"] == amended["version_id"] and again["id"] == menu["id"]


def test_a_menu_correction_keeps_what_its_samples_are_of(manager, traced):
    """A sample names its menu, day, meal and dish by name: a correction that renamed or removed the sampled dish,
    or moved the menu to another meal, would leave the sample pointing at nothing (the day showed 未留样)."""
    menu = traced["menu"]
    manager.sample(traced["dishes"]["米饭"], utcnow() - timedelta(minutes=5))
    draft = manager.get(f"/records/{menu['id']}/draft").get_json()
    dishes = draft["record"]["dishes"]

    def correct(record, expect):
        return manager.post(f"/records/{menu['id']}/amendments", {"reason": "核对菜单", "record": record},
                            expect=expect).get_json()

    renamed = [{**d, "name": "白米饭"} if d["name"] == "米饭" else d for d in dishes]
    refused = correct({**draft["record"], "dishes": renamed}, 409)["error"]
    assert (refused["code"], refused["details"]["dishes"]) == ("dish_sampled", ["米饭"])
    assert refused["message"] == "「米饭」已留样，不能删除或改名"
    removed = [d for d in dishes if d["name"] != "米饭"]
    assert correct({**draft["record"], "dishes": removed}, 409)["error"]["code"] == "dish_sampled"
    moved = correct({**draft["record"], "meal": "dinner"}, 409)["error"]
    assert (moved["code"], moved["details"]["field"]) == ("menu_sampled", "service_date")
    # The dish not sampled may still be renamed; the sample stays on its dish.
    other = [{**d, "name": "红烧五花肉"} if d["name"] == "红烧肉" else d for d in dishes]
    assert [d["name"] for d in correct({**draft["record"], "dishes": other}, 201)["dishes"]] == ["红烧五花肉", "米饭"]
    lunch = next(m for m in manager.get("/schools/1/today").get_json()["canteens"][0]["meals"] if m["meal"] == "lunch")
    assert {d["name"]: d["sample"] is not None for d in lunch["menu"]["dishes"]} == {"红烧五花肉": False, "米饭": True}


def test_receiving_amendment_keeps_item_identity_for_dishes(manager, traced):
    receiving = traced["receiving"]
    pork, rice = receiving["items"]
    body = {"reason": "批号抄错", "record": {
        "supplier_id": traced["supplier_id"], "received_at": receiving["received_at"], "receiver_name": "周师傅",
        "items": [item("猪肉", batch="ZR-0302", item_id=pork["item_id"]),
                  item("大米", category="grain", batch="DM-0215", quantity=50, production_date=rice["production_date"],
                       shelf_life_days=365, storage="ambient", storage_temperature_c=None, item_id=rice["item_id"])]}}
    amended = manager.post(f"/records/{receiving['id']}/amendments", _dates(body)).get_json()
    assert [i["item_id"] for i in amended["items"]] == [pork["item_id"], rice["item_id"]]
    day = manager.get("/schools/1/today").get_json()
    lunch = next(m for m in day["canteens"][0]["meals"] if m["meal"] == "lunch")
    batches = [i["batch"] for i in lunch["menu"]["dishes"][0]["ingredients"]]
    assert batches == ["ZR-0302", "DM-0215"]
    # Dropping a line that a dish uses is refused.
    body["record"]["items"] = body["record"]["items"][:1]
    dropped = manager.post(f"/records/{receiving['id']}/amendments", _dates(body), expect=409)
    assert dropped.get_json()["error"]["code"] == "item_in_use"


def test_verify_command_reports_the_first_broken_link(app, manager, traced):
    runner = app.test_cli_runner()
    ok = runner.invoke(args=["verify-records", "--canteen", "1"])
    assert ok.exit_code == 0 and "canteen 1: ok, 4 records" in ok.output
    _raw("UPDATE record_receiving SET receiver_name = '别人'")
    broken = runner.invoke(args=["verify-records"])
    assert broken.exit_code == 1
    assert "canteen 1: BROKEN at seq 3" in broken.output and "hash_mismatch" in broken.output
    as_json = runner.invoke(args=["verify-records", "--json"])
    assert json.loads(as_json.output.splitlines()[0])["first_broken"]["seq"] == 3


def test_verify_walks_long_chains_in_batches(manager, traced):
    for n in range(5):
        manager.supplier(f"供应商{n}")
    assert verify_chain(1, batch_size=2).ok and verify_chain(1, batch_size=2).checked == 9
    _raw("UPDATE record_supplier SET phone = '1' WHERE name = '供应商3'")
    assert verify_chain(1, batch_size=2).broken.seq == 8


def _dates(value):
    from tests.records.helpers import _jsonable

    return _jsonable(value)
