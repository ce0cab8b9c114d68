"""Reviewing AI alarms through the API: the verdicts, who may give them, and the re-review rules."""

from __future__ import annotations

import sqlalchemy as sa

from backend.extensions import db
from backend.violations.models import AlarmReview, Violation, ViolationEvent
from tests.violations.alarm_helpers import alarm, notice_recipients, region_of, status_of


def _review(client, headers, violation_id, verdict, reason=None):
    return client.post(f"/api/v1/alarms/{violation_id}/review", json={"verdict": verdict, "reason": reason},
                       headers=headers)


def test_confirm_is_stored_with_who_and_when_and_leaves_the_pending_queue(client, as_user, kitchen):
    vid = alarm()
    staff = as_user("demo-staff-1")
    queue = client.get("/api/v1/schools/1/alarms", headers=staff).json
    assert [i["id"] for i in queue["items"]] == [vid] and queue["items"][0]["review"] is None
    item = queue["items"][0]
    assert item["camera_name"] and item["canteen_name"] == "学生食堂" and item["school_name"] == "西湖实验小学"
    assert item["confidence"] == 0.87 and "/files/evidence/" in item["evidence_url"]

    response = _review(client, staff, vid, "confirmed")
    assert response.status_code == 201, response.json
    review = response.json["alarm"]["review"]
    assert review["verdict"] == "confirmed" and review["verdict_label"] == "确认属实"
    assert review["reviewer_name"] and review["reviewed_at"].endswith("+08:00")
    stored = db.session.scalar(sa.select(AlarmReview).where(AlarmReview.violation_id == vid))
    assert stored.verdict == "confirmed" and stored.reviewer_id is not None
    assert db.session.scalar(sa.select(ViolationEvent.action).where(ViolationEvent.violation_id == vid)
                             .order_by(ViolationEvent.id.desc())) == "confirm"
    assert client.get("/api/v1/schools/1/alarms", headers=staff).json["items"] == []
    reviewed = client.get("/api/v1/schools/1/alarms?state=reviewed", headers=staff).json["items"]
    assert [i["id"] for i in reviewed] == [vid]


def test_false_positive_needs_a_reason_and_closes_as_dismissed(client, as_user, kitchen):
    vid = alarm()
    principal = as_user("demo-principal-1")
    response = _review(client, principal, vid, "false_positive", "  ")
    assert response.status_code == 422 and response.json["error"]["code"] == "reason_required"
    assert "reason" in response.json["error"]["details"]["fields"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AlarmReview)) == 0  # nothing half-written

    response = _review(client, principal, vid, "false_positive", "工作人员戴的是透明口罩")
    assert response.status_code == 201
    db.session.expire_all()
    violation = db.session.get(Violation, vid)
    assert (violation.status, violation.resolution) == ("closed", "dismissed")
    event = db.session.scalar(sa.select(ViolationEvent).where(ViolationEvent.violation_id == vid,
                                                              ViolationEvent.action == "dismiss"))
    assert event.details["verdict"] == "false_positive" and "透明口罩" in event.reason


def test_escalate_brings_in_the_regulator(client, as_user, kitchen):
    vid = alarm()
    response = _review(client, as_user("demo-staff-1"), vid, "escalated", "屡次出现")
    assert response.status_code == 201
    db.session.expire_all()
    assert db.session.get(Violation, vid).escalation_level == 2
    assert "demo-regulator" in notice_recipients(vid)
    detail = client.get(f"/api/v1/violations/{vid}", headers=as_user("demo-principal-1")).json
    assert detail["reviewer"] == "regulator"


def test_same_verdict_again_is_idempotent_and_a_different_one_is_409(client, as_user, kitchen):
    vid = alarm()
    first = _review(client, as_user("demo-staff-1"), vid, "confirmed")
    again = _review(client, as_user("demo-principal-1"), vid, "confirmed")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json["created"] is False
    assert again.json["alarm"]["review"]["id"] == first.json["alarm"]["review"]["id"]
    other = _review(client, as_user("demo-regulator"), vid, "false_positive", "看错了")
    assert other.status_code == 409 and other.json["error"]["code"] == "alarm_already_reviewed"
    assert other.json["error"]["details"]["review"]["verdict"] == "confirmed"
    assert "确认属实" in other.json["error"]["message"]
    assert status_of(vid) != "closed"
    assert db.session.scalar(sa.select(sa.func.count()).where(ViolationEvent.violation_id == vid,
                                                              ViolationEvent.action == "confirm")) == 1


def test_only_ai_alarms_are_reviewed(client, as_user, kitchen):
    vid = alarm(source="record_rule")
    response = _review(client, as_user("demo-principal-1"), vid, "confirmed")
    assert response.status_code == 409 and response.json["error"]["code"] == "not_an_alarm"


def test_a_withdrawn_alarm_cannot_be_escalated(client, as_user, kitchen):
    vid = alarm()
    principal = as_user("demo-principal-1")
    assert client.post(f"/api/v1/violations/{vid}/dismiss", json={"reason": "设备调试"},
                       headers=principal).status_code == 200
    response = _review(client, principal, vid, "escalated")
    assert response.status_code == 409 and response.json["error"]["code"] == "invalid_transition"
    assert _review(client, principal, vid, "confirmed").status_code == 409
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AlarmReview)) == 0


def test_who_reviews(client, as_user, kitchen):
    vid = alarm()
    for openid in ("demo-parent-1", "demo-committee-1", "demo-manager-1", "demo-principal-2", "demo-staff-2"):
        response = _review(client, as_user(openid), vid, "confirmed")
        assert response.status_code in (403, 404), openid
        assert set(response.json["error"]) == {"code", "message", "details"}
    refused = _review(client, as_user("demo-parent-1"), vid, "confirmed").json["error"]
    assert refused["message"] == "只有学校食品安全管理员和校长可以审核智能告警"
    for openid in ("demo-parent-1", "demo-committee-1", "demo-manager-1"):
        assert client.get("/api/v1/schools/1/alarms", headers=as_user(openid)).status_code == 403
    assert _review(client, as_user("demo-regulator"), vid, "confirmed").status_code == 201


def test_one_school_never_sees_another_schools_alarms(client, as_user, kitchen):
    mine, theirs = alarm(1), alarm(2)
    principal_2 = as_user("demo-principal-2")
    assert client.get("/api/v1/schools/1/alarms", headers=principal_2).status_code == 403
    assert client.get("/api/v1/schools/1/alarms/stats", headers=principal_2).status_code == 403
    assert client.get("/api/v1/schools/1/alarms/cursor", headers=principal_2).status_code == 403
    items = client.get("/api/v1/schools/2/alarms?state=all", headers=principal_2).json["items"]
    assert [i["id"] for i in items] == [theirs]
    assert client.get(f"/api/v1/regions/{region_of(1)}/alarms", headers=principal_2).status_code == 403
    cursor = client.get("/api/v1/schools/2/alarms/cursor", headers=principal_2).json
    assert cursor["latest_id"] == theirs
    assert _review(client, principal_2, mine, "confirmed").status_code == 403
    regulator = as_user("demo-regulator")
    region = client.get(f"/api/v1/regions/{region_of(1)}/alarms", headers=regulator).json["items"]
    assert [i["id"] for i in region] == [theirs, mine]
    only_2 = client.get(f"/api/v1/regions/{region_of(1)}/alarms?school_id=2", headers=regulator).json["items"]
    assert [i["id"] for i in only_2] == [theirs]
