"""Early warnings (预警) on a fixed clock: each rule with its default and a region's own limit, the nightly job
(raised once per fact and episode, refreshed, resolved, nothing lost or duplicated when killed), the weekly
summary in the regulators' inbox, and who sees and acknowledges which warning."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
import time_machine

from backend.audit.models import AuditLog
from backend.extensions import db
from backend.monitoring.services import record_health_change
from backend.notices.models import Notice
from backend.records.completeness import owed_records, owed_records_days
from backend.risk import early_warning
from backend.risk.early_warning import compute_warnings, find_all
from backend.risk.models import RiskWarning
from backend.risk.warning_list import send_weekly_summaries
from backend.schools.models import Camera, Canteen, KitchenArea
from backend.timeutil import SHANGHAI
from backend.violations.models import Rectification, Violation
from backend.violations.services import raise_violation
from tests.records.helpers import Kit, at, item
from tests.risk.helpers import COUNTY, user_id

# Monday 30 November 2026, 02:30 in Shanghai: when the nightly job runs.
NIGHT = datetime(2026, 11, 30, 2, 30, tzinfo=SHANGHAI)
TODAY = date(2026, 11, 30)
SETTINGS = "/api/v1/regions/{}/risk/settings"


@pytest.fixture(autouse=True)
def night() -> Iterator[None]:
    with time_machine.travel(NIGHT, tick=False):
        yield


@pytest.fixture
def quiet(demo) -> None:
    """The demo's canteens owe no records (no meal windows), so the completeness rule stays silent unless a test
    gives a canteen its windows."""
    for canteen in db.session.scalars(sa.select(Canteen)):
        canteen.meal_windows = []
    db.session.commit()


@pytest.fixture
def manager(client, demo, as_user) -> Kit:
    return Kit(client, as_user("demo-manager-1"), 1)


def _findings(kind: str) -> list[early_warning.Finding]:
    return [f for f in find_all(NIGHT) if f.kind == kind]


def _set_limits(client: Any, as_user: Any, **limits: int) -> None:
    body = {"warnings": [{"name": name, "value": value} for name, value in limits.items()]}
    response = client.put(SETTINGS.format(COUNTY), json=body, headers=as_user("demo-regulator"))
    assert response.status_code == 200, response.json


def _open() -> list[tuple[str, str, str]]:
    return [(w.kind, w.fact, w.key) for w in db.session.scalars(
        sa.select(RiskWarning).where(RiskWarning.resolved_at.is_(None)).order_by(RiskWarning.id))]


# ---- records completeness -------------------------------------------------------------------------------------

def _complete_day(manager: Kit, staff_id: int, rice: int, day: date) -> None:
    """Everything canteen 1 owes for a lunch-only day: morning check, menu, a sample of the dish, disinfection."""
    with time_machine.travel(at(day, "14:00"), tick=False):
        manager.create("morning-checks", {"check_date": day, "checked_at": at(day, "06:40"), "checker_name": "王主管",
                                          "persons": [{"staff_id": staff_id, "temperature_c": 36.5,
                                                       "hands_ok": True, "symptoms": []}]})
        menu = manager.menu(day, "lunch", [("米饭", [rice])]).get_json()
        manager.sample(menu["dishes"][0]["dish_id"], at(day, "11:40"))
        manager.disinfection(day, "lunch", performed_at=at(day, "13:00"))


def test_records_completeness_low_or_falling_against_the_week_before(app, quiet, manager, client, as_user):
    canteen = db.session.get(Canteen, 1)
    canteen.meal_windows = [{"weekday": d, "meal": "lunch", "start": "11:30", "end": "12:30"} for d in range(7)]
    db.session.commit()
    with time_machine.travel(at(TODAY - timedelta(days=20), "09:00"), tick=False):
        staff_id = manager.create("staff", {"name": "吴阿姨", "post": "留样员"}).get_json()["id"]
        manager.create("health-certificates", {"staff_id": staff_id, "number": "JKZ-0001", "issuer": "西湖区疾控中心",
                                               "valid_until": TODAY + timedelta(days=365),
                                               "scan_upload_ids": [manager.photo()]})
        supplier = manager.supplier()
        manager.certificate(supplier, TODAY + timedelta(days=365))
        received = manager.receiving(supplier, [item("大米", category="grain", batch="DM-1101", quantity=50,
                                                     production_date=TODAY - timedelta(days=30), shelf_life_days=365,
                                                     storage="ambient", storage_temperature_c=None)]).get_json()
        rice = received["items"][0]["item_id"]
    # The week before (16–22 November): every day complete. The last week (23–29): 4 of 7.
    for back in [*range(14, 7, -1), 7, 6, 5, 4]:
        _complete_day(manager, staff_id, rice, TODAY - timedelta(days=back))
    (finding,) = _findings("records_completeness")
    assert (finding.fact, finding.school_id, finding.canteen_id) == ("canteen:1", 1, 1)
    assert finding.reason == ("学生食堂近7天（11月23日–11月29日）应报送台账 7 天，完整 4 天，完整率 57%，"
                              "低于预警线 80%，较前7天（100%）下降 43 个百分点。")
    assert {k: finding.data[k] for k in ("owed_days", "complete_days", "percent", "previous_percent")} == {
        "owed_days": 7, "complete_days": 4, "percent": 57, "previous_percent": 100}
    assert finding.data["missing_days"] == [{"date": f"2026-11-{d}", "missing": ["晨检", "午餐菜单"]}
                                            for d in (27, 28, 29)]
    # The region's own limits: below 50 % is low; the fall of 43 points still warns, a fall of 50 would be needed.
    _set_limits(client, as_user, completeness_min_percent=50)
    (finding,) = _findings("records_completeness")
    assert finding.reason.endswith("完整率 57%，较前7天（100%）下降 43 个百分点。")
    _set_limits(client, as_user, completeness_drop_points=50)
    assert _findings("records_completeness") == []


def test_a_canteen_owing_fewer_than_three_days_is_no_trend(app, quiet):
    canteen = db.session.get(Canteen, 1)
    canteen.meal_windows = [{"weekday": 5, "meal": "lunch", "start": "11:30", "end": "12:30"},
                            {"weekday": 6, "meal": "lunch", "start": "11:30", "end": "12:30"}]
    db.session.commit()
    assert _findings("records_completeness") == []  # two weekend days owed, both missing: too few to judge


# ---- certificates ---------------------------------------------------------------------------------------------

def test_supplier_certificates_expiring_within_the_notice_days(app, quiet, manager, client, as_user):
    soon, later = manager.supplier("杭州绿源蔬菜配送有限公司"), manager.supplier("浙江鲜达肉业有限公司")
    manager.certificate(soon, TODAY + timedelta(days=20))
    manager.certificate(later, TODAY + timedelta(days=40))
    (finding,) = _findings("supplier_certificate")
    assert (finding.fact, finding.canteen_id) == (f"supplier:{soon}:food_business_licence:2026-12-20", 1)
    assert finding.reason == ("供应商「杭州绿源蔬菜配送有限公司」的食品经营许可证将于 2026-12-20 到期（还剩 20 天），"
                              "请督促供应商及时更新证照（提前 30 天预警）。")
    assert (finding.data["days_left"], finding.data["supplier_id"]) == (20, soon)
    _set_limits(client, as_user, certificate_notice_days=45)
    assert sorted(f.data["supplier_id"] for f in _findings("supplier_certificate")) == [soon, later]


def test_a_lapsed_supplier_licence_stops_the_buying(app, quiet, manager):
    lapsed = manager.supplier("杭州绿源蔬菜配送有限公司")
    manager.certificate(lapsed, TODAY - timedelta(days=2))
    (finding,) = _findings("supplier_certificate")
    assert finding.reason == ("供应商「杭州绿源蔬菜配送有限公司」的食品经营许可证已于 2026-11-28 过期 2 天，"
                              "证照更新前不得继续向其采购（提前 30 天预警）。")
    assert finding.data["days_left"] == -2


def test_only_suppliers_the_canteen_buys_from_warn(app, quiet, manager):
    """Suppliers received from (or registered) within the last 90 days warn; one the canteen left does not."""
    def received(supplier: int, back: int) -> None:
        with time_machine.travel(at(TODAY - timedelta(days=back), "08:00"), tick=False):
            manager.receiving(supplier, [item(production_date=TODAY - timedelta(days=back + 1))])

    with time_machine.travel(at(TODAY - timedelta(days=200), "09:00"), tick=False):
        used, left, never = (manager.supplier(name) for name in ("在用供应商", "停用供应商", "从未进货供应商"))
        for supplier in (used, left, never):
            manager.certificate(supplier, TODAY + timedelta(days=20))
    received(used, 150)
    received(used, 10)
    received(left, 91)  # its last delivery: one day before the window
    new = manager.supplier("新签供应商")  # registered today, first delivery still to come
    manager.certificate(new, TODAY + timedelta(days=20))
    assert sorted(f.data["supplier_id"] for f in _findings("supplier_certificate")) == [used, new]
    received(left, 90)  # a delivery on the window's first day: in use again
    assert sorted(f.data["supplier_id"] for f in _findings("supplier_certificate")) == [used, left, new]


def test_health_certificates_expiring_expired_or_missing(app, quiet, manager):
    ids = {name: manager.create("staff", {"name": name, "post": "切配"}).get_json()["id"]
           for name in ("张三", "李四", "王五", "赵六")}
    for name, days in (("张三", 10), ("李四", 200), ("赵六", -3)):
        manager.create("health-certificates", {"staff_id": ids[name], "number": "JKZ-0001", "issuer": "西湖区疾控中心",
                                               "valid_until": TODAY + timedelta(days=days),
                                               "scan_upload_ids": [manager.photo()]})
    found = {f.data["staff_id"]: f for f in _findings("health_certificate")}
    assert sorted(found) == sorted([ids["张三"], ids["王五"], ids["赵六"]])
    # Each state says what the canteen does now: book the check-up, or take the person off food work.
    assert found[ids["张三"]].reason == (f"从业人员张三（切配，人员记录 {ids['张三']}）的健康证将于 2026-12-10 到期"
                                        "（还剩 10 天），请尽快安排健康检查；到期后不得从事接触直接入口食品的工作。")
    assert found[ids["王五"]].reason == (f"从业人员王五（切配，人员记录 {ids['王五']}）未登记健康证，"
                                        "取得健康证明前不得从事接触直接入口食品的工作。")
    assert found[ids["王五"]].data["valid_until"] is None
    assert found[ids["赵六"]].reason == (f"从业人员赵六（切配，人员记录 {ids['赵六']}）的健康证"
                                        "已于 2026-11-27 过期 3 天，应立即调离接触直接入口食品的岗位，"
                                        "取得新的健康证明后方可上岗。")
    # Renewed: the job resolves the warning of the old certificate.
    compute_warnings(NIGHT)
    manager.create("health-certificates", {"staff_id": ids["张三"], "number": "JKZ-0002", "issuer": "西湖区疾控中心",
                                           "valid_until": TODAY + timedelta(days=365),
                                           "scan_upload_ids": [manager.photo()]})
    assert compute_warnings(NIGHT + timedelta(days=1))["resolved"] == 1
    assert sorted(fact for kind, fact, _ in _open() if kind == "health_certificate") == sorted(
        [f"staff:{ids['王五']}:none", f"staff:{ids['赵六']}:2026-11-27"])


# ---- violations -----------------------------------------------------------------------------------------------

def _violation(kind: str, key: str, when: datetime, canteen_id: int = 1) -> Violation:
    with time_machine.travel(when, tick=False):
        return raise_violation(canteen_id=canteen_id, kind=kind, source="record_rule", idempotency_key=key,
                               occurred_at=when).violation


def test_the_same_kind_repeating_at_one_canteen(app, quiet, client, as_user):
    first = _violation("no_mask", "m1", NIGHT - timedelta(days=31))  # outside the 30 days
    ids = [_violation("no_mask", f"m{i}", NIGHT - timedelta(days=d)).id for i, d in ((2, 20), (3, 9))]
    _violation("no_mask", "other", NIGHT - timedelta(days=5), canteen_id=2)
    _violation("smoking", "s", NIGHT - timedelta(days=4))
    assert _findings("repeated_violation") == []
    ids.append(_violation("no_mask", "m4", NIGHT - timedelta(days=1)).id)
    (finding,) = _findings("repeated_violation")
    assert (finding.fact, finding.school_id) == ("canteen:1:no_mask", 1)
    assert finding.reason == "学生食堂近 30 天出现 3 次“未佩戴口罩”（预警线 3 次），同类问题反复出现。"
    assert (finding.data["violation_ids"], finding.data["count"]) == (ids, 3)
    _set_limits(client, as_user, repeat_days=40, repeat_count=5)
    assert _findings("repeated_violation") == []
    _set_limits(client, as_user, repeat_count=4)
    assert _findings("repeated_violation")[0].data["violation_ids"] == [first.id, *ids]
    # A false alarm does not count.
    db.session.get(Violation, ids[0]).resolution = "dismissed"
    db.session.commit()
    assert _findings("repeated_violation") == []


def test_camera_uptime_below_the_limit(app, quiet, client, as_user):
    camera_id = db.session.scalar(sa.select(Camera.id).join(KitchenArea, KitchenArea.id == Camera.area_id)
                                  .join(Canteen, Canteen.id == KitchenArea.canteen_id)
                                  .where(Canteen.school_id == 1, Camera.enabled.is_(True)).order_by(Camera.id))
    for offset, before, after in ((timedelta(days=-8), "unknown", "ok"), (timedelta(days=-3), "ok", "offline"),
                                  (timedelta(days=-2), "offline", "ok")):
        record_health_change(camera_id, NIGHT + offset, before, after)
    db.session.commit()
    (finding,) = _findings("camera_uptime")
    known = 6 * 24 + 2.5  # the last 7 local days: 24 November 00:00 to now, Monday 02:30
    uptime = round(100 * (known - 24) / known, 1)  # one day of it offline
    assert (finding.fact, finding.data["uptime_7d"], finding.data["limit_percent"]) == ("school:1", uptime, 95)
    assert finding.reason == f"近7天摄像头在线率 {uptime}%（3 路），低于预警线 95%。"
    _set_limits(client, as_user, uptime_min_percent=80)
    assert _findings("camera_uptime") == []


def test_rectifications_drifting_late(app, quiet, client, as_user):
    rodent = _violation("rodent", "r", NIGHT - timedelta(hours=5))  # class 1: 12 hours to fix
    smoking = _violation("smoking", "s", NIGHT - timedelta(hours=13))  # 12 hours: overdue
    (finding,) = _findings("rectification_drift")
    assert finding.data["violations"] == [{"violation_id": smoking.id, "title": smoking.title,
                                           "due_at": "2026-11-30T01:30:00+08:00", "used_percent": 108,
                                           "overdue": True}]
    assert finding.reason == "1 项问题整改已用时超过期限的 50% 仍未提交整改，其中 1 项已逾期。"
    _set_limits(client, as_user, drift_percent=40)
    assert [v["violation_id"] for v in _findings("rectification_drift")[0].data["violations"]] == [smoking.id,
                                                                                                  rodent.id]
    for violation in (rodent, smoking):
        db.session.get(Violation, violation.id).status = "submitted"
    db.session.commit()
    assert _findings("rectification_drift") == []


def _rectified(violation: Violation, at_: datetime) -> None:
    db.session.add(Rectification(violation_id=violation.id, measures="已整改", photos=[],
                                 submitted_by_id=user_id("demo-manager-1"), submitted_at=at_))
    db.session.commit()


def test_the_share_of_late_rectifications_rising(app, quiet, client, as_user):
    # Three class-2 problems due in the last 30 days (48 h to fix): two fixed late or not at all, one on time.
    recent = [_violation("inspection_finding", f"r{i}", NIGHT - timedelta(days=d)) for i, d in ((1, 20), (2, 12),
                                                                                              (3, 6))]
    _rectified(recent[0], recent[0].due_at + timedelta(hours=3))
    _rectified(recent[1], recent[1].due_at - timedelta(hours=3))
    (finding,) = _findings("late_rectifications")
    assert finding.reason == "近30天到期的 3 项问题中 2 项未按期提交整改（67%），达到预警线 30%。"
    assert finding.data["late_violation_ids"] == [recent[0].id, recent[2].id]
    # The 30 days before were worse (both late): the share is not rising.
    for i, d in ((4, 50), (5, 45)):
        _violation("inspection_finding", f"p{i}", NIGHT - timedelta(days=d))
    assert _findings("late_rectifications") == []
    _set_limits(client, as_user, late_share_percent=70)
    assert _findings("late_rectifications") == []


# ---- the job --------------------------------------------------------------------------------------------------

def test_the_job_raises_once_refreshes_and_resolves(app, quiet, manager):
    supplier = manager.supplier()
    manager.certificate(supplier, TODAY + timedelta(days=20))
    _violation("smoking", "s", NIGHT - timedelta(hours=13))
    assert compute_warnings(NIGHT) == {"findings": 2, "raised": 2, "refreshed": 0, "resolved": 0}
    keys = _open()
    assert [k for _, _, k in keys] == [f"supplier_certificate:supplier:{supplier}:food_business_licence:2026-12-20:"
                                       "2026-11-30", "rectification_drift:school:1:2026-11-30"]
    # The next night the same facts hold: the same rows, refreshed (the certificate has a day less).
    assert compute_warnings(NIGHT + timedelta(days=1)) == {"findings": 2, "raised": 0, "refreshed": 2, "resolved": 0}
    assert _open() == keys
    certificate = db.session.scalar(sa.select(RiskWarning).where(RiskWarning.kind == "supplier_certificate"))
    assert certificate.data["days_left"] == 19
    assert certificate.raised_at == NIGHT.astimezone(certificate.raised_at.tzinfo)
    # The problem is submitted: its warning resolves; it comes back later as a new warning.
    smoking = db.session.scalar(sa.select(Violation).where(Violation.kind == "smoking"))
    smoking.status = "submitted"
    db.session.commit()
    assert compute_warnings(NIGHT + timedelta(days=2))["resolved"] == 1
    smoking.status = "rejected"
    db.session.commit()
    assert compute_warnings(NIGHT + timedelta(days=3))["raised"] == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(RiskWarning)) == 3
    assert _open()[-1][2] == "rectification_drift:school:1:2026-12-03"


class Killed(BaseException):
    """A worker killed mid-job (not an Exception: nothing catches it)."""


def test_a_killed_run_loses_and_duplicates_nothing(app, quiet, manager, monkeypatch):
    for name in ("张三", "李四", "王五"):
        manager.create("staff", {"name": name, "post": "切配"})
    real_raise = early_warning._raise
    calls = []

    def raise_then_die(finding: Any, day: date, now: datetime) -> int:
        calls.append(finding.fact)
        if len(calls) == 3:
            raise Killed
        return real_raise(finding, day, now)

    monkeypatch.setattr(early_warning, "BATCH", 1)  # commit after each finding
    monkeypatch.setattr(early_warning, "_raise", raise_then_die)
    with pytest.raises(Killed):
        compute_warnings(NIGHT)
    db.session.rollback()
    assert len(_open()) == 2
    monkeypatch.undo()
    assert compute_warnings(NIGHT + timedelta(minutes=5)) == {"findings": 3, "raised": 1, "refreshed": 0,
                                                              "resolved": 0}
    assert compute_warnings(NIGHT + timedelta(minutes=10))["raised"] == 0
    assert len(_open()) == 3
    assert db.session.scalar(sa.select(sa.func.count()).select_from(RiskWarning)) == 3


# ---- weekly summary -------------------------------------------------------------------------------------------

def test_weekly_summary_reaches_the_regions_regulators_once(app, quiet, manager, client, as_user):
    manager.certificate(manager.supplier(), TODAY + timedelta(days=20))
    _violation("smoking", "s", NIGHT - timedelta(hours=13), canteen_id=2)
    compute_warnings(NIGHT)
    monday_8 = NIGHT + timedelta(hours=5, minutes=30)
    assert send_weekly_summaries(monday_8) == {"regions": 1, "notices": 2}  # the county's two regulators
    assert send_weekly_summaries(monday_8 + timedelta(minutes=5)) == {"regions": 1, "notices": 0}
    notice = db.session.scalar(sa.select(Notice).where(Notice.purpose == "risk_warnings",
                                                       Notice.user_id == user_id("demo-regulator")))
    assert notice.title == "2026年第49周 西湖区风险预警 2 条"
    assert notice.body == ("未处理预警 2 条（本周新增 2 条）：供应商证照到期 1 条、整改临近期限 1 条。"
                           "文三路中学：整改临近期限；西湖实验小学：供应商证照到期。")
    principal = user_id("demo-principal-1")
    told = sa.select(sa.func.count()).select_from(Notice).where(Notice.user_id == principal,
                                                                 Notice.purpose == "risk_warnings")
    assert db.session.scalar(told) == 0


# ---- API and isolation ----------------------------------------------------------------------------------------

def test_regulators_list_and_acknowledge_principals_see_only_their_school(app, quiet, manager, client, as_user):
    manager.certificate(manager.supplier(), TODAY + timedelta(days=20))
    _violation("smoking", "s", NIGHT - timedelta(hours=13), canteen_id=2)
    compute_warnings(NIGHT)
    regulator = as_user("demo-regulator")
    listed = client.get(f"/api/v1/regions/{COUNTY}/risk/warnings", headers=regulator).json
    assert [(w["school_id"], w["kind"]) for w in listed] == [(2, "rectification_drift"), (1, "supplier_certificate")]
    assert listed[1]["kind_label"] == "供应商证照到期" and listed[1]["canteen_name"] == "学生食堂"
    assert listed[1]["raised_at"] == "2026-11-30T02:30:00+08:00" and listed[1]["data"]["days_left"] == 20
    only = client.get(f"/api/v1/regions/{COUNTY}/risk/warnings?kind=supplier_certificate&school_id=1",
                      headers=regulator).json
    assert [w["id"] for w in only] == [listed[1]["id"]]
    assert client.get(f"/api/v1/regions/{COUNTY}/risk/warnings?state=resolved", headers=regulator).json == []
    assert client.get(f"/api/v1/regions/{COUNTY}/risk/warnings?kind=nope", headers=regulator).status_code == 422
    # The principal of school 1 sees school 1's only, never school 2's or the region's list.
    principal = as_user("demo-principal-1")
    assert [w["school_id"] for w in client.get("/api/v1/schools/1/risk/warnings", headers=principal).json] == [1]
    for url in ("/api/v1/schools/2/risk/warnings", f"/api/v1/regions/{COUNTY}/risk/warnings"):
        assert client.get(url, headers=principal).status_code == 403
    for who in ("demo-manager-1", "demo-parent-1"):
        assert client.get("/api/v1/schools/1/risk/warnings", headers=as_user(who)).status_code == 403
    # The regulator acknowledges with a note (audited); once only; the principal may not.
    url = f"/api/v1/risk-warnings/{listed[1]['id']}/acknowledge"
    assert client.post(url, json={"note": "已电话提醒"}, headers=principal).status_code == 403
    assert client.post(url, json={"note": " "}, headers=regulator).status_code == 422
    done = client.post(url, json={"note": "已电话提醒学校更新许可证"}, headers=regulator)
    assert done.status_code == 200, done.json
    assert (done.json["ack_note"], done.json["acknowledged_at"]) == ("已电话提醒学校更新许可证",
                                                                     "2026-11-30T02:30:00+08:00")
    again = client.post(url, json={"note": "再次确认"}, headers=regulator)
    assert (again.status_code, again.json["error"]["code"]) == (409, "warning_already_acknowledged")
    audit = db.session.scalar(sa.select(AuditLog).where(AuditLog.action == "risk.warning_ack"))
    assert (audit.school_id, audit.target_id, audit.details["note"]) == (1, listed[1]["id"], "已电话提醒学校更新许可证")


def test_a_regulator_of_another_region_sees_nothing_of_this_one(app, quiet, manager, client, as_user):
    from backend.accounts.models import RegulatorScope, User
    from backend.schools.models import Region
    from backend.schools.services import create_region, create_school

    province = db.session.scalar(sa.select(Region).where(Region.code == "330000"))
    ningbo = create_region("330200", "宁波市", "city", province)
    outside = create_school(None, ningbo, "宁波一小", "primary", None)
    db.session.commit()
    _violation("smoking", "s", NIGHT - timedelta(hours=13), canteen_id=1)
    compute_warnings(NIGHT)
    user = User(openid="ningbo-regulator")
    db.session.add(user)
    db.session.flush()
    db.session.add(RegulatorScope(user_id=user.id, region_id=ningbo.id))
    db.session.commit()
    headers = as_user("ningbo-regulator")
    assert client.get(f"/api/v1/regions/{ningbo.id}/risk/warnings", headers=headers).json == []
    warning_id = db.session.scalar(sa.select(RiskWarning.id))
    assert client.get(f"/api/v1/regions/{COUNTY}/risk/warnings", headers=headers).status_code == 403
    assert client.get("/api/v1/schools/1/risk/warnings", headers=headers).status_code == 403
    assert client.post(f"/api/v1/risk-warnings/{warning_id}/acknowledge", json={"note": "看看"},
                       headers=headers).status_code == 403
    assert outside.id not in {w.school_id for w in db.session.scalars(sa.select(RiskWarning))}


# ---- settings -------------------------------------------------------------------------------------------------

def test_limits_are_region_settings_inherited_and_audited(app, demo, client, as_user):
    regulator = as_user("demo-regulator")
    limits = {w["name"]: w for w in client.get(SETTINGS.format(COUNTY), headers=regulator).json["warnings"]}
    assert {name: w["value"] for name, w in limits.items()} == {
        "completeness_min_percent": 80, "completeness_drop_points": 20, "certificate_notice_days": 30,
        "repeat_count": 3, "repeat_days": 30, "uptime_min_percent": 95, "drift_percent": 50,
        "late_share_percent": 30}
    assert (limits["repeat_count"]["source"], limits["repeat_count"]["label"]) == ("default",
                                                                                   "同一食堂同类问题次数达到")
    admin = as_user("demo-admin")
    response = client.put(SETTINGS.format(2), json={"warnings": [{"name": "uptime_min_percent", "value": 90}]},
                          headers=admin)
    assert response.status_code == 200
    county = {w["name"]: w for w in client.get(SETTINGS.format(COUNTY), headers=regulator).json["warnings"]}
    assert (county["uptime_min_percent"]["value"], county["uptime_min_percent"]["source"]) == (90, "inherited")
    bad = client.put(SETTINGS.format(COUNTY), json={"warnings": [{"name": "repeat_count", "value": 1}]},
                     headers=regulator)
    assert (bad.status_code, bad.json["error"]["code"]) == (422, "limit_out_of_range")
    assert bad.json["error"]["message"] == "同一食堂同类问题次数达到：请填写 2–50 之间的整数"
    twice = client.put(SETTINGS.format(COUNTY), json={"warnings": [{"name": "repeat_count", "value": 4},
                                                                   {"name": "repeat_count", "value": 5}]},
                       headers=regulator)
    assert (twice.status_code, twice.json["error"]["code"]) == (422, "duplicate_limit")
    client.put(SETTINGS.format(COUNTY), json={"warnings": [{"name": "repeat_count", "value": 4}]}, headers=regulator)
    client.put(SETTINGS.format(COUNTY), json={"warnings": [{"name": "repeat_count", "inherit": True}]},
               headers=regulator)
    history = client.get(SETTINGS.format(COUNTY) + "/history", headers=regulator).json
    assert [h["warnings"] for h in history] == [[{"name": "repeat_count", "before": 4, "after": None}],
                                                [{"name": "repeat_count", "before": None, "after": 4}]]
    refused = client.put(SETTINGS.format(COUNTY), json={"warnings": [{"name": "repeat_count", "value": 4}]},
                         headers=as_user("demo-principal-1"))
    assert refused.status_code == 403


def test_a_fortnight_read_at_once_keeps_each_days_records_to_that_day(app, quiet, manager):
    """``owed_records_days`` reads all the days in one go: a record of one day never completes another, and each
    day's answer equals the one-day reading (the 总览's and 未报送's rules)."""
    canteen = db.session.get(Canteen, 1)
    canteen.meal_windows = [{"weekday": d, "meal": "lunch", "start": "11:30", "end": "12:30"} for d in range(7)]
    db.session.commit()
    with time_machine.travel(at(TODAY - timedelta(days=5), "09:00"), tick=False):
        staff_id = manager.create("staff", {"name": "吴阿姨", "post": "留样员"}).get_json()["id"]
        supplier = manager.supplier()
        manager.certificate(supplier, TODAY + timedelta(days=365))
        received = manager.receiving(supplier, [item("大米", category="grain", batch="DM-1101", quantity=50,
                                                     production_date=TODAY - timedelta(days=30), shelf_life_days=365,
                                                     storage="ambient", storage_temperature_c=None)]).get_json()
        rice = received["items"][0]["item_id"]
    complete, unsampled = TODAY - timedelta(days=3), TODAY - timedelta(days=2)
    _complete_day(manager, staff_id, rice, complete)
    with time_machine.travel(at(unsampled, "14:00"), tick=False):  # everything but the sample
        manager.create("morning-checks", {"check_date": unsampled, "checked_at": at(unsampled, "06:40"),
                                          "checker_name": "王主管", "persons": [{"staff_id": staff_id,
                                                                              "temperature_c": 36.5,
                                                                              "hands_ok": True, "symptoms": []}]})
        manager.menu(unsampled, "lunch", [("米饭", [rice])])
        manager.disinfection(unsampled, "lunch", performed_at=at(unsampled, "13:00"))
    days = [TODAY - timedelta(days=back) for back in (4, 3, 2, 1)]
    every = lambda column: column.is_not(None)  # noqa: E731
    together = owed_records_days(every, days, NIGHT)

    def of_canteen_1(rows: list[Any]) -> tuple[bool, list[str]]:
        (owes, missing), = [(owes, missing) for c, owes, missing in rows if c.id == 1]
        return owes, [f"{m['meal']}:{m['record']}" for m in missing]

    assert {day: of_canteen_1(rows) for day, rows in together.items()} == {
        days[0]: (True, ["None:morning_check", "lunch:menu"]), complete: (True, []),
        unsampled: (True, ["lunch:samples"]), days[3]: (True, ["None:morning_check", "lunch:menu"])}
    for day in days:
        assert [(c.id, owes, missing) for c, owes, missing in owed_records(every, day, NIGHT)] == [
            (c.id, owes, missing) for c, owes, missing in together[day]]
