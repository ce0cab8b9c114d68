"""Keeping times (records/retention.py): receiving records six months past the shelf life, two years without one,
other records two years; records past them are reported, never deleted, and still verify and export."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
import time_machine
from openpyxl import load_workbook

from backend.records.retention import add_months, years_after
from tests.records.conftest import RECORDS_CLOCK
from tests.records.helpers import item, today


def _removable(kit, on: date | str | None = None, expect=200, **params):
    if on is not None:
        params["on"] = str(on)  # a date, or a hostile string
    return kit.get("/canteens/1/records/removable", expect=expect, **params)


def test_month_arithmetic_keeps_the_day_or_the_months_last():
    assert add_months(date(2026, 3, 11), 6) == date(2026, 9, 11)
    assert add_months(date(2026, 8, 31), 6) == date(2027, 2, 28)
    assert add_months(date(2026, 11, 30), -6) == date(2026, 5, 30)
    assert years_after(date(2024, 2, 29)) == date(2026, 2, 28)


@pytest.fixture
def kept(manager):
    """Today (2026-03-10): a supplier, pork that expires tomorrow, vegetables without a shelf life, a menu and
    a current member of staff."""
    supplier_id = manager.supplier()
    pork = manager.receiving(supplier_id, [item("猪肉", batch="ZR-0310")]).get_json()
    greens = manager.receiving(supplier_id, [item("青菜", category="vegetable", batch="QC-0310", production_date=None,
                                                  shelf_life_days=None, storage="ambient",
                                                  storage_temperature_c=None)]).get_json()
    menu = manager.menu(today(), "lunch", [("炒青菜", [greens["items"][0]["item_id"]])]).get_json()
    staff = manager.create("staff", {"name": "吴阿姨", "post": "切配"}).get_json()
    return {"supplier": supplier_id, "pork": pork["id"], "greens": greens["id"], "menu": menu["id"],
            "staff": staff["id"]}


@pytest.mark.db
def test_records_past_their_keeping_time_are_listed_with_the_day_they_became_removable(kit, kept):
    principal = kit("demo-principal-1")
    assert today() == date(2026, 3, 10)
    # The pork expires on 2026-03-11: kept six months more, to 2026-09-11.
    assert _removable(principal, date(2026, 9, 11)).get_json()["items"] == []
    report = _removable(principal, date(2026, 9, 12)).get_json()
    assert [(r["record_id"], r["kind"], r["kept_until"], r["removable_on"]) for r in report["items"]] == [
        (kept["pork"], "receiving", "2026-09-11", "2026-09-12")]
    assert report["total"] == 1 and report["on"] == "2026-09-12"
    rules = {r["kind"]: r["rule"] for r in report["rules"]}
    assert rules["receiving"] == "保质期满后 6 个月；没有明确保质期的，收货后 2 年"
    assert rules["menu"] == "记录日期后 2 年"
    # Greens without a shelf life, the menu and the supplier (whose receivings are all past) after two years; the
    # supplier never before its last receiving; a current member of staff never.
    assert [r["record_id"] for r in _removable(principal, date(2028, 3, 10)).get_json()["items"]] == [kept["pork"]]
    later = _removable(kit("demo-regulator"), date(2028, 3, 11)).get_json()
    listed = {r["record_id"]: (r["kind"], r["removable_on"]) for r in later["items"]}
    assert listed == {kept["pork"]: ("receiving", "2026-09-12"), kept["greens"]: ("receiving", "2028-03-11"),
                      kept["menu"]: ("menu", "2028-03-11"), kept["supplier"]: ("supplier", "2028-03-11")}
    assert kept["staff"] not in {r["record_id"] for r in _removable(principal, date(2035, 1, 1)).get_json()["items"]}
    page = _removable(principal, date(2028, 3, 11), limit=2, offset=1).get_json()
    assert page["total"] == 4 and [r["record_id"] for r in page["items"]] == [r["record_id"] for r in
                                                                               later["items"][1:3]]


@pytest.mark.db
def test_a_supplier_is_kept_while_a_later_delivery_of_it_must_be(kit, manager, kept):
    principal = kit("demo-principal-1")
    with time_machine.travel(RECORDS_CLOCK + timedelta(days=700), tick=True):  # 2028-02-08
        manager = kit("demo-manager-1")
        manager.receiving(kept["supplier"], [item("猪肉", batch="ZR-2802")])
        principal = kit("demo-principal-1")
        listed = {r["record_id"] for r in _removable(principal, date(2028, 3, 11)).get_json()["items"]}
        assert kept["greens"] in listed and kept["supplier"] not in listed


@pytest.mark.db
def test_records_older_than_their_keeping_time_still_verify_and_export(kit, kept):
    with time_machine.travel(RECORDS_CLOCK + timedelta(days=3 * 365), tick=True):
        regulator = kit("demo-regulator")
        report = _removable(regulator).get_json()  # today, three years on
        assert {kept["pork"], kept["greens"], kept["menu"], kept["supplier"]} <= {
            r["record_id"] for r in report["items"]}
        verify = regulator.get("/canteens/1/records/verify").get_json()
        assert verify["ok"] is True and verify["checked"] >= 5
        response = regulator.get("/canteens/1/records/export", **{"from": "2026-03-01", "to": "2026-03-31"})
        book = load_workbook(io.BytesIO(response.data))
        batches = [row[5] for row in book["进货查验"].iter_rows(min_row=2, values_only=True)]
        assert batches == ["ZR-0310", "QC-0310"]
        assert [row[3] for row in book["菜单"].iter_rows(min_row=2, values_only=True)] == ["炒青菜"]
        assert regulator.get(f"/records/{kept['pork']}").get_json()["items"][0]["batch"] == "ZR-0310"


def test_only_the_principal_and_the_regions_regulators_read_the_report(kit, kept, ningbo_regulator):
    for openid in ("demo-manager-1", "demo-staff-1", "demo-parent-1"):
        assert _removable(kit(openid), expect=403).status_code == 403
    assert _removable(ningbo_regulator, expect=403).status_code == 403
    assert _removable(kit("demo-principal-1"), limit=0, expect=422).status_code == 422
    assert _removable(kit("demo-principal-1"), on="2026-13-01", expect=422).status_code == 422


def test_the_cli_reports_the_same_records_and_deletes_nothing(app, kept):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["removable-records", "--canteen", "1", "--date", "2026-09-12"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "canteen 1: 1 records past their keeping time on 2026-09-12",
        f"  record {kept['pork']} receiving of 2026-03-10: removable since 2026-09-12"]
    again = runner.invoke(args=["removable-records", "--canteen", "1", "--date", "2026-09-12"])
    assert again.output == result.output


@pytest.mark.db
def test_seals_are_kept_two_years_after_their_release_and_in_force_ones_always(kit, manager, traced):
    """A released seal and its release go two years after the release day; a seal in force is never listed; a
    health certificate two years after it expired (each looked up with its batch, not one query per record)."""
    from tests.records.test_sealing import _seal

    principal, regulator = kit("demo-principal-1"), kit("demo-regulator")
    released = _seal(principal, "item", traced["pork"]).get_json()
    in_force = _seal(principal, "item", traced["rice"]).get_json()
    staff_id = manager.create("staff", {"name": "吴阿姨", "post": "留样员"}).get_json()["id"]
    certificate = manager.create("health-certificates", {
        "staff_id": staff_id, "number": "JKZ-0002", "issuer": "西湖区疾控中心",
        "valid_until": today() + timedelta(days=30), "scan_upload_ids": [manager.photo()]}).get_json()
    with time_machine.travel(RECORDS_CLOCK + timedelta(days=1), tick=True):
        release = regulator.post(f"/records/{released['id']}/release", {"reason": "检验合格，解除封存"}).get_json()
    release_entry = release["release"]["release_id"]
    listed = {r["record_id"]: r["removable_on"]
              for r in _removable(principal, date(2030, 1, 1)).get_json()["items"]}
    assert listed[released["id"]] == listed[release_entry] == "2028-03-12"
    assert listed[certificate["id"]] == "2028-04-10"
    assert in_force["id"] not in listed and staff_id not in listed
