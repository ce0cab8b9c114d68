"""The in-app inbox, subscription reports from the mini-program, and reports of problems by people."""

from __future__ import annotations

import sqlalchemy as sa

from backend.accounts.models import User
from backend.extensions import db
from backend.notices.models import Notice
from backend.notices.outbox import NoticeDraft, enqueue
from backend.notices.templates import DEV_TEMPLATE_IDS, TEMPLATES
from backend.timeutil import utcnow
from backend.violations.models import Violation
from backend.violations.services import raise_violation


def test_inbox_lists_marks_read_and_hides_other_users_notices(client, as_user, kitchen):
    for i in range(3):
        # Found by an inspection: the committee hears at once (an AI alarm waits for review: test_alarm_parents.py).
        raise_violation(canteen_id=1, kind="no_mask", source="inspection", idempotency_key=f"k{i}",
                        occurred_at=utcnow())
    raise_violation(canteen_id=2, kind="no_mask", source="inspection", idempotency_key="other", occurred_at=utcnow())
    manager = as_user("demo-manager-1")
    body = client.get("/api/v1/inbox", headers=manager).json
    assert body["unread"] == 3 and len(body["items"]) == 3
    ids = [item["id"] for item in body["items"]]
    assert ids == sorted(ids, reverse=True)
    first = body["items"][0]
    assert first["title"] == "发现问题：未佩戴口罩" and first["read"] is False and first["delivery"] == "pending"
    assert "西湖实验小学" in first["body"] and first["page"].startswith("pages/violations/detail/index?id=")
    response = client.post(f"/api/v1/inbox/{ids[0]}/read", headers=manager)
    assert response.status_code == 200 and response.json["read"] is True
    assert client.get("/api/v1/inbox?unread=true", headers=manager).json["unread"] == 2
    assert [i["id"] for i in client.get("/api/v1/inbox?unread=true", headers=manager).json["items"]] == ids[1:]
    assert [i["id"] for i in client.get(f"/api/v1/inbox?before_id={ids[0]}&limit=1",
                                        headers=manager).json["items"]] == [ids[1]]
    others = db.session.scalars(sa.select(Notice.id).where(Notice.school_id == 2)).all()
    response = client.post(f"/api/v1/inbox/{others[0]}/read", headers=manager)
    assert response.status_code == 404
    assert client.post("/api/v1/inbox/read-all", headers=manager).json == {"marked": 2}
    assert client.get("/api/v1/inbox", headers=manager).json["unread"] == 0
    # Parents are not told about violations (the committee is, for published kinds).
    assert client.get("/api/v1/inbox", headers=as_user("demo-parent-1")).json == {"items": [], "unread": 0}
    assert client.get("/api/v1/inbox", headers=as_user("demo-committee-1")).json["unread"] == 3


def test_subscription_reports_from_the_mini_program(client, as_user, kitchen):
    headers = as_user("demo-staff-1")
    templates = client.get("/api/v1/notices/templates", headers=headers).json
    assert [t["purpose"] for t in templates] == ["violation", "progress", "escalation", "supervision", "binding",
                                                      "unreported", "warning", "seal"]
    assert templates[0]["template_id"] == DEV_TEMPLATE_IDS["violation"] and templates[0]["keywords"][0] == "学校"
    response = client.post("/api/v1/me/subscriptions", headers=headers, json={"results": {
        DEV_TEMPLATE_IDS["violation"]: "accept", DEV_TEMPLATE_IDS["progress"]: "reject", "unknown-tmpl-1": "accept"}})
    assert response.status_code == 200
    assert response.json["applied"] == sorted([DEV_TEMPLATE_IDS["violation"], DEV_TEMPLATE_IDS["progress"]])
    assert response.json["ignored"] == ["unknown-tmpl-1"]
    mine = {s["purpose"]: (s["remaining"], s["last_choice"]) for s in
            client.get("/api/v1/me/subscriptions", headers=headers).json}
    assert mine == {"violation": (1, "accept"), "progress": (0, "reject"), "escalation": (0, None),
                    "supervision": (0, None), "binding": (0, None), "unreported": (0, None), "warning": (0, None),
                    "seal": (0, None)}
    bad = client.post("/api/v1/me/subscriptions", headers=headers, json={"results": {"x": "maybe"}})
    assert bad.status_code == 422
    assert client.post("/api/v1/me/subscriptions", headers=headers, json={"results": {}}).status_code == 422


def test_a_parent_report_is_idempotent_and_checked_for_content(client, as_user, kitchen):
    fake = kitchen["fake"]
    parent = {**as_user("demo-parent-1"), "Idempotency-Key": "report-2025-0001"}
    body = {"canteen_id": 1, "description": "家长开放日看到后厨地面有积水", "title": "地面积水"}
    first = client.post("/api/v1/schools/1/violations", json=body, headers=parent)
    assert first.status_code == 201, first.json
    again = client.post("/api/v1/schools/1/violations", json=body, headers=parent)
    assert again.status_code == 200 and again.json["id"] == first.json["id"]
    violation = db.session.get(Violation, first.json["id"])
    assert (violation.source, violation.kind, violation.title) == ("report", "reported", "地面积水")
    assert fake.call_count("msg_sec_check") == 2
    risky = client.post("/api/v1/schools/1/violations", headers={**parent, "Idempotency-Key": "report-2025-0002"},
                        json={**body, "description": "这里有人在赌博，快来看"})
    assert (risky.status_code, risky.json["error"]["code"]) == (422, "content_risky")
    wrong = client.post("/api/v1/schools/1/violations", headers={**parent, "Idempotency-Key": "report-2025-0003"},
                        json={**body, "canteen_id": 2})
    assert wrong.json["error"]["code"] == "canteen_not_in_school"
    assert client.post("/api/v1/schools/2/violations", json=body, headers=parent).status_code == 403
    bad_key = client.post("/api/v1/schools/1/violations", json=body, headers={**parent, "Idempotency-Key": "x y"})
    assert bad_key.json["error"]["code"] == "idempotency_key_invalid"


def test_the_author_of_a_change_is_not_notified_of_it(client, as_user, kitchen):
    from backend.accounts.models import User

    response = client.post("/api/v1/schools/1/violations", headers={**as_user("demo-staff-1"),
                                                                    "Idempotency-Key": "staff-report-01"},
                           json={"canteen_id": 1, "kind": "rodent", "description": "储藏间发现老鼠粪便"})
    assert response.status_code == 201
    told = set(db.session.scalars(sa.select(User.openid).join(Notice, Notice.user_id == User.id)
                                  .where(Notice.subject_id == response.json["id"])))
    # Not the staff member who reported it; a rodent is class 1, so the county's inspectors too (双推送).
    assert told == {"demo-manager-1", "demo-committee-1", "demo-regulator", "demo-regulator-2"}


def test_the_committee_hears_of_every_kind_but_camera_health_by_default(client, as_user, kitchen):
    from backend.accounts.models import User
    from backend.violations.models import ViolationKind

    committee = db.session.scalar(sa.select(User.id).where(User.openid == "demo-committee-1"))
    told = set()
    for kind in ViolationKind:
        violation = raise_violation(canteen_id=1, kind=kind.value, source="record_rule", camera_id=1,
                                    idempotency_key=f"default-{kind}", occurred_at=utcnow()).violation
        if db.session.scalar(sa.select(Notice.id).where(Notice.subject_id == violation.id,
                                                        Notice.user_id == committee)):
            told.add(kind.value)
    assert told == {k.value for k in ViolationKind} - {"camera_offline", "camera_blurred", "camera_occluded",
                                                       "camera_offline_meal"}
    settings = client.get("/api/v1/schools/1/notice-settings", headers=as_user("demo-principal-1")).json
    assert settings["customised"] is False
    assert set(settings["published_kinds"]) == told


def test_the_templates_of_a_users_newest_notices_are_asked_for_first(client, as_user, kitchen):
    # WeChat asks for three templates at a time: a principal who is sent supervision orders and seals should be
    # asked for those, not for the declared first three.

    principal = db.session.scalar(sa.select(User.id).where(User.openid == "demo-principal-1"))
    for index, (template, purpose) in enumerate([("seal", "seal_placed"), ("supervision", "supervision_issued"),
                                                 ("seal", "seal_released")]):
        enqueue(NoticeDraft(subject_type="record", subject_id=index + 1, school_id=1, purpose=purpose,
                            template=template, title="t", body="b",
                            payload={"school": "s", "target": "t", "reason": "r", "state": "已封存", "title": "t",
                                     "due_at": utcnow().isoformat(), "issuer": "i", "at": utcnow().isoformat()}),
                [principal], f"test-order:{index}", utcnow())
    db.session.commit()
    asked = [t["purpose"] for t in client.get("/api/v1/notices/templates", headers=as_user("demo-principal-1")).json]
    assert asked[:2] == ["seal", "supervision"]
    assert sorted(asked) == sorted(TEMPLATES)  # every template is still offered, the rest in the declared order
    # Someone with no notice yet (parents are not told about violations) gets the declared order.
    assert client.get("/api/v1/inbox", headers=as_user("demo-parent-1")).json["items"] == []
    fresh = [t["purpose"] for t in client.get("/api/v1/notices/templates", headers=as_user("demo-parent-1")).json]
    assert fresh == list(TEMPLATES)
