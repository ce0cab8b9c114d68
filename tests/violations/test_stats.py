"""The figures endpoint equals a direct count; parents get their school's page with parent-safe evidence."""

from __future__ import annotations

import random
import statistics
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa

from backend.extensions import db
from backend.notices.models import SchoolNoticeSettings
from backend.timeutil import SHANGHAI, to_shanghai
from backend.violations.models import Violation
from backend.violations.services import raise_violation

KINDS = ["no_mask", "rodent", "camera_offline", "sample_missing"]
SOURCES = ["ai", "record_rule", "inspection", "report"]
NOW = datetime(2025, 3, 20, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai


def _seed(count: int = 120) -> list[Violation]:
    """Violations over 40 days in both schools, in every state, written the way the services write them."""
    rng = random.Random(7)
    made = []
    for i in range(count):
        created = NOW - timedelta(days=rng.uniform(0, 40))
        canteen = 1 if i % 3 else 2
        kind, source = rng.choice(KINDS), rng.choice(SOURCES)
        violation = raise_violation(canteen_id=canteen, kind=kind, source=source, idempotency_key=f"seed-{i}",
                                    occurred_at=created, commit=False).violation
        violation.created_at = created
        fate = rng.random()
        if fate < 0.45:
            violation.status, violation.resolution = "closed", "rectified"
            violation.closed_at = min(created + timedelta(hours=rng.uniform(1, 90)), NOW)
        elif fate < 0.55:
            violation.status, violation.resolution = "closed", "dismissed"
            violation.closed_at = created + timedelta(hours=2)
        else:
            violation.status = rng.choice(["open", "notified", "rectifying", "submitted", "rejected"])
        made.append(violation)
    db.session.commit()
    return made


def _expected(violations, first: date, last: date) -> dict:
    start = datetime.combine(first, datetime.min.time(), SHANGHAI)
    end = datetime.combine(last + timedelta(days=1), datetime.min.time(), SHANGHAI)
    cohort = [v for v in violations if start <= v.created_at < end]
    active = {"open", "notified", "rectifying", "rejected"}
    rectified = [v for v in cohort if v.resolution == "rectified"]
    dismissed = [v for v in cohort if v.resolution == "dismissed"]
    overdue = [v for v in cohort if v.status in active and v.due_at < NOW]
    days = {(first + timedelta(days=i)).isoformat(): [0, 0] for i in range((last - first).days + 1)}
    for v in cohort:
        days[to_shanghai(v.created_at).date().isoformat()][0] += 1
    for v in violations:
        if v.resolution == "rectified" and start <= v.closed_at < end:
            days[to_shanghai(v.closed_at).date().isoformat()][1] += 1
    hours = [(v.closed_at - v.created_at).total_seconds() / 3600 for v in rectified]
    by_kind = Counter(v.kind for v in cohort)
    return {
        "found": len(cohort), "rectified": len(rectified), "dismissed": len(dismissed),
        "in_progress": len(cohort) - len(rectified) - len(dismissed), "overdue": len(overdue),
        "rectification_rate": round(len(rectified) / (len(cohort) - len(dismissed)), 4),
        "median_hours_to_rectify": round(statistics.median(hours), 2),
        "by_kind_found": dict(sorted(by_kind.items())),
        "daily": [{"date": d, "found": f, "rectified": r} for d, (f, r) in days.items()],
    }


def _compare(body: dict, expected: dict) -> None:
    for key in ("found", "rectified", "dismissed", "in_progress", "overdue", "rectification_rate",
                "median_hours_to_rectify", "daily"):
        assert body[key] == expected[key], key
    assert {row["kind"]: row["found"] for row in body["by_kind"]} == expected["by_kind_found"]
    assert sum(row["found"] for row in body["by_source"]) == expected["found"]


def test_stats_equal_a_direct_count(client, as_user, kitchen, monkeypatch):
    from backend.violations import routes

    monkeypatch.setattr(routes, "utcnow", lambda: NOW)
    violations = _seed()
    db.session.expire_all()
    violations = db.session.scalars(sa.select(Violation)).all()
    first, last = date(2025, 3, 1), date(2025, 3, 20)

    region = client.get(f"/api/v1/stats?region_id=3&from={first}&to={last}", headers=as_user("demo-regulator"))
    assert region.status_code == 200, region.json
    _compare(region.json, _expected(violations, first, last))
    assert region.json["scope"] == {"type": "region", "region_id": 3, "name": "西湖区"}

    school = client.get(f"/api/v1/stats?school_id=1&from={first}&to={last}", headers=as_user("demo-principal-1"))
    _compare(school.json, _expected([v for v in violations if v.school_id == 1], first, last))

    # No scope given: a parent gets their own school; the regulator their region; defaults to the last 30 days.
    mine = client.get("/api/v1/stats", headers=as_user("demo-parent-2")).json
    assert mine["scope"]["school_id"] == 2 and mine["period"] == {"from": "2025-02-19", "to": "2025-03-20",
                                                                 "timezone": "Asia/Shanghai"}
    # A parent's figures leave out AI alarms nobody confirmed (none is reviewed here): test_alarm_parents.py.
    _compare(mine, _expected([v for v in violations if v.school_id == 2 and v.source != "ai"], date(2025, 2, 19),
                             last))
    assert client.get("/api/v1/stats", headers=as_user("demo-regulator")).json["scope"]["type"] == "regions"


def test_every_source_has_its_chinese_label(client, as_user, kitchen, monkeypatch):
    from backend.violations import routes

    monkeypatch.setattr(routes, "utcnow", lambda: NOW)
    found = NOW - timedelta(hours=1)
    for source in ("ai", "record_rule", "inspection", "report", "patrol", "monitoring"):
        raise_violation(canteen_id=1, kind="camera_offline", source=source, idempotency_key=f"label-{source}",
                        occurred_at=found, commit=False).violation.created_at = found
    db.session.commit()
    body = client.get("/api/v1/stats?school_id=1&from=2025-03-20&to=2025-03-20",
                      headers=as_user("demo-principal-1")).json
    assert {row["source"]: row["label"] for row in body["by_source"]} == {
        "ai": "智能识别", "record_rule": "台账核查", "inspection": "监督检查", "report": "举报反映",
        "patrol": "视频巡查", "monitoring": "设备监测"}


def test_stats_refuse_other_schools_regions_and_bad_periods(client, as_user, kitchen):
    parent = as_user("demo-parent-1")
    assert client.get("/api/v1/stats?school_id=2", headers=parent).status_code == 403
    assert client.get("/api/v1/stats?region_id=3", headers=parent).status_code == 403
    assert client.get("/api/v1/stats?school_id=999", headers=parent).status_code == 404
    response = client.get("/api/v1/stats?from=2025-03-02&to=2025-03-01", headers=parent)
    assert (response.status_code, response.json["error"]["code"]) == (422, "period_invalid")
    response = client.get("/api/v1/stats?from=2023-01-01&to=2025-03-01", headers=parent)
    assert response.json["error"]["code"] == "period_too_long"
    response = client.get("/api/v1/stats?school_id=1&region_id=3", headers=as_user("demo-admin"))
    assert response.json["error"]["code"] == "scope_ambiguous"
    assert client.get("/api/v1/stats").status_code == 401


def test_parents_page_shows_only_closed_published_violations_with_parent_safe_evidence(client, as_user, kitchen):
    evidence = {"annotated": "evidence/secret-annotated.jpg", "parent_safe": "evidence/blurred.jpg"}
    shown = raise_violation(canteen_id=1, kind="no_mask", source="ai", idempotency_key="a", occurred_at=NOW,
                            evidence=evidence).violation
    unpublished = raise_violation(canteen_id=1, kind="camera_offline", source="ai", idempotency_key="b",
                                  occurred_at=NOW, evidence=evidence).violation
    still_open = raise_violation(canteen_id=1, kind="no_mask", source="ai", idempotency_key="c",
                                 occurred_at=NOW, evidence=evidence).violation
    other_school = raise_violation(canteen_id=2, kind="no_mask", source="ai", idempotency_key="d",
                                   occurred_at=NOW, evidence=evidence).violation
    staff, principal = as_user("demo-staff-1"), as_user("demo-principal-1")
    for violation in (shown, unpublished, still_open, other_school):  # confirmed alarms: parents may see them
        client.post(f"/api/v1/alarms/{violation.id}/review", json={"verdict": "confirmed"},
                    headers=as_user(f"demo-principal-{violation.school_id}"))
    for violation in (shown, unpublished):
        client.post(f"/api/v1/violations/{violation.id}/start", json={}, headers=staff)
        client.post(f"/api/v1/violations/{violation.id}/rectifications", headers=staff,
                    json={"measures": "已整改并完成复查", "photos": []})
        client.post(f"/api/v1/violations/{violation.id}/review", json={"approve": True, "reason": "内部备注"},
                    headers=principal)
    page = client.get("/api/v1/schools/1/transparency", headers=as_user("demo-parent-1"))
    assert page.status_code == 200
    body = page.json
    assert [item["id"] for item in body["timeline"]] == [shown.id]
    item = body["timeline"][0]
    assert "evidence/blurred.jpg" in item["evidence"]["image"]
    assert item["measures"] == "已整改并完成复查"
    assert [e["label"] for e in item["events"]] == ["发现问题", "告警确认", "开始整改", "提交整改", "整改通过"]
    text = page.get_data(as_text=True)
    assert "secret-annotated" not in text and "内部备注" not in text and "actor" not in text
    assert body["summary"]["found"] == 3 and body["summary"]["rectified"] == 2
    assert still_open.id and other_school.id not in [i["id"] for i in body["timeline"]]
    # Another school's parent, and a parent reading violations directly, are refused.
    assert client.get("/api/v1/schools/1/transparency", headers=as_user("demo-parent-2")).status_code == 403
    assert client.get(f"/api/v1/violations/{shown.id}", headers=as_user("demo-parent-1")).status_code == 403
    assert client.get("/api/v1/schools/1/violations", headers=as_user("demo-parent-1")).status_code == 403

    # The school publishes camera health too: the other closed one appears.
    response = client.put("/api/v1/schools/1/notice-settings", headers=principal,
                          json={"published_kinds": ["no_mask", "camera_offline"]})
    assert response.status_code == 200 and response.json["customised"] is True
    assert db.session.get(SchoolNoticeSettings, 1).published_kinds == ["camera_offline", "no_mask"]
    body = client.get("/api/v1/schools/1/transparency", headers=as_user("demo-parent-1")).json
    assert [item["id"] for item in body["timeline"]] == [unpublished.id, shown.id]
    bad = client.put("/api/v1/schools/1/notice-settings", headers=principal, json={"published_kinds": ["nope"]})
    assert bad.status_code == 422
    assert client.put("/api/v1/schools/1/notice-settings", headers=as_user("demo-committee-1"),
                      json={"published_kinds": []}).status_code == 403
