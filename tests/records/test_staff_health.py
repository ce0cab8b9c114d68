"""Staff register, health certificates and morning checks (晨检): rules, violations, privacy and export."""

from __future__ import annotations

import io
from datetime import date, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from backend.extensions import db
from backend.records.chain import verify_chain
from backend.records.completeness import send_unreported_summaries, unreported
from backend.records.compliance_rules import run_record_rules
from backend.records.day import day_overview
from backend.records.queries import list_records
from backend.schools.models import Canteen, Region, School
from backend.timeutil import utcnow
from backend.violations.models import Violation
from tests.records.helpers import at, today

MONDAY = date(2026, 3, 2)  # a fixed past Monday: records of it are not in the future, and windows are set for it


def _set_monday_windows(canteen_id: int = 1) -> None:
    canteen = db.session.get(Canteen, canteen_id)
    canteen.meal_windows = [{"weekday": 0, "meal": "breakfast", "start": "07:00", "end": "08:00"},
                            {"weekday": 0, "meal": "lunch", "start": "11:30", "end": "12:30"}]
    db.session.commit()


def _staff(kit: Any, name: str, post: str = "切配", **extra: Any) -> int:
    return kit.create("staff", {"name": name, "post": post, "phone": "13905710001", **extra}).get_json()["id"]


def _certificate(kit: Any, staff_id: int, valid_until: date, **kwargs: Any) -> Any:
    return kit.create("health-certificates", {"staff_id": staff_id, "number": "JKZ330106-2026-0001",
                                              "issuer": "杭州市西湖区疾病预防控制中心", "valid_until": valid_until,
                                              "scan_upload_ids": [kit.photo()]}, **kwargs)


def _person(staff_id: int, temperature: float = 36.5, **extra: Any) -> dict[str, Any]:
    return {"staff_id": staff_id, "temperature_c": temperature, "hands_ok": True, "symptoms": [], **extra}


def _check(kit: Any, persons: list[dict[str, Any]], day: date | None = None, hhmm: str | None = None,
           **kwargs: Any) -> Any:
    checked_at = at(day, hhmm) if day and hhmm else utcnow() - timedelta(minutes=1)
    return kit.create("morning-checks", {"check_date": day or today(), "checked_at": checked_at,
                                         "checker_name": "王主管", "persons": persons}, **kwargs)


def _violations(kind: str) -> list[Violation]:
    return list(db.session.scalars(sa.select(Violation).where(Violation.kind == kind).order_by(Violation.id)))


@pytest.fixture
def crew(manager) -> dict[str, int]:
    """Three people of canteen 1: two with a certificate valid for long, one without any."""
    ids = {name: _staff(manager, name) for name in ("张三", "李四", "王五")}
    for name in ("张三", "李四"):
        _certificate(manager, ids[name], today() + timedelta(days=300))
    return ids


# Register and certificates -----------------------------------------------------------------------------
def test_certificate_warns_thirty_days_before_expiry(manager):
    staff_id = _staff(manager, "张三")
    soon = _certificate(manager, staff_id, today() + timedelta(days=20)).get_json()
    assert (soon["status"], soon["status_label"], soon["staff_name"]) == ("expiring", "30天内到期", "张三")
    assert soon["files"]["scan"][0]["content_type"] == "image/jpeg"
    listed = manager.get("/canteens/1/staff").get_json()["items"]
    assert [(s["name"], s["certificate_status"], s["health_certificate"]["id"]) for s in listed] == [
        ("张三", "expiring", soon["id"])]
    assert [c["id"] for c in manager.get("/canteens/1/health-certificates", status="expiring").get_json()["items"]] \
        == [soon["id"]]
    assert manager.get("/canteens/1/health-certificates", status="valid").get_json()["items"] == []


def test_certificate_status_boundaries_on_a_fixed_day(manager):
    ids = {days: _staff(manager, f"员工{days}") for days in (-1, 0, 30, 31)}
    for days, staff_id in ids.items():
        _certificate(manager, staff_id, MONDAY + timedelta(days=days))

    def listed(status: str) -> list[str]:
        return sorted(c["valid_until"] for c in list_records(1, "health_certificate", {"status": status}, cursor=None,
                                                             limit=20, on=MONDAY)["items"])

    assert listed("expired") == [(MONDAY - timedelta(days=1)).isoformat()]
    assert listed("expiring") == [MONDAY.isoformat(), (MONDAY + timedelta(days=30)).isoformat()]
    assert listed("valid") == [(MONDAY + timedelta(days=31)).isoformat()]
    staff = {s["name"]: s["certificate_status"]
             for s in list_records(1, "staff", {}, cursor=None, limit=20, on=MONDAY)["items"]}
    assert staff == {"员工-1": "expired", "员工0": "expiring", "员工30": "expiring", "员工31": "valid"}


def test_register_and_certificate_validation_in_chinese(manager, kit):
    bad = manager.create("staff", {"name": "", "post": "切配", "phone": "call me"}, expect=422).get_json()["error"]
    assert bad["code"] == "validation_failed"
    assert bad["details"]["fields"]["phone"] == ["电话号码格式不正确"]
    first = _staff(manager, "张三")
    again = manager.create("staff", {"name": "张三", "post": "厨师"}, expect=409).get_json()["error"]
    assert (again["code"], again["details"]["record_id"]) == ("staff_exists", first)
    assert "张三" in again["message"]
    broken = manager.create("health-certificates", {
        "staff_id": 999999, "number": "X1", "issuer": "疾控中心", "valid_from": MONDAY,
        "valid_until": MONDAY - timedelta(days=1), "scan_upload_ids": [manager.photo()]}, expect=422).get_json()
    assert [e["code"] for e in broken["error"]["details"]["errors"]] == ["staff_not_found", "validity_reversed"]
    assert broken["error"]["message"] == "人员不存在或不属于该食堂"
    no_photo = manager.create("health-certificates", {"staff_id": first, "number": "X1", "issuer": "疾控中心",
                                                      "valid_until": MONDAY}, expect=422).get_json()["error"]
    assert "scan_upload_ids" in no_photo["details"]["fields"]
    # A person of another school's canteen is not this canteen's.
    other = _staff(kit("demo-manager-2", canteen_id=2), "赵六")
    foreign = _certificate(manager, other, MONDAY, expect=422).get_json()["error"]
    assert foreign["code"] == "staff_not_found"


# Morning checks ----------------------------------------------------------------------------------------
def test_a_failing_person_is_off_food_handling_that_day(manager, crew, traced):
    check = _check(manager, [_person(crew["张三"]), _person(crew["李四"], 37.0, symptoms=["diarrhoea"]),
                             _person(crew["王五"], hands_ok=False, result="fail", remarks="手指割伤")]).get_json()
    persons = {p["name"]: p for p in check["persons"]}
    assert [(n, p["result"], p["food_handling"]) for n, p in persons.items()] == [
        ("张三", "pass", True), ("李四", "fail", False), ("王五", "fail", False)]
    assert persons["李四"]["symptom_labels"] == ["腹泻"]
    assert persons["王五"]["certificate_status"] == "missing"
    assert check["summary"] == {"checked": 3, "passed": 1, "failed": 2}
    assert check["off_food_handling"] == ["李四", "王五"]
    dish_id = traced["dishes"]["米饭"]

    def sample(sampler: str, expect: int) -> Any:
        return manager.create("samples", {"dish_id": dish_id, "weight_g": 150, "sampled_at": utcnow() - timedelta(
            minutes=1), "sealed": True, "fridge_temperature_c": 4, "sampler_name": sampler,
            "photo_upload_ids": [manager.photo()]}, expect=expect).get_json()

    refused = sample("李四", 422)["error"]
    assert refused["code"] == "failed_morning_check"
    assert refused["message"] == "「李四」当日晨检不合格，不得从事接触食品的工作"
    assert sample("张三", 201)["sampler_name"] == "张三"


def test_one_check_a_day_and_corrections_add_people(manager, crew):
    check = _check(manager, [_person(crew["张三"])]).get_json()
    duplicate = _check(manager, [_person(crew["李四"])], expect=409).get_json()["error"]
    assert (duplicate["code"], duplicate["details"]["record_id"]) == ("morning_check_exists", check["id"])
    body = {"reason": "补充迟到人员", "expected_version_id": check["version_id"],
            "record": {"check_date": today().isoformat(), "checked_at": check["checked_at"], "checker_name": "王主管",
                       "persons": [_person(crew["张三"]), _person(crew["李四"])]}}
    amended = manager.post(f"/records/{check['id']}/amendments", body).get_json()
    assert amended["id"] == check["id"] and amended["summary"]["checked"] == 2
    assert amended["amendment"] == {"amends_version_id": check["version_id"], "reason": "补充迟到人员"}
    detail = manager.get(f"/records/{check['id']}").get_json()
    assert [v["record"]["summary"]["checked"] for v in detail["versions"]] == [1, 2]
    assert verify_chain(1).ok


def test_every_broken_rule_of_a_check_at_once(manager, crew):
    persons = [_person(crew["张三"], 38.2, result="pass"), _person(crew["李四"], hands_ok=False, result="pass"),
               _person(crew["张三"]), _person(999999)]
    error = _check(manager, persons, expect=422).get_json()["error"]
    assert [(e["code"], e.get("line")) for e in error["details"]["errors"]] == [
        ("duplicate_person", None), ("check_result_inconsistent", 1), ("check_result_inconsistent", 2),
        ("staff_not_found", 4)]
    messages = [e["message"] for e in error["details"]["errors"]]
    assert messages[1] == "「张三」体温 38.2°C，晨检结果不能为合格"
    assert messages[2] == "「李四」手部有伤口或感染，晨检结果不能为合格"
    hot = _check(manager, [_person(crew["张三"], 50)], expect=422).get_json()["error"]
    assert hot["details"]["fields"]["persons"]["0"]["temperature_c"] == ["体温应在 34–43°C 之间"]
    odd = _check(manager, [_person(crew["张三"], symptoms=["headache"])], expect=422).get_json()["error"]
    assert odd["details"]["fields"]["persons"]["0"]["symptoms"] == {"0": ["未知的症状"]}
    past = _check(manager, [_person(crew["张三"])], day=MONDAY, hhmm="06:30").get_json()  # made that day: accepted
    assert past["check_date"] == MONDAY.isoformat()
    late = manager.create("morning-checks", {
        "check_date": MONDAY + timedelta(days=1), "checked_at": at(MONDAY, "23:00"), "checker_name": "王主管",
        "persons": [_person(crew["张三"])]}, expect=422).get_json()["error"]
    assert (late["code"], late["message"]) == ("checked_at_not_on_date", "晨检时间应在晨检当天")
    future = _check(manager, [_person(crew["张三"])], day=today() + timedelta(days=2), hhmm="06:30",
                    expect=422).get_json()["error"]
    assert future["code"] == "time_in_future"


def test_someone_who_left_cannot_be_checked(manager, crew):
    staff = manager.get(f"/records/{crew['王五']}").get_json()
    manager.post(f"/records/{crew['王五']}/amendments", {
        "reason": "已离职", "expected_version_id": staff["version_id"],
        "record": {"name": "王五", "post": "切配", "phone": "13905710001", "active": False}})
    error = _check(manager, [_person(crew["王五"])], expect=422).get_json()["error"]
    assert (error["code"], error["message"]) == ("staff_inactive", "「王五」已离职，不能参加晨检")
    assert [s["name"] for s in manager.get("/canteens/1/staff", active="false").get_json()["items"]] == ["王五"]


# Rules -------------------------------------------------------------------------------------------------
def test_morning_check_missing_after_the_first_window_opens(manager, crew):
    _set_monday_windows()
    assert [r for r in run_record_rules(MONDAY, at(MONDAY, "06:59"), [1])
            if r.violation.kind == "morning_check_missing"] == []
    raised = [r for r in run_record_rules(MONDAY, at(MONDAY, "07:00"), [1])
              if r.violation.kind == "morning_check_missing"]
    assert [r.created for r in raised] == [True]
    violation = raised[0].violation
    assert violation.idempotency_key == f"records:morning_check_missing:1:{MONDAY.isoformat()}"
    assert violation.occurred_at == at(MONDAY, "07:00") and violation.source == "record_rule"
    assert violation.description == "2026-03-02 首餐开餐前未完成从业人员晨检"
    again = [r for r in run_record_rules(MONDAY, at(MONDAY, "09:00"), [1])
             if r.violation.kind == "morning_check_missing"]
    assert [r.created for r in again] == [False]
    assert len(_violations("morning_check_missing")) == 1
    # The next Monday's check is done before breakfast: nothing; the Sunday between has no meal: nothing.
    next_monday = MONDAY + timedelta(days=7)
    _check(manager, [_person(crew["张三"])], day=next_monday, hhmm="06:40")
    assert [r for r in run_record_rules(next_monday, at(next_monday, "12:00"), [1])
            if r.violation.kind == "morning_check_missing"] == []
    sunday = MONDAY + timedelta(days=6)
    assert [r for r in run_record_rules(sunday, at(sunday, "12:00"), [1])
            if r.violation.kind == "morning_check_missing"] == []


def test_health_certificate_expired_when_on_the_morning_check(manager):
    ids = {name: _staff(manager, name) for name in ("张三", "李四", "王五")}
    _certificate(manager, ids["张三"], MONDAY - timedelta(days=1))
    _certificate(manager, ids["李四"], MONDAY + timedelta(days=100))
    _check(manager, [_person(staff_id) for staff_id in ids.values()], day=MONDAY, hhmm="06:30")
    raised = [r for r in run_record_rules(MONDAY, at(MONDAY, "06:45"), [1])
              if r.violation.kind == "health_certificate_expired"]
    assert sorted((r.violation.details["staff_id"], r.violation.details["valid_until"], r.created) for r in raised) == [
        (ids["张三"], (MONDAY - timedelta(days=1)).isoformat(), True), (ids["王五"], None, True)]
    for r in raised:  # the committee and the public list see violations: the staff record, never the name
        assert "张三" not in r.violation.description and "王五" not in r.violation.description
    assert [r.created for r in run_record_rules(MONDAY, at(MONDAY, "07:30"), [1])
            if r.violation.kind == "health_certificate_expired"] == [False, False]
    # Still on duty with the same expired certificate the next day: the same fact, no second violation.
    tuesday = MONDAY + timedelta(days=1)
    _check(manager, [_person(ids["张三"])], day=tuesday, hhmm="06:30")
    assert [r.created for r in run_record_rules(tuesday, at(tuesday, "06:45"), [1])
            if r.violation.kind == "health_certificate_expired"] == [False]
    assert len(_violations("health_certificate_expired")) == 2


# Day view and privacy ----------------------------------------------------------------------------------
def test_day_view_morning_check_status_on_a_fixed_clock(manager, crew):
    _set_monday_windows()
    school = db.session.get(School, 1)

    def block(hhmm: str) -> dict[str, Any]:
        return day_overview(school, MONDAY, at(MONDAY, hhmm))["canteens"][0]["morning_check"]

    assert (block("06:00")["status"], block("06:00")["deadline"]) == ("pending", "2026-03-02T07:00:00+08:00")
    assert (block("07:00")["status"], block("07:00")["status_label"]) == ("missing", "缺失")
    _check(manager, [_person(crew["张三"]), _person(crew["李四"], 37.5)], day=MONDAY, hhmm="07:10")
    assert block("08:00") == {"status": "done", "status_label": "已完成", "deadline": "2026-03-02T07:00:00+08:00",
                              "checked_at": "2026-03-02T07:10:00+08:00", "checked": 2, "passed": 1, "failed": 1}
    sunday = MONDAY + timedelta(days=6)
    assert day_overview(school, sunday, at(sunday, "12:00"))["canteens"][0]["morning_check"]["status"] \
        == "not_applicable"


def test_parents_see_counts_and_never_the_people(manager, crew, kit):
    certificate = _certificate(manager, crew["王五"], today() + timedelta(days=90)).get_json()
    check = _check(manager, [_person(crew["张三"]),
                             _person(crew["李四"], symptoms=["diarrhoea", "skin_wound"])]).get_json()
    parent = kit("demo-parent-1")
    response = parent.get("/schools/1/today")
    block = response.get_json()["canteens"][0]["morning_check"]
    assert (block["status"], block["checked"], block["passed"], block["failed"]) == ("done", 2, 1, 1)
    text = response.get_data(as_text=True)
    for secret in ("张三", "李四", "腹泻", "diarrhoea", "13905710001", "JKZ330106"):
        assert secret not in text
    for reader in ("demo-parent-1", "demo-committee-1"):
        who = kit(reader)
        for url in ("/canteens/1/staff", "/canteens/1/health-certificates", "/canteens/1/morning-checks",
                    f"/records/{check['id']}", f"/records/{certificate['id']}", f"/records/{crew['张三']}"):
            error = who.get(url, expect=403).get_json()["error"]
            assert error["message"].endswith("查看从业人员及其健康信息"), (reader, url, error)
        who.get(f"/uploads/{certificate['files']['scan'][0]['upload_id']}/url", expect=404)
    manager.get(f"/uploads/{certificate['files']['scan'][0]['upload_id']}/url")
    regulator = kit("demo-regulator")
    assert [p["name"] for p in regulator.get(f"/records/{check['id']}").get_json()["persons"]] == ["张三", "李四"]
    assert len(regulator.get("/canteens/1/staff").get_json()["items"]) == 3


def test_another_schools_staff_is_never_visible(manager, crew, kit):
    other = kit("demo-manager-2", canteen_id=2)
    theirs = _staff(other, "赵六")
    for url in ("/canteens/1/staff", "/canteens/1/health-certificates", "/canteens/1/morning-checks",
                f"/records/{crew['张三']}"):
        other.get(url, expect=403)
    manager.get("/canteens/2/staff", expect=403)
    manager.get(f"/records/{theirs}", expect=403)
    assert [s["name"] for s in other.get("/canteens/2/staff").get_json()["items"]] == ["赵六"]
    error = _check(manager, [_person(theirs)], expect=422).get_json()["error"]
    assert error["code"] == "staff_not_found"


def test_export_has_the_staff_certificate_and_morning_check_sheets(manager, crew, kit):
    _check(manager, [_person(crew["张三"]), _person(crew["李四"], 37.6, symptoms=["fever"])])
    response = kit("demo-regulator").get("/canteens/1/records/export", **{"from": today().isoformat(),
                                                                          "to": today().isoformat()})
    workbook = load_workbook(io.BytesIO(response.data))
    staff = [row for row in workbook["从业人员"].iter_rows(values_only=True)]
    assert staff[0][:8] == ("记录编号", "姓名", "岗位", "电话", "状态", "健康证编号", "健康证有效期至", "健康证状态")
    assert sorted((r[1], r[4], r[7]) for r in staff[1:]) == [("张三", "在职", "有效"), ("李四", "在职", "有效"),
                                                           ("王五", "在职", "无健康证")]
    certificates = list(workbook["健康证"].iter_rows(values_only=True))
    assert sorted((r[1], r[2], r[6], r[7]) for r in certificates[1:]) == [
        ("张三", "JKZ330106-2026-0001", "有效", 1), ("李四", "JKZ330106-2026-0001", "有效", 1)]
    checks = list(workbook["晨检记录"].iter_rows(values_only=True))
    assert checks[0][4:10] == ("姓名", "体温(°C)", "手部", "症状", "结果", "备注")
    assert [(r[4], r[5], r[7], r[8]) for r in checks[1:]] == [
        ("张三", 36.5, "无", "合格"), ("李四", 37.6, "发热", "不合格（当日不得从事接触食品工作）")]


# Who has not reported (未报送) --------------------------------------------------------------------------
def _unreported(hhmm: str) -> dict[str, Any]:
    return unreported(db.session.get(Region, 3), MONDAY, at(MONDAY, hhmm))


def _missing(listing: dict[str, Any]) -> dict[int, list[tuple[str, str | None, str]]]:
    return {c["canteen_id"]: [(m["record"], m["meal"], m["deadline"][11:16]) for m in c["missing"]]
            for c in listing["canteens"]}


def test_unreported_lists_each_canteens_missing_records_after_their_deadlines(manager, crew):
    _set_monday_windows(1)
    db.session.get(Canteen, 2).meal_windows = [{"weekday": 0, "meal": "lunch", "start": "11:30", "end": "12:30"}]
    db.session.commit()
    assert _missing(_unreported("06:59")) == {}
    early = _unreported("07:00")
    assert _missing(early) == {1: [("morning_check", None, "07:00"), ("menu", "breakfast", "07:00")]}
    assert early["reported"] == early["total"] - 1
    assert early["canteens"][0]["missing"][0]["record_label"] == "晨检"
    assert early["canteens"][0]["school_name"] == "西湖实验小学"
    _check(manager, [_person(crew["张三"])], day=MONDAY, hhmm="06:40")
    assert _missing(_unreported("12:00")) == {
        1: [("menu", "breakfast", "07:00"), ("menu", "lunch", "11:30")],
        2: [("morning_check", None, "11:30"), ("menu", "lunch", "11:30")]}


def test_unreported_is_for_the_regions_regulators(kit):
    _set_monday_windows(1)
    listing = kit("demo-regulator").get("/regions/3/unreported", day=MONDAY.isoformat()).get_json()
    assert listing["date"] == MONDAY.isoformat() and listing["region_id"] == 3
    assert _missing(listing)[1] == [("morning_check", None, "07:00"), ("menu", "breakfast", "07:00"),
                                    ("menu", "lunch", "11:30")]
    # The route's output schema keeps every key of the listing (a past day: nothing depends on the hour).
    direct = _unreported("23:59")
    assert {k: v for k, v in listing.items() if k != "generated_at"} == {
        k: v for k, v in direct.items() if k != "generated_at"}
    assert kit("demo-regulator").get("/regions/3/unreported").get_json()["date"] == today().isoformat()
    bad = kit("demo-regulator").get("/regions/3/unreported", day="2026-13-01", expect=422).get_json()["error"]
    assert bad["code"] == "validation_failed"
    for who in ("demo-principal-1", "demo-manager-1", "demo-parent-1"):
        kit(who).get("/regions/3/unreported", expect=403)


def test_daily_unreported_summary_reaches_the_regulators_inbox_once(kit, manager, crew):
    _set_monday_windows(1)
    db.session.get(Canteen, 2).meal_windows = []  # school 2's canteen serves nothing that Monday: owes nothing
    db.session.commit()
    _check(manager, [_person(crew["张三"])], day=MONDAY, hhmm="06:40")
    first = send_unreported_summaries(MONDAY, at(MONDAY, "21:30"))
    assert first == {"regions": 1, "notices": 2}  # the county's two regulators
    assert send_unreported_summaries(MONDAY, at(MONDAY, "21:35")) == {"regions": 1, "notices": 0}
    items = kit("demo-regulator").get("/inbox").get_json()["items"]
    summary = [n for n in items if n["purpose"] == "records_unreported"]
    assert len(summary) == 1
    assert summary[0]["title"] == "2026-03-02 西湖区有 1 个食堂台账未报送"
    assert summary[0]["body"] == "西湖实验小学学生食堂：缺早餐菜单、午餐菜单"
    assert [n for n in kit("demo-principal-1").get("/inbox").get_json()["items"]
            if n["purpose"] == "records_unreported"] == []
