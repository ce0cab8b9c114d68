"""A parent who reports a problem follows it: ``GET /me/reports`` (status, rectification, timeline, as a
reporter may see it) and an inbox notice at every change, through the notice outbox."""

from __future__ import annotations

import io
import json

import sqlalchemy as sa

from backend.accounts.models import Membership
from backend.extensions import db
from backend.notices.models import Notice
from backend.violations.escalation import REGULATOR_AFTER, escalate_overdue
from backend.violations.models import Violation
from tests.violations.conftest import png_bytes, user_id

API = "/api/v1"
REJECTION = "照片看不清积水是否清理"
MEASURES = "已清理积水并加装防滑垫"


def _photo(client, headers):
    response = client.post(f"{API}/schools/1/violation-photos", headers=headers, content_type="multipart/form-data",
                           data={"file": (io.BytesIO(png_bytes()), "p.png")})
    assert response.status_code == 201, response.json
    return response.json["key"]


def _report(client, headers, key="report-follow-0001", photos=()):
    response = client.post(f"{API}/schools/1/violations", headers={**headers, "Idempotency-Key": key},
                           json={"canteen_id": 1, "title": "地面积水", "photos": list(photos),
                                 "description": "后厨门口地面有大片积水，容易滑倒"})
    assert response.status_code == 201, response.json
    return response.json["id"]


def _mine(client, headers):
    response = client.get(f"{API}/me/reports", headers=headers)
    assert response.status_code == 200, response.json
    return response.json


def _reporter_notices(openid):
    return db.session.scalars(sa.select(Notice).where(Notice.user_id == user_id(openid),
                                                      Notice.purpose == "report_progress")
                              .order_by(Notice.id)).all()


def test_a_parent_follows_their_report_to_the_end(client, as_user, kitchen):
    parent = as_user("demo-parent-1")
    manager, principal = as_user("demo-manager-1"), as_user("demo-principal-1")
    vid = _report(client, parent, photos=[_photo(client, parent)])

    [report] = _mine(client, parent)
    assert report["violation_id"] == vid and report["school_name"] == "西湖实验小学"
    assert (report["title"], report["status"], report["status_label"]) == ("地面积水", "open", "待通知")
    assert report["rectification"]["state"] == "none" and len(report["photos"]) == 1
    assert [e["label"] for e in report["events"]] == ["发现问题"]
    assert _reporter_notices("demo-parent-1") == []  # their own report is no news to them

    def act(url, body, headers):
        response = client.post(f"{API}/violations/{vid}/{url}", json=body, headers=headers)
        assert response.status_code in (200, 201), response.json

    act("start", {}, manager)
    assert _mine(client, parent)[0]["status_label"] == "整改中"
    act("rectifications", {"measures": "第一次整改", "photos": [_photo(client, manager)]}, manager)
    submitted = _mine(client, parent)[0]["rectification"]
    assert (submitted["state"], submitted["measures"]) == ("submitted", None)
    act("review", {"approve": False, "reason": REJECTION}, principal)
    assert _mine(client, parent)[0]["rectification"]["state"] == "rejected"
    act("start", {}, manager)
    act("rectifications", {"measures": MEASURES, "photos": []}, manager)
    act("review", {"approve": True}, principal)

    [report] = _mine(client, parent)
    assert (report["status"], report["resolution"], report["resolution_label"]) == ("closed", "rectified", "已整改")
    assert report["rectification"]["state"] == "accepted" and report["rectification"]["measures"] == MEASURES
    assert [e["label"] for e in report["events"]] == ["发现问题", "开始整改", "提交整改", "整改驳回", "开始整改",
                                                       "提交整改", "整改通过"]
    # Nothing a parent may not see: no reasons, no names, no rectification photos, no detection evidence.
    text = json.dumps(report, ensure_ascii=False)
    for secret in (REJECTION, "第一次整改", "食堂负责人", "校长", "reason", "actor", "annotated"):
        assert secret not in text, secret

    # One inbox notice per change, in words a parent may read, opening the inbox (not the staff's page).
    notices = _reporter_notices("demo-parent-1")
    assert [n.payload["progress"] for n in notices] == ["整改中", "待复核", "重新整改", "整改中", "待复核", "已整改"]
    assert all(n.page == f"pages/violations/reports/index?id={vid}" and n.subject_id == vid for n in notices)
    assert notices[2].body == "您反映的问题“地面积水”整改未通过复核，学校正在重新整改。"
    assert all(REJECTION not in n.body + json.dumps(n.payload, ensure_ascii=False) for n in notices)
    inbox = client.get(f"{API}/inbox", headers=parent).json
    assert [item["purpose"] for item in inbox["items"]].count("report_progress") == 6


def test_reports_are_only_their_reporters_and_end_with_the_binding(client, as_user, kitchen):
    parent = as_user("demo-parent-1")
    vid = _report(client, parent)
    assert _mine(client, as_user("demo-committee-1")) == []
    assert _mine(client, as_user("demo-parent-2")) == []
    assert client.get(f"{API}/me/reports").status_code == 401
    membership = db.session.scalar(sa.select(Membership).where(Membership.user_id == user_id("demo-parent-1")))
    membership.status = "revoked"
    db.session.commit()
    assert _mine(client, as_user("demo-parent-1")) == []
    assert db.session.get(Violation, vid) is not None


def test_the_reporter_hears_of_a_dismissal_and_of_an_escalation(client, as_user, kitchen):
    parent = as_user("demo-parent-1")
    dismissed = _report(client, parent, key="report-follow-0002")
    response = client.post(f"{API}/violations/{dismissed}/dismiss", json={"reason": "现场核实无积水"},
                           headers=as_user("demo-principal-1"))
    assert response.status_code == 200, response.json
    overdue = _report(client, parent, key="report-follow-0003")
    due = db.session.get(Violation, overdue).due_at
    assert escalate_overdue(due) == 1 and escalate_overdue(due + REGULATOR_AFTER) == 1
    told = [(n.subject_id, n.payload["progress"]) for n in _reporter_notices("demo-parent-1")]
    assert told == [(dismissed, "已撤销"), (overdue, "逾期督办"), (overdue, "逾期督办")]
    assert "现场核实无积水" not in _reporter_notices("demo-parent-1")[0].body
    shown = {r["id"]: r for r in _mine(client, parent)}
    assert shown[dismissed]["resolution_label"] == "核实撤销"
    assert [e["label"] for e in shown[overdue]["events"]] == ["发现问题", "逾期督办", "逾期督办"]


def test_a_staff_reporter_is_not_told_twice(client, as_user, kitchen):
    staff = as_user("demo-staff-1")
    vid = _report(client, staff, key="report-follow-0004")
    client.post(f"{API}/violations/{vid}/start", json={}, headers=as_user("demo-manager-1"))
    assert _reporter_notices("demo-staff-1") == []
    assert [r["status"] for r in _mine(client, staff)] == ["rectifying"]
