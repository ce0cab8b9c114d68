"""The whole violation lifecycle through the API, with the notices each step writes in its transaction."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from backend.accounts.models import User
from backend.extensions import db
from backend.notices.dispatcher import dispatch_due
from backend.notices.models import Notice
from backend.timeutil import utcnow
from backend.violations.models import Rectification, Violation, ViolationEvent
from backend.violations.services import raise_violation
from tests.violations.conftest import grant, png_bytes, user_id


def _confirm(violation_id: int) -> None:
    """A reviewer confirms the AI alarm: from now on the parents' side sees it (test_alarm_parents.py)."""
    from backend.permissions import load_principal
    from backend.violations.alarm_review import review_alarm

    principal = db.session.scalar(sa.select(User).where(User.openid == "demo-principal-1"))
    review_alarm(load_principal(principal), db.session.get(Violation, violation_id), "confirmed", None)


def _raise(key: str = "cam1:no_mask:t0", kind: str = "no_mask", camera_id: int | None = 1, *,
           confirmed: bool = True, **extra):
    """An AI alarm, by default confirmed by the principal (so the committee sees it as before review existed)."""
    violation = raise_violation(canteen_id=1, kind=kind, source="ai", idempotency_key=key, occurred_at=utcnow(),
                           camera_id=camera_id, confidence=0.91,
                           evidence={"annotated": "evidence/1/a.jpg", "parent_safe": "evidence/1/p.jpg"},
                           **extra).violation
    if confirmed:
        _confirm(violation.id)
    return db.session.get(Violation, violation.id)


def _recipients(violation_id: int, purpose: str) -> set[str]:
    from backend.accounts.models import User

    return set(db.session.scalars(
        sa.select(User.openid).join(Notice, Notice.user_id == User.id)
        .where(Notice.subject_id == violation_id, Notice.subject_type == "violation", Notice.purpose == purpose)))


def _upload(client, headers, school_id=1):
    response = client.post(f"/api/v1/schools/{school_id}/violation-photos", headers=headers,
                           data={"file": (__import__("io").BytesIO(png_bytes()), "after.png")},
                           content_type="multipart/form-data")
    assert response.status_code == 201, response.json
    return response.json["key"]


def test_lifecycle_from_detection_to_closed(client, as_user, kitchen):
    fake = kitchen["fake"]
    grant("demo-staff-1", "violation")
    violation = _raise()
    vid = violation.id
    # Written with the violation: staff and manager for everything; the committee (no_mask is published) once
    # the principal confirmed the alarm.
    assert _recipients(vid, "violation_created") == {"demo-staff-1", "demo-manager-1", "demo-committee-1"}

    report = dispatch_due(utcnow(), 50)
    assert (report.sent, report.inbox_only, report.failed) == (1, 2, 0)
    assert [m["touser"] for m in fake.messages()] == ["demo-staff-1"]
    db.session.expire_all()
    assert db.session.get(Violation, vid).status == "notified"

    manager, principal = as_user("demo-manager-1"), as_user("demo-principal-1")
    response = client.post(f"/api/v1/violations/{vid}/start", json={"note": "马上处理"}, headers=manager)
    assert response.status_code == 200 and response.json["status"] == "rectifying"

    key = _upload(client, manager)
    response = client.post(f"/api/v1/violations/{vid}/rectifications", headers=manager,
                           json={"measures": "已对当班厨师进行培训并佩戴口罩", "photos": [key]})
    assert response.status_code == 201, response.json
    assert response.json["status"] == "submitted" and response.json["reviewer"] == "principal"
    assert len(response.json["rectifications"][0]["photos"]) == 1
    assert _recipients(vid, "rectification_submitted") == {"demo-principal-1"}

    before_due = db.session.get(Violation, vid).due_at
    response = client.post(f"/api/v1/violations/{vid}/review", json={"approve": False, "reason": "照片看不清"},
                           headers=principal)
    assert response.status_code == 200 and response.json["status"] == "rejected"
    db.session.expire_all()
    assert db.session.get(Violation, vid).due_at == before_due  # 48 h left is more than the 24 h rework minimum
    assert _recipients(vid, "rectification_rejected") == {"demo-staff-1", "demo-manager-1"}

    assert client.post(f"/api/v1/violations/{vid}/start", json={}, headers=manager).status_code == 200
    response = client.post(f"/api/v1/violations/{vid}/rectifications", headers=manager,
                           json={"measures": "重新拍摄整改照片，口罩已佩戴", "photos": [_upload(client, manager)]})
    assert response.status_code == 201
    response = client.post(f"/api/v1/violations/{vid}/review", json={"approve": True}, headers=principal)
    assert response.status_code == 200
    body = response.json
    assert body["status"] == "closed" and body["resolution"] == "rectified" and body["closed_at"]
    assert [(e["action"], e["from_status"], e["to_status"]) for e in body["events"]] == [
        ("open", None, "open"), ("confirm", "open", "open"), ("notify", "open", "notified"),
        ("start", "notified", "rectifying"),
        ("submit", "rectifying", "submitted"), ("reject", "submitted", "rejected"),
        ("start", "rejected", "rectifying"), ("submit", "rectifying", "submitted"),
        ("accept", "submitted", "closed")]
    actors = [e["actor_id"] for e in body["events"]]
    manager_id, principal_id = user_id("demo-manager-1"), user_id("demo-principal-1")
    assert actors == [None, principal_id, None, manager_id, manager_id, principal_id, manager_id, manager_id,
                      principal_id]
    assert body["events"][5]["reason"] == "照片看不清"
    assert all(e["at"].endswith("+08:00") for e in body["events"])
    assert [r["verdict"] for r in body["rectifications"]] == ["rejected", "accepted"]
    # Closing tells staff, manager and (published kind) the committee; never the principal who acted.
    assert _recipients(vid, "rectification_accepted") == {"demo-staff-1", "demo-manager-1", "demo-committee-1"}


def test_transitions_out_of_order_are_refused(client, as_user, kitchen):
    vid = _raise().id
    manager, principal = as_user("demo-manager-1"), as_user("demo-principal-1")
    response = client.post(f"/api/v1/violations/{vid}/review", json={"approve": True}, headers=principal)
    assert response.status_code == 409
    assert response.json["error"]["code"] == "invalid_transition"
    assert response.json["error"]["details"] == {"status": "open", "action": "accept"}
    response = client.post(f"/api/v1/violations/{vid}/rectifications", headers=manager,
                           json={"measures": "未受理就提交整改", "photos": []})
    assert response.status_code == 409
    assert client.post(f"/api/v1/violations/{vid}/start", json={}, headers=manager).status_code == 200
    assert client.post(f"/api/v1/violations/{vid}/start", json={}, headers=manager).status_code == 409
    assert [e.action for e in db.session.scalars(sa.select(ViolationEvent).where(
        ViolationEvent.violation_id == vid))] == ["open", "confirm", "start"]


def test_who_may_do_what_on_a_violation(client, as_user, kitchen):
    vid = _raise().id
    cases = [
        ("demo-parent-1", "get", "", None, 403),
        ("demo-committee-1", "get", "", None, 200),
        ("demo-principal-2", "get", "", None, 403),
        ("demo-regulator", "get", "", None, 200),
        ("demo-principal-1", "post", "/start", {}, 403),
        ("demo-committee-1", "post", "/start", {}, 403),
        ("demo-manager-2", "post", "/start", {}, 403),
        ("demo-staff-1", "post", "/start", {}, 200),
    ]
    for openid, method, suffix, body, status in cases:
        response = getattr(client, method)(f"/api/v1/violations/{vid}{suffix}", json=body, headers=as_user(openid))
        assert response.status_code == status, (openid, suffix, response.json)
    client.post(f"/api/v1/violations/{vid}/rectifications", headers=as_user("demo-staff-1"),
                json={"measures": "已整改完毕，全员佩戴口罩", "photos": []})
    # Not escalated: the principal reviews; a manager, another school's principal and the regulator cannot.
    for openid, status, code in (("demo-manager-1", 403, "forbidden"), ("demo-principal-2", 403, "forbidden"),
                                 ("demo-regulator", 403, "reviewer_is_principal")):
        response = client.post(f"/api/v1/violations/{vid}/review", json={"approve": True}, headers=as_user(openid))
        assert (response.status_code, response.json["error"]["code"]) == (status, code)


def test_committee_sees_parent_safe_evidence_and_staff_the_annotated_frame(client, as_user, kitchen):
    vid = _raise().id
    committee = client.get(f"/api/v1/violations/{vid}", headers=as_user("demo-committee-1")).json
    staff = client.get(f"/api/v1/violations/{vid}", headers=as_user("demo-staff-1")).json
    assert "evidence/1/p.jpg" in committee["evidence"]["image"] and "annotated" not in str(committee)
    assert "evidence/1/a.jpg" not in str(committee)
    assert "evidence/1/a.jpg" in staff["evidence"]["image"]


def test_rejection_needs_a_reason_and_extends_a_short_deadline(client, as_user, kitchen):
    violation = _raise(kind="rodent")  # 12 h to fix
    vid = violation.id
    staff, principal = as_user("demo-staff-1"), as_user("demo-principal-1")
    client.post(f"/api/v1/violations/{vid}/start", json={}, headers=staff)
    client.post(f"/api/v1/violations/{vid}/rectifications", json={"measures": "已请专业公司灭鼠", "photos": []},
                headers=staff)
    response = client.post(f"/api/v1/violations/{vid}/review", json={"approve": False}, headers=principal)
    assert (response.status_code, response.json["error"]["code"]) == (422, "reason_required")
    before = utcnow()
    client.post(f"/api/v1/violations/{vid}/review", json={"approve": False, "reason": "仍见鼠迹"}, headers=principal)
    db.session.expire_all()
    due = db.session.get(Violation, vid).due_at
    assert before + timedelta(hours=24) <= due <= utcnow() + timedelta(hours=24)


def test_dismissing_a_false_alarm(client, as_user, kitchen):
    vid = _raise().id
    response = client.post(f"/api/v1/violations/{vid}/dismiss", json={"reason": "误识别：厨师已佩戴口罩"},
                           headers=as_user("demo-principal-1"))
    assert response.status_code == 200
    assert (response.json["status"], response.json["resolution"]) == ("closed", "dismissed")
    assert _recipients(vid, "violation_dismissed") == {"demo-staff-1", "demo-manager-1", "demo-committee-1"}
    response = client.post(f"/api/v1/violations/{vid}/dismiss", json={"reason": "再次撤销"},
                           headers=as_user("demo-principal-1"))
    assert response.status_code == 409


def test_a_rolled_back_violation_or_transition_leaves_no_notice(client, as_user, kitchen):
    raise_violation(canteen_id=1, kind="smoking", source="record_rule", idempotency_key="rolled-back",
                    occurred_at=utcnow(), commit=False)
    # Staff and manager, the committee, and (smoking is class 2: 双推送) the county's two inspectors.
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Notice)) == 5
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Notice)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Violation)) == 0

    vid = _raise().id
    staff = as_user("demo-staff-1")
    client.post(f"/api/v1/violations/{vid}/start", json={}, headers=staff)
    before = db.session.scalar(sa.select(sa.func.count()).select_from(Notice))
    # A photo that is not the submitter's makes the whole submission fail: no event, no notice, no rectification.
    response = client.post(f"/api/v1/violations/{vid}/rectifications", headers=staff,
                           json={"measures": "已整改完毕，全员佩戴口罩", "photos": ["violation-photos/1/999/x.jpg"]})
    assert (response.status_code, response.json["error"]["code"]) == (422, "photo_not_found")
    # Named under the form's field, so the console shows it next to the photos.
    assert response.json["error"]["details"]["fields"] == {"photos": ["照片不存在或不属于当前用户，请重新上传"]}
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Notice)) == before
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Rectification)) == 0
    assert db.session.get(Violation, vid).status == "rectifying"


def test_photos_are_judged_by_content(client, as_user, kitchen, tmp_path):
    """The same content check as record uploads (backend/content.py), restricted to images."""
    from backend.files import object_store
    from tests.records.helpers import gps_exif, jpeg, pdf

    headers = as_user("demo-manager-1")

    def upload(data, name):
        return client.post("/api/v1/schools/1/violation-photos", headers=headers,
                           data={"file": (__import__("io").BytesIO(data), name)}, content_type="multipart/form-data")

    response = upload(b"#!/bin/sh\nrm -rf /\n", "evil.jpg")
    assert (response.status_code, response.json["error"]["code"]) == (415, "unsupported_file_type")
    assert response.json["error"]["message"] == "仅支持 JPEG、PNG、WebP 格式的图片"
    truncated = png_bytes((400, 300))[:200]
    assert (upload(truncated, "cut.png").status_code, upload(truncated, "cut.png").json["error"]["code"]) == (
        422, "file_corrupt")
    gif = __import__("io").BytesIO()
    __import__("PIL.Image", fromlist=["Image"]).new("RGB", (8, 8)).save(gif, format="GIF")
    assert upload(gif.getvalue(), "a.gif").json["error"]["code"] == "unsupported_file_type"
    # A PDF is a record file, not a photo.
    assert (upload(pdf(), "scan.pdf").status_code, upload(pdf(), "scan.pdf").json["error"]["code"]) == (
        415, "unsupported_file_type")
    assert (upload(b"", "empty.jpg").status_code, upload(b"", "empty.jpg").json["error"]["code"]) == (
        422, "file_empty")
    response = upload(png_bytes(), "ok.png")
    assert response.status_code == 201
    assert response.json["key"].startswith(f"violation-photos/1/{user_id('demo-manager-1')}/")
    assert response.json["key"].endswith(".png")
    # Re-encoded without metadata: a phone photo's GPS position is gone.
    response = upload(jpeg(size=(120, 80), exif=gps_exif()), "IMG_0001.jpg")
    assert response.status_code == 201 and response.json["key"].endswith(".jpg")
    stored = object_store().get(response.json["key"])
    assert response.json["size"] == len(stored) and b"Exif\x00\x00" not in stored and b"PhoneCam" not in stored
    # Another school's member cannot upload here.
    other = client.post("/api/v1/schools/1/violation-photos", headers=as_user("demo-manager-2"),
                        data={"file": (__import__("io").BytesIO(png_bytes()), "x.png")},
                        content_type="multipart/form-data")
    assert other.status_code == 403


@pytest.mark.parametrize("kind", ["jpeg", "png", "webp"])
def test_photo_payload_in_profile_metadata_or_after_the_end_is_not_stored(client, as_user, kitchen, kind):
    """Violation photos go through the same re-encoding as record files: nothing but the pixels is kept."""
    from backend.files import object_store
    from tests.records.helpers import PAYLOAD_NAME, ZIP_SIGNATURE, hiding_places

    for place, original in hiding_places(kind).items():
        response = client.post("/api/v1/schools/1/violation-photos", headers=as_user("demo-manager-1"),
                               data={"file": (__import__("io").BytesIO(original), f"after.{kind}")},
                               content_type="multipart/form-data")
        assert response.status_code == 201, (place, response.json)
        stored = object_store().get(response.json["key"])
        assert ZIP_SIGNATURE not in stored and PAYLOAD_NAME not in stored, place
        info = __import__("PIL.Image", fromlist=["Image"]).open(__import__("io").BytesIO(stored)).info
        assert "icc_profile" not in info and "exif" not in info, place


@pytest.mark.parametrize(("size", "code"), [(11 * 1024 * 1024, "payload_too_large"),  # the request itself
                                           (10 * 1024 * 1024 + 1, "file_too_large")])   # the file, one byte over
def test_an_upload_over_the_limit_is_refused(client, as_user, kitchen, size, code):
    photo = png_bytes()
    data = photo + b"\0" * (size - len(photo))
    response = client.post("/api/v1/schools/1/violation-photos", headers=as_user("demo-manager-1"),
                           data={"file": (__import__("io").BytesIO(data), "big.png")},
                           content_type="multipart/form-data")
    assert (response.status_code, response.json["error"]["code"]) == (413, code)
    if code == "file_too_large":  # the same answer as a record upload over the limit
        assert response.json["error"]["details"] == {"max_bytes": 10 * 1024 * 1024, "size": 10 * 1024 * 1024 + 1}


def test_the_principal_hands_a_problem_to_the_regulators(client, as_user, kitchen):
    """上报监管部门: only the school's principal, once, while it is open; the regulators are told, the timeline says
    so, and from then on they review the rectification instead of the principal."""
    vid = _raise(kind="rodent").id
    principal, regulator, staff = as_user("demo-principal-1"), as_user("demo-regulator"), as_user("demo-staff-1")
    url = f"/api/v1/violations/{vid}/escalate"
    short = client.post(url, json={"reason": "x"}, headers=principal)
    assert short.status_code == 422 and "reason" in short.json["error"]["details"]["fields"]
    for openid, status in (("demo-staff-1", 403), ("demo-manager-1", 403), ("demo-principal-2", 403),
                           ("demo-parent-1", 403), ("demo-regulator", 403)):
        response = client.post(url, json={"reason": "鼠患反复出现，需监管部门督办"}, headers=as_user(openid))
        assert response.status_code == status, (openid, response.json)
    db.session.expire_all()
    assert db.session.get(Violation, vid).escalation_level == 0  # none of the refused calls changed it
    response = client.post(url, json={"reason": "鼠患反复出现，需监管部门督办"}, headers=principal)
    assert response.status_code == 200, response.json
    assert response.json["reviewer"] == "regulator"
    step = response.json["events"][-1]
    assert (step["action"], step["label"], step["reason"]) == (
        "escalate", "上报监管部门", "鼠患反复出现，需监管部门督办")
    assert {"demo-regulator", "demo-regulator-2", "demo-principal-1"} <= _recipients(vid, "violation_escalated")
    body = db.session.scalar(sa.select(Notice.body).where(Notice.subject_id == vid,
                                                         Notice.purpose == "violation_escalated").limit(1))
    assert "经校长上报" in body and "逾期" not in body
    # In the regulators' queue of escalated problems.
    queue = client.get("/api/v1/regions/3/violations?escalated=true", headers=regulator).json
    assert vid in [v["id"] for v in queue]
    again = client.post(url, json={"reason": "再次上报监管部门"}, headers=principal)
    assert (again.status_code, again.json["error"]["code"]) == (409, "already_with_regulator")
    # The regulator reviews the rectification now, the principal no longer does.
    client.post(f"/api/v1/violations/{vid}/start", json={}, headers=staff)
    client.post(f"/api/v1/violations/{vid}/rectifications", headers=staff,
                json={"measures": "已请专业公司灭鼠并封堵洞口", "photos": []})
    refused = client.post(f"/api/v1/violations/{vid}/review", json={"approve": True}, headers=principal)
    assert (refused.status_code, refused.json["error"]["code"]) == (403, "reviewer_is_regulator")
    accepted = client.post(f"/api/v1/violations/{vid}/review", json={"approve": True}, headers=regulator)
    assert accepted.status_code == 200 and accepted.json["status"] == "closed"
    closed = client.post(f"/api/v1/violations/{_raise(key='cam1:no_mask:t9').id}/dismiss",
                         json={"reason": "误识别"}, headers=principal).json["id"]
    late = client.post(f"/api/v1/violations/{closed}/escalate", json={"reason": "已撤销的问题"}, headers=principal)
    assert (late.status_code, late.json["error"]["code"]) == (409, "violation_closed")
