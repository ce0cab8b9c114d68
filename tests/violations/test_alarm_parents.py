"""Parents never see an AI alarm marked false: an alarm is held from every parent-facing route and notice
until a reviewer confirms or escalates it; a confirmed one reaches them; other sources are public at once."""

from __future__ import annotations

import sqlalchemy as sa

from backend.extensions import db
from backend.notices.dispatcher import dispatch_due
from backend.notices.models import Notice
from backend.timeutil import utcnow
from tests.violations.alarm_helpers import alarm, notice_recipients
from tests.violations.conftest import grant, user_id

PARENT_SIDE = ("demo-parent-1", "demo-committee-1")


def _parent_view(client, headers) -> dict:
    """Everything a parent or committee member can read about the school's violations."""
    listed = client.get("/api/v1/schools/1/violations", headers=headers)
    page = client.get("/api/v1/schools/1/transparency", headers=headers).json
    figures = client.get("/api/v1/stats?school_id=1", headers=headers).json
    inbox = client.get("/api/v1/inbox", headers=headers)
    return {"listed": [v["id"] for v in listed.json] if listed.status_code == 200 else None,
            "timeline": [t["id"] for t in page["timeline"]], "page_found": page["summary"]["found"],
            "found": figures["found"], "inbox": inbox.json}


def _detail_status(client, headers, vid) -> int:
    return client.get(f"/api/v1/violations/{vid}", headers=headers).status_code


def _review(client, openid_headers, vid, verdict, reason=None):
    response = client.post(f"/api/v1/alarms/{vid}/review", json={"verdict": verdict, "reason": reason},
                           headers=openid_headers)
    assert response.status_code == 201, response.json
    return response


def test_an_alarm_marked_false_never_reaches_parents(client, as_user, kitchen):
    grant("demo-committee-1", "violation", fake=kitchen["fake"])
    vid = alarm()
    staff_side = notice_recipients(vid)
    assert staff_side == {"demo-staff-1", "demo-manager-1"}  # staff at once, the committee held

    for openid in PARENT_SIDE:
        view = _parent_view(client, as_user(openid))
        assert vid not in (view["listed"] or []) and vid not in view["timeline"]
        assert view["found"] == 0 and view["page_found"] == 0
    assert _detail_status(client, as_user("demo-committee-1"), vid) == 404
    assert _detail_status(client, as_user("demo-staff-1"), vid) == 200

    _review(client, as_user("demo-staff-1"), vid, "false_positive", "把白色帽子识别成了口罩")
    dispatch_due(utcnow(), 100)
    # Closed as dismissed: still absent everywhere a parent looks, the dismissal told to staff only.
    for openid in PARENT_SIDE:
        view = _parent_view(client, as_user(openid))
        assert vid not in (view["listed"] or []) and vid not in view["timeline"]
        assert view["found"] == 0 and view["page_found"] == 0
        assert str(vid) not in str(view["inbox"])
    assert _detail_status(client, as_user("demo-committee-1"), vid) == 404
    parents = {user_id(o) for o in PARENT_SIDE}
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Notice).where(
        Notice.subject_id == vid, Notice.user_id.in_(parents))) == 0
    assert not [m for m in kitchen["fake"].messages() if m["touser"] in PARENT_SIDE]


def test_a_confirmed_alarm_reaches_parents(client, as_user, kitchen):
    grant("demo-committee-1", "violation", fake=kitchen["fake"])
    vid = alarm()
    _review(client, as_user("demo-principal-1"), vid, "confirmed")
    assert "demo-committee-1" in notice_recipients(vid)
    dispatch_due(utcnow(), 100)
    assert "demo-committee-1" in [m["touser"] for m in kitchen["fake"].messages()]
    committee = as_user("demo-committee-1")
    view = _parent_view(client, committee)
    assert vid in view["listed"] and view["found"] == 1 and view["page_found"] == 1
    assert _parent_view(client, as_user("demo-parent-1"))["found"] == 1
    assert _detail_status(client, committee, vid) == 200


def test_an_escalated_alarm_reaches_parents(client, as_user, kitchen):
    vid = alarm()
    _review(client, as_user("demo-regulator"), vid, "escalated", "多次未整改")
    assert {"demo-committee-1", "demo-regulator"} <= notice_recipients(vid)
    assert vid in _parent_view(client, as_user("demo-committee-1"))["listed"]


def test_other_sources_are_public_at_once_as_before(client, as_user, kitchen):
    vid = alarm(source="record_rule", kind="sample_missing")
    assert "demo-committee-1" in notice_recipients(vid)
    committee = as_user("demo-committee-1")
    assert vid in _parent_view(client, committee)["listed"]
    assert _detail_status(client, committee, vid) == 200
