"""更正的底稿 (``GET /records/<id>/draft``): a record's current version in the shape its correction takes.

The round trip is the contract: for a canteen holding every kind of record, each draft sent back unchanged as a
correction is accepted and makes a version with the same content (typed row, children and files, as the chain
hashes them).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from backend.extensions import db
from backend.records.bundle import load_bundle
from backend.records.chain import entry_document
from backend.records.models import SEAL_KINDS, MenuDish, RecordEntry, RecordKind
from backend.records.versions import is_current
from backend.timeutil import utcnow
from tests.records.helpers import record_every_kind, today

# Row ids that a new version gets anew; a receiving item keeps its identity through ``origin_item_id``.
NEW_IDS = {"id", "origin_item_id"}


def _content(entry_id: int) -> dict[str, Any]:
    """What the chain hashes of a version, less what every new version has of its own."""
    entry = db.session.get(RecordEntry, entry_id)
    document = entry_document(entry, load_bundle([entry]))
    document.pop("entry")
    for key in ("items", "dishes", "persons"):
        if key in document:
            document[key] = [{k: v for k, v in row.items() if k not in NEW_IDS} for row in document[key]]
    record = document["record"]
    if record.get("dish_id") is not None:  # a dish's row is new with each menu version: its menu and name are it
        dish = db.session.get(MenuDish, record["dish_id"])
        record["dish_id"] = (db.session.get(RecordEntry, dish.entry_id).record_id, dish.name)
    if "items" in document:  # the line's identity: its first version
        rows = load_bundle([entry]).items[entry.id]
        document["item_identity"] = [row.logical_id for row in rows]
    return document


def _current_entries() -> list[RecordEntry]:
    return list(db.session.scalars(select(RecordEntry).where(RecordEntry.canteen_id == 1, is_current())
                                   .order_by(RecordEntry.seq)))


def test_every_kind_sent_back_unchanged_makes_the_same_record(manager, traced, morning_checked):
    record_every_kind(manager, traced)
    entries = [e for e in _current_entries() if e.kind not in SEAL_KINDS]
    assert {e.kind for e in entries} == set(RecordKind) - SEAL_KINDS
    for entry in entries:
        record_id, version_id = entry.record_id, entry.id
        before = _content(version_id)
        draft = manager.get(f"/records/{record_id}/draft").get_json()
        assert (draft["record_id"], draft["version_id"], draft["kind"]) == (record_id, version_id, entry.kind)
        corrected = manager.post(f"/records/{record_id}/amendments", {
            "reason": "核对无误，原样重录", "expected_version_id": version_id, "record": draft["record"]},
            expect=None)
        assert corrected.status_code == 201, (entry.kind, draft["record"], corrected.get_json())
        new_version = corrected.get_json()["version_id"]
        assert new_version != version_id
        assert _content(new_version) == before, entry.kind


def test_a_draft_carries_its_files_for_the_form_to_show(manager, traced):
    disinfection = manager.disinfection(today(), "lunch").get_json()
    draft = manager.get(f"/records/{disinfection['id']}/draft").get_json()
    photos = disinfection["files"]["photo"]
    assert draft["record"]["photo_upload_ids"] == [p["upload_id"] for p in photos]
    assert [f["upload_id"] for f in draft["files"]["photo_upload_ids"]] == [p["upload_id"] for p in photos]
    assert draft["files"]["photo_upload_ids"][0]["url"]
    assert draft["kind_label"] == "消毒记录" and draft["record_date"] == today().isoformat()
    # Times come back in Shanghai time with their offset, as the form shows them.
    assert draft["record"]["performed_at"].endswith("+08:00")
    # A record without files still names the fields its kind takes.
    receiving = manager.get(f"/records/{traced['receiving']['id']}/draft").get_json()
    assert set(receiving["files"]) == {"inspection_report_upload_ids", "invoice_upload_ids"}
    # Asked through an older version's id, the draft is of the current version.
    corrected = manager.post(f"/records/{disinfection['id']}/amendments", {
        "reason": "操作人写错", "record": {**draft["record"], "operator_name": "钱师傅"}}).get_json()
    again = manager.get(f"/records/{disinfection['version_id']}/draft").get_json()
    assert again["version_id"] == corrected["version_id"] and again["record"]["operator_name"] == "钱师傅"


def test_only_writers_of_the_school_get_a_draft(manager, traced, kit):
    record_id = traced["menu"]["id"]
    assert kit("demo-parent-1").get(f"/records/{record_id}/draft", expect=403).status_code == 403
    assert kit("demo-regulator").get(f"/records/{record_id}/draft", expect=None).status_code == 403
    assert kit("demo-manager-2").get(f"/records/{record_id}/draft", expect=None).status_code in (403, 404)
    assert manager.get("/records/999999/draft", expect=404).get_json()["error"]["code"] == "not_found"


def test_a_seal_or_a_sealed_sample_has_no_draft(manager, traced, kit):
    sample = manager.sample(traced["dishes"]["米饭"], utcnow() - timedelta(minutes=5)).get_json()
    principal = kit("demo-principal-1")
    seal = principal.create("seals", {"target": "sample", "target_id": sample["id"],
                                      "reason": "疑似食物中毒，封存留样"})
    assert seal.status_code == 201, seal.get_json()
    sealed = manager.get(f"/records/{sample['id']}/draft", expect=409).get_json()
    assert sealed["error"]["code"] == "sample_sealed"
    refused = manager.get(f"/records/{seal.get_json()['id']}/draft", expect=None)
    assert refused.status_code in (403, 409)

