"""Escalation of overdue violations on a controllable clock: the principal first, then the region's regulator."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from backend.accounts.models import User
from backend.accounts.services import grant_regulator
from backend.extensions import db
from backend.notices.models import Notice
from backend.schools.models import Region
from backend.schools.services import create_region
from backend.timeutil import utcnow
from backend.violations.escalation import REGULATOR_AFTER, escalate_overdue
from backend.violations.models import Violation, ViolationEvent
from backend.violations.services import raise_violation


def _notified(violation_id: int, purpose: str = "violation_escalated") -> list[tuple[str, str]]:
    rows = db.session.execute(
        sa.select(User.openid, Notice.payload).join(Notice, Notice.user_id == User.id)
        .where(Notice.subject_id == violation_id, Notice.purpose == purpose).order_by(User.openid)).all()
    return [(openid, payload["level"]) for openid, payload in rows]


def test_overdue_goes_to_the_principal_then_the_regulator(client, as_user, kitchen):
    occurred = utcnow() - timedelta(hours=1)
    violation = raise_violation(canteen_id=1, kind="smoking", source="ai", idempotency_key="smoke-1",
                                occurred_at=occurred).violation
    vid, due = violation.id, violation.due_at
    assert due == occurred + timedelta(hours=12)

    assert escalate_overdue(due - timedelta(seconds=1)) == 0
    assert escalate_overdue(due) == 1
    db.session.expire_all()
    violation = db.session.get(Violation, vid)
    assert (violation.escalation_level, violation.escalated_at) == (1, due)
    # An AI alarm nobody has reviewed yet is held from the committee (backend/violations/alarm_visibility.py).
    assert _notified(vid) == [("demo-principal-1", "校长督办")]
    assert escalate_overdue(due + timedelta(minutes=5)) == 0  # once per level

    step_done = due + REGULATOR_AFTER
    assert escalate_overdue(step_done - timedelta(seconds=1)) == 0
    assert escalate_overdue(step_done) == 1
    db.session.expire_all()
    assert db.session.get(Violation, vid).escalation_level == 2
    level2 = [n for n in _notified(vid) if n[1] == "监管督办"]
    assert level2 == [("demo-principal-1", "监管督办"), ("demo-regulator", "监管督办"),
                      ("demo-regulator-2", "监管督办")]
    assert escalate_overdue(step_done + timedelta(days=30)) == 0  # the top level

    events = db.session.scalars(sa.select(ViolationEvent).where(ViolationEvent.violation_id == vid,
                                                               ViolationEvent.action == "escalate")).all()
    assert [(e.at, e.actor_id, e.details["level"], e.reason) for e in events] == [
        (due, None, 1, "逾期未整改，升级为校长督办"), (step_done, None, 2, "逾期未整改，升级为监管督办")]

    # The regulator's review queue lists it; school staff have no region-wide list.
    queue = client.get("/api/v1/regions/3/violations?escalated=true", headers=as_user("demo-regulator"))
    assert [v["id"] for v in queue.json] == [vid] and queue.json[0]["escalation_level"] == 2
    assert client.get("/api/v1/regions/3/violations?escalated=false",
                      headers=as_user("demo-regulator")).json == []
    assert client.get("/api/v1/regions/3/violations", headers=as_user("demo-principal-1")).status_code == 403

    # Escalated to the regulator: the regulator now reviews, the principal may not.
    staff = as_user("demo-staff-1")
    client.post(f"/api/v1/violations/{vid}/start", json={}, headers=staff)
    client.post(f"/api/v1/violations/{vid}/rectifications", json={"measures": "已张贴禁烟标识并处理责任人",
                                                                   "photos": []}, headers=staff)
    submitted_to = set(db.session.scalars(sa.select(User.openid).join(Notice, Notice.user_id == User.id).where(
        Notice.subject_id == vid, Notice.purpose == "rectification_submitted")))
    assert submitted_to == {"demo-regulator", "demo-regulator-2"}
    response = client.post(f"/api/v1/violations/{vid}/review", json={"approve": True},
                           headers=as_user("demo-principal-1"))
    assert (response.status_code, response.json["error"]["code"]) == (403, "reviewer_is_regulator")
    response = client.post(f"/api/v1/violations/{vid}/review", json={"approve": True},
                           headers=as_user("demo-regulator"))
    assert response.status_code == 200 and response.json["status"] == "closed"


def test_a_regulator_of_another_region_is_not_told_or_allowed(client, as_user, kitchen):
    province = db.session.scalar(sa.select(Region).where(Region.code == "330000"))
    ningbo = create_region("330200", "宁波市", "city", province)
    other = User(openid="regulator-ningbo")
    provincial = User(openid="regulator-zhejiang")
    db.session.add_all([other, provincial])
    db.session.flush()
    grant_regulator(other, ningbo, None)
    grant_regulator(provincial, province, None)
    db.session.commit()
    violation = raise_violation(canteen_id=1, kind="rodent", source="ai", idempotency_key="rat-1",
                                occurred_at=utcnow()).violation
    escalate_overdue(violation.due_at)
    escalate_overdue(violation.due_at + REGULATOR_AFTER)
    told = {openid for openid, _ in _notified(violation.id)}
    assert "regulator-zhejiang" in told and "demo-regulator" in told and "regulator-ningbo" not in told
    response = client.get(f"/api/v1/violations/{violation.id}", headers=as_user("regulator-ningbo"))
    assert response.status_code == 403


def test_submitted_and_closed_violations_do_not_escalate(client, as_user, kitchen):
    submitted = raise_violation(canteen_id=1, kind="no_hat", source="ai", idempotency_key="hat-1",
                                occurred_at=utcnow()).violation
    staff = as_user("demo-staff-1")
    client.post(f"/api/v1/violations/{submitted.id}/start", json={}, headers=staff)
    client.post(f"/api/v1/violations/{submitted.id}/rectifications", json={"measures": "已配发厨师帽并培训",
                                                                           "photos": []}, headers=staff)
    closed = raise_violation(canteen_id=1, kind="no_hat", source="ai", idempotency_key="hat-2",
                             occurred_at=utcnow()).violation
    client.post(f"/api/v1/violations/{closed.id}/dismiss", json={"reason": "误报"},
                headers=as_user("demo-principal-1"))
    assert escalate_overdue(utcnow() + timedelta(days=10)) == 0
