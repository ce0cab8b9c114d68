"""The console's 总览: list filters that equal the figures, the drill-down by name, weekly trend, ranking, camera
online rate, the Excel export, and a query count that does not grow with the data."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook
from sqlalchemy import event

from backend.audit.models import AuditLog
from backend.extensions import db
from backend.monitoring.models import CameraMonitor
from backend.schools.models import Camera, Canteen, KitchenArea, Region, School
from backend.violations.models import Violation
from tests.violations.test_stats import NOW, _seed

FIRST, LAST = date(2025, 3, 1), date(2025, 3, 20)
PERIOD = f"from={FIRST}&to={LAST}"


@pytest.fixture
def app_config(app_config):
    """No principal cache: every request authenticates, so the statements counted are the same each time."""
    return {**app_config, "AUTH_CACHE_SECONDS": "0"}


@pytest.fixture
def frozen(monkeypatch):
    """The routes' clock at NOW (the seed's violations are relative to it)."""
    from backend.violations import routes

    monkeypatch.setattr(routes, "utcnow", lambda: NOW)


def _total(response) -> int:
    assert response.status_code == 200, response.json
    return int(response.headers["X-Total-Count"])


def test_list_filters_equal_the_figures(client, as_user, kitchen, frozen):
    _seed()
    regulator = as_user("demo-regulator")
    figures = client.get(f"/api/v1/stats?region_id=3&{PERIOD}", headers=regulator).json
    base = f"/api/v1/regions/3/violations?{PERIOD}&limit=200"
    assert _total(client.get(base, headers=regulator)) == figures["found"]
    for state in ("in_progress", "rectified", "dismissed"):
        response = client.get(f"{base}&state={state}", headers=regulator)
        assert _total(response) == figures[state] == len(response.json), state
    overdue = client.get(f"{base}&overdue=true", headers=regulator)
    assert _total(overdue) == figures["overdue"] == len(overdue.json)
    assert all(row["status"] in ("open", "notified", "rectifying", "rejected") for row in overdue.json)
    # Each row says whether it is overdue by the figure's own rule, and names its school (a region's list).
    every = client.get(base, headers=regulator).json
    assert {row["id"] for row in every if row["overdue"]} == {row["id"] for row in overdue.json}
    names = dict(db.session.execute(sa.select(School.id, School.name)).all())
    assert all(row["school_name"] == names[row["school_id"]] for row in every)
    assert len({row["school_id"] for row in every}) > 1
    kind = figures["by_kind"][0]
    assert _total(client.get(f"{base}&kind={kind['kind']}&state=rectified", headers=regulator)) == kind["rectified"]
    # A page of 5 says how many match in all; the next page continues below the last id.
    paged = f"/api/v1/regions/3/violations?{PERIOD}&limit=5&state=in_progress"
    first_page = client.get(paged, headers=regulator)
    assert len(first_page.json) == 5 and _total(first_page) == figures["in_progress"]
    second = client.get(f"{paged}&before_id={first_page.json[-1]['id']}", headers=regulator)
    assert second.json[0]["id"] < first_page.json[-1]["id"] and _total(second) == figures["in_progress"]
    # A school's list and its figures agree the same way (for its principal).
    principal = as_user("demo-principal-1")
    own = client.get(f"/api/v1/stats?school_id=1&{PERIOD}", headers=principal).json
    response = client.get(f"/api/v1/schools/1/violations?{PERIOD}&state=rectified&limit=200", headers=principal)
    assert _total(response) == own["rectified"] and {r["school_id"] for r in response.json} == {1}


def test_list_period_is_local_days(client, as_user, kitchen, frozen):
    from backend.violations.services import raise_violation

    # 23:59 and 00:00 in Shanghai on either side of midnight of 3 March.
    for key, at in (("late", "2025-03-02T15:59:00+00:00"), ("early", "2025-03-02T16:00:00+00:00")):
        from datetime import datetime

        violation = raise_violation(canteen_id=1, kind="no_mask", source="ai", idempotency_key=key,
                                    occurred_at=datetime.fromisoformat(at), commit=False).violation
        violation.created_at = datetime.fromisoformat(at)
    db.session.commit()
    headers = as_user("demo-principal-1")
    day = client.get("/api/v1/schools/1/violations?from=2025-03-03&to=2025-03-03", headers=headers)
    assert [r["title"] for r in day.json] and _total(day) == 1
    assert day.json[0]["created_at"].startswith("2025-03-03T00:00")
    assert _total(client.get("/api/v1/schools/1/violations?to=2025-03-02", headers=headers)) == 1


def test_list_filters_refuse_bad_input(client, as_user, kitchen):
    headers = as_user("demo-regulator")
    response = client.get("/api/v1/regions/3/violations?from=2025-03-02&to=2025-03-01", headers=headers)
    assert response.status_code == 422 and "from" in response.json["error"]["details"]["fields"]
    assert "开始日期" in str(response.json["error"]["details"])
    response = client.get("/api/v1/regions/3/violations?state=closed", headers=headers)
    assert response.status_code == 422 and "state" in response.json["error"]["details"]["fields"]
    assert client.get("/api/v1/regions/3/violations?from=2025-13-01", headers=headers).status_code == 422
    # A school's principal has no region list, and another school's list stays closed.
    principal = as_user("demo-principal-1")
    assert client.get("/api/v1/regions/3/violations", headers=principal).status_code == 403
    assert client.get("/api/v1/schools/2/violations?state=in_progress", headers=principal).status_code == 403


def test_drill_down_by_name_from_province_to_school(client, as_user, kitchen, frozen):
    _seed()
    admin = as_user("demo-admin")
    province = db.session.scalar(sa.select(Region).where(Region.code == "330000"))
    body = client.get(f"/api/v1/stats?region_id={province.id}&{PERIOD}", headers=admin).json
    assert [c["name"] for c in body["by_region"]] == ["杭州市"]
    assert [c["name"] for c in body["breadcrumbs"]] == ["浙江省"]
    city = body["by_region"][0]
    assert {k: city[k] for k in ("found", "rectified", "in_progress", "overdue")} == \
        {k: body[k] for k in ("found", "rectified", "in_progress", "overdue")}
    city_body = client.get(f"/api/v1/stats?region_id={city['id']}&{PERIOD}", headers=admin).json
    county = city_body["by_region"][0]
    assert county["name"] == "西湖区" and county["found"] == body["found"]
    county_body = client.get(f"/api/v1/stats?region_id={county['id']}&{PERIOD}", headers=admin).json
    assert [c["name"] for c in county_body["breadcrumbs"]] == ["浙江省", "杭州市", "西湖区"]
    schools = {c["name"]: c for c in county_body["by_region"]}
    assert set(schools) == {"西湖实验小学", "文三路中学"} and {c["type"] for c in schools.values()} == {"school"}
    assert sum(c["found"] for c in schools.values()) == county_body["found"]
    school = schools["西湖实验小学"]
    school_body = client.get(f"/api/v1/stats?school_id={school['id']}&{PERIOD}", headers=admin).json
    for key in ("found", "rectified", "dismissed", "in_progress", "overdue", "rectification_rate"):
        assert school_body[key] == school[key], key
    assert school_body["by_region"] == [] and school_body["breadcrumbs"][-1] == \
        {"type": "school", "id": school["id"], "name": "西湖实验小学"}
    # The county's regulator sees the way down from their own county only, never the province above it.
    regulator = client.get(f"/api/v1/stats?region_id={county['id']}&{PERIOD}", headers=as_user("demo-regulator")).json
    assert [c["name"] for c in regulator["breadcrumbs"]] == ["西湖区"]
    assert regulator["by_region"] == county_body["by_region"]
    assert client.get(f"/api/v1/stats?region_id={province.id}", headers=as_user("demo-regulator")).status_code == 403


def test_weekly_trend_and_ranking(client, as_user, kitchen, frozen):
    _seed()
    body = client.get(f"/api/v1/stats?region_id=3&{PERIOD}", headers=as_user("demo-regulator")).json
    # 2025-03-01 is a Saturday: the first ISO week has two days of the period, the last (W12) four.
    assert [(w["week"], w["from"], w["to"]) for w in body["weekly"]] == [
        ("2025-W09", "2025-03-01", "2025-03-02"), ("2025-W10", "2025-03-03", "2025-03-09"),
        ("2025-W11", "2025-03-10", "2025-03-16"), ("2025-W12", "2025-03-17", "2025-03-20")]
    assert sum(w["found"] for w in body["weekly"]) == sum(d["found"] for d in body["daily"]) == body["found"]
    assert sum(w["rectified"] for w in body["weekly"]) == sum(d["rectified"] for d in body["daily"])
    ranking = body["by_school"]
    assert {r["name"] for r in ranking} == {"西湖实验小学", "文三路中学"}
    assert [r["in_progress"] for r in ranking] == sorted((r["in_progress"] for r in ranking), reverse=True)
    for row in ranking:
        school = client.get(f"/api/v1/stats?school_id={row['school_id']}&{PERIOD}",
                            headers=as_user("demo-regulator")).json
        assert (row["found"], row["in_progress"], row["rectified"]) == \
            (school["found"], school["in_progress"], school["rectified"])


def test_camera_online_rate_counts_enabled_cameras_in_scope(client, as_user, kitchen):
    cameras = db.session.scalars(sa.select(Camera).join(KitchenArea).join(Canteen).where(Canteen.school_id == 1)
                                 .order_by(Camera.id)).all()
    assert len(cameras) >= 3
    statuses = ["ok", "blurred", "offline"] + ["unknown"] * (len(cameras) - 3)
    for camera, status in zip(cameras, statuses, strict=True):
        db.session.add(CameraMonitor(camera_id=camera.id, health_status=status))
    db.session.commit()
    headers = as_user("demo-principal-1")
    body = client.get("/api/v1/stats?school_id=1", headers=headers).json
    # ok and blurred are online (a picture arrives), offline and never sampled are not.
    assert body["cameras"] == {"enabled": len(cameras), "online": 2, "online_rate": round(2 / len(cameras), 4)}
    # The camera health report counts by the same rule (monitoring.models.NOT_ONLINE).
    health = client.get("/api/v1/schools/1/cameras/health", headers=headers).json["online_rate"]
    assert (health["online"], health["enabled"]) == (2, len(cameras))
    cameras[0].enabled = False
    db.session.commit()
    assert client.get("/api/v1/stats?school_id=1", headers=headers).json["cameras"]["enabled"] == len(cameras) - 1
    region = client.get("/api/v1/stats?region_id=3", headers=as_user("demo-regulator")).json["cameras"]
    school_2 = client.get("/api/v1/stats?school_id=2", headers=as_user("demo-principal-2")).json["cameras"]
    assert region["enabled"] == len(cameras) - 1 + school_2["enabled"] and region["online"] == 1


def test_export_is_the_overview_as_a_workbook_and_is_audited(client, as_user, kitchen, frozen):
    _seed()
    headers = as_user("demo-regulator")
    body = client.get(f"/api/v1/stats?region_id=3&{PERIOD}", headers=headers).json
    response = client.get(f"/api/v1/stats/export?region_id=3&{PERIOD}", headers=headers)
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert "filename*=UTF-8''" in response.headers["Content-Disposition"]
    workbook = load_workbook(io.BytesIO(response.data))
    assert workbook.sheetnames == ["概况", "下级地区", "学校排名", "按问题类型", "按周趋势", "每日趋势"]
    summary = {row[0]: row[1] for row in workbook["概况"].iter_rows(min_row=2, values_only=True)}
    assert summary["发现问题"] == body["found"] and summary["已超期"] == body["overdue"]
    assert summary["整改中"] == body["in_progress"] and summary["范围"] == "西湖区"
    children = list(workbook["下级地区"].iter_rows(min_row=2, values_only=True))
    assert [(r[0], r[2]) for r in children] == [(c["name"], c["found"]) for c in body["by_region"]]
    weeks = list(workbook["按周趋势"].iter_rows(min_row=2, values_only=True))
    assert [r[3] for r in weeks] == [w["found"] for w in body["weekly"]]
    audit = db.session.scalars(sa.select(AuditLog).where(AuditLog.action == "stats.export")).all()
    assert len(audit) == 1 and audit[0].details["from"] == str(FIRST) and audit[0].target_id == 3
    # Another school's figures are not exported to a principal; nobody exports without logging in.
    assert client.get("/api/v1/stats/export?school_id=2", headers=as_user("demo-principal-1")).status_code == 403
    assert client.get("/api/v1/stats/export?region_id=3").status_code == 401
    bad = client.get("/api/v1/stats/export?from=2025-03-02&to=2025-03-01", headers=headers)
    assert bad.status_code == 422 and bad.json["error"]["code"] == "period_invalid"


def _add_violations(count: int, offset: int) -> None:
    """More violations in both schools, spread over the period (some closed, some overdue)."""
    from backend.violations.services import raise_violation

    for i in range(count):
        created = NOW - timedelta(days=i % 19, hours=i % 7)
        violation = raise_violation(canteen_id=1 + i % 2, kind=["no_mask", "rodent", "smoking"][i % 3], source="ai",
                                    idempotency_key=f"grow-{offset + i}", occurred_at=created,
                                    commit=False).violation
        violation.created_at = created
        if i % 3 == 0:
            violation.status, violation.resolution, violation.closed_at = "closed", "rectified", created
    db.session.commit()


def _statements(client, path: str, headers: dict) -> tuple[int, int]:
    """Statements of the request with this process's figures cache empty (built), then again (reused)."""
    client.application.extensions.pop("violations_stats_cache", None)
    return _statements_once(client, path, headers), _statements_once(client, path, headers)


def _statements_once(client, path: str, headers: dict) -> int:
    count = 0

    def counter(*_):
        nonlocal count
        count += 1

    db.session.remove()  # as in a fresh api process's request: nothing already loaded in the test's session
    event.listen(db.engine, "before_cursor_execute", counter)
    try:
        assert client.get(path, headers=headers).status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", counter)
    return count


def test_query_count_of_stats_does_not_grow_with_the_data(client, as_user, kitchen, frozen):
    admin = as_user("demo-admin")
    province = db.session.scalar(sa.select(Region).where(Region.code == "330000"))
    paths = [f"/api/v1/stats?region_id={province.id}&{PERIOD}", f"/api/v1/stats?region_id=3&{PERIOD}",
             f"/api/v1/stats?school_id=1&{PERIOD}", f"/api/v1/regions/3/violations?{PERIOD}&state=in_progress",
             f"/api/v1/stats/export?region_id=3&{PERIOD}"]
    _add_violations(10, 0)
    client.get(paths[0], headers=admin)  # warm caches (principal, first connection)
    small = [_statements(client, p, admin) for p in paths]
    _add_violations(120, 1000)
    for number in range(5):  # more schools too, below the county
        db.session.add(School(region_id=3, name=f"新校{number}", kind="primary"))
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Violation)) == 130
    assert [_statements(client, p, admin) for p in paths] == small
