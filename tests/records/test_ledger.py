"""The desk's 台账: one canteen's day, with the trace, files and amendments; only its school and regulators."""

from __future__ import annotations

from datetime import timedelta

from tests.records.helpers import amended_sample, today


def test_the_ledger_lists_the_day_with_trace_files_and_amendments(manager, traced, kit):
    sample = amended_sample(manager, traced)
    ledger = kit("demo-regulator").get("/canteens/1/ledger", day=today().isoformat()).get_json()
    assert (ledger["canteen_id"], ledger["school_id"], ledger["date"]) == (1, 1, today().isoformat())
    records = ledger["records"]
    assert [r["id"] for r in records["receiving"]] == [traced["receiving"]["id"]]
    assert [r["id"] for r in records["menu"]] == [traced["menu"]["id"]]
    # The sample is listed once, in its corrected version, marked as an amendment with its reason.
    assert [(r["id"], r["weight_g"]) for r in records["sample"]] == [(sample["id"], 180)]
    assert records["sample"][0]["amendment"] == {"amends_version_id": sample["version_id"],
                                                 "reason": "称重时误读，实际 180 克"}
    assert records["sample"][0]["files"]["photo"][0]["url"].startswith("/api/v1/files/")
    assert ledger["amendments"] == 1
    # The trace: dish → ingredient batch → receiving → supplier with its certificate scans.
    lunch = next(m for m in ledger["trace"]["meals"] if m["meal"] == "lunch")
    pork = next(d for d in lunch["menu"]["dishes"] if d["name"] == "红烧肉")["ingredients"][0]
    assert (pork["batch"], pork["receiving_id"], pork["supplier_id"]) == (
        "ZR-0301", traced["receiving"]["id"], traced["supplier_id"])
    assert str(traced["supplier_id"]) in ledger["suppliers"]
    certificates = ledger["certificates"][str(traced["supplier_id"])]
    assert [c["id"] for c in certificates] == [traced["certificate"]["id"]]
    assert certificates[0]["files"]["scan"][0]["content_type"] == "image/jpeg"


def test_another_day_is_empty_and_a_bad_day_is_refused(manager, traced):
    empty = manager.get("/canteens/1/ledger", day=(today() - timedelta(days=3)).isoformat()).get_json()
    assert all(rows == [] for rows in empty["records"].values()) and empty["amendments"] == 0
    for bad in ("2026-13-01", "1999-01-01", "yesterday"):
        response = manager.get("/canteens/1/ledger", expect=422, day=bad)
        assert response.get_json()["error"]["code"] == "validation_failed"
    assert manager.get("/canteens/1/ledger", expect=422).get_json()["error"]["code"] == "validation_failed"


def test_one_schools_people_cannot_read_another_schools_ledger(manager, traced, kit):
    day = today().isoformat()
    for openid in ("demo-manager-2", "demo-principal-2", "demo-staff-2"):
        other = kit(openid, canteen_id=2)
        for url in ("/canteens/1/ledger", "/canteens/1/records/verify"):
            assert other.get(url, expect=403, day=day).get_json()["error"]["code"] == "forbidden"
        assert other.get("/canteens/1/records/export", expect=403, **{"from": day, "to": day})
    # Parents and the committee read the parents' day view, not the desk's ledger.
    for openid in ("demo-parent-1", "demo-committee-1"):
        refused = kit(openid).get("/canteens/1/ledger", expect=403, day=day).get_json()["error"]
        assert "食堂台账" in refused["message"]
    # The school's own staff and the region's regulators read it.
    for openid in ("demo-principal-1", "demo-staff-1", "demo-regulator"):
        assert kit(openid).get("/canteens/1/ledger", day=day).get_json()["records"]["menu"]
