"""Retention of push events and send attempts: old rows go in bounded batches, the notices, the attempts of
pending notices and the latest attempt of failed ones stay; counts match a direct count; runs are
idempotent and concurrent runs split the work. Every clock here is an argument, never the wall clock."""

from __future__ import annotations

import hashlib
import json
import threading
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from backend.extensions import db
from backend.notices.dispatcher import dispatch_due
from backend.notices.models import (
    AttemptOutcome,
    Notice,
    NoticeAttempt,
    NoticeStatus,
    SubscriptionQuota,
    WeChatPushEvent,
)
from backend.notices.retention import (
    DEFAULT_RETENTION_DAYS,
    expired_attempts,
    expired_push_events,
    purge_notice_logs,
    retention_days,
)
from backend.notices.templates import DEV_TEMPLATE_IDS
from backend.timeutil import as_utc, utcnow
from backend.violations.services import raise_violation
from tests.violations.conftest import PUSH_TOKEN, grant, user_id

STAFF = "demo-staff-1"
DAYS = DEFAULT_RETENTION_DAYS
_SIGNATURE = hashlib.sha1("".join(sorted([PUSH_TOKEN, "1714036504", "1514711492"])).encode()).hexdigest()
PUSH_URL = f"/api/v1/wechat/push?signature={_SIGNATURE}&timestamp=1714036504&nonce=1514711492"


def _count(model: type, *where: sa.ColumnElement[bool]) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


def _quota(openid: str, purpose: str) -> int:
    return db.session.scalar(sa.select(SubscriptionQuota.remaining).where(
        SubscriptionQuota.user_id == user_id(openid), SubscriptionQuota.template_id == DEV_TEMPLATE_IDS[purpose]))


def _attempts_of(notice_id: int) -> list[tuple[int, str]]:
    return [(a.number, a.outcome) for a in db.session.scalars(
        sa.select(NoticeAttempt).where(NoticeAttempt.notice_id == notice_id).order_by(NoticeAttempt.id))]


_VIOLATIONS: dict[str, int] = {}


def _staff_notice(key: str) -> Notice:
    db.session.expire_all()
    return db.session.scalar(sa.select(Notice).where(Notice.user_id == user_id(STAFF),
                                                     Notice.subject_id == _VIOLATIONS[key]))


def _violation(key: str, at: datetime) -> None:
    _VIOLATIONS[key] = raise_violation(canteen_id=1, kind="camera_offline", source="ai", idempotency_key=key,
                                       occurred_at=at, camera_id=1).violation.id


def _push_event(key: str, at: datetime) -> None:
    db.session.add(WeChatPushEvent(dedupe_key=key, event="subscribe_msg_popup_event", openid=STAFF,
                                   received_at=at, payload={}))


def test_old_bookkeeping_goes_and_what_is_still_needed_stays(client, as_user, kitchen):
    """Real notices through the dispatcher on a controlled clock, then the purge long after."""
    fake = kitchen["fake"]
    grant(STAFF, "violation", times=3)
    # A notice is due from the wall-clock moment its violation is raised, so t0 must stay ahead of every one
    # raised below, however slow the machine. With t0 one second ahead, a loaded CI run raised the second
    # violation after t0: its first dispatch sent nothing, the 45009 stayed queued, and the step-3 dispatch's
    # two concurrent sends raced for the two queued errors.
    t0 = as_utc(utcnow()) + timedelta(minutes=10)

    # 1. sent at once: its one attempt may go once it is old.
    _violation("sent", t0)
    assert dispatch_due(t0, 10).sent == 1
    sent = _staff_notice("sent")
    # 2. a transient error, then a permanent one: failed; its latest attempt explains it to admins.
    _violation("failed", t0)
    fake.inject("subscribe_send", 45009, times=1)
    assert dispatch_due(t0, 10).retried == 1
    fake.inject("subscribe_send", 40003, times=1)
    assert dispatch_due(t0 + timedelta(hours=2), 10).failed == 1
    failed = _staff_notice("failed")
    # 3. still retrying: WeChat keeps answering "busy" and the next try is due later.
    _violation("retrying", t0)
    fake.inject("subscribe_send", 45009, times=1)
    assert dispatch_due(t0 + timedelta(hours=3), 10).retried == 1
    retrying = _staff_notice("retrying")
    assert (sent.status, failed.status, retrying.status) == ("sent", "failed", "pending")
    assert _attempts_of(failed.id) == [(1, "retry"), (2, "failed")]
    assert _attempts_of(retrying.id) == [(1, "retry")]
    notices_before = _count(Notice)

    # Push events: one received two days before t0, one at t0, and one through the real endpoint.
    _push_event("old-push", t0 - timedelta(days=2))
    _push_event("recent-push", t0)
    db.session.commit()
    popup = json.dumps({"ToUserName": "gh_123456789abc", "FromUserName": STAFF, "CreateTime": "1714036504",
                        "MsgType": "event", "Event": "subscribe_msg_popup_event",
                        "List": [{"TemplateId": DEV_TEMPLATE_IDS["progress"], "SubscribeStatusString": "accept"}]})
    assert client.post(PUSH_URL, data=popup, content_type="application/json").status_code == 200
    assert _count(WeChatPushEvent) == 3

    # A day short of the period after t0: none of the dispatcher's rows go, only the push event older than it.
    report = purge_notice_logs(t0 + timedelta(days=DAYS - 1))
    assert (report.push_events, report.attempts, report.complete) == (1, 0, True)
    assert _count(WeChatPushEvent) == 2 and _count(WeChatPushEvent, WeChatPushEvent.dedupe_key == "old-push") == 0
    # A push WeChat re-sends is still recognised by its kept copy: the grant is counted once.
    assert client.post(PUSH_URL, data=popup, content_type="application/json").status_code == 200
    assert _count(WeChatPushEvent) == 2
    assert _quota(STAFF, "progress") == 1

    later = t0 + timedelta(days=DAYS + 30)
    expected_events = _count(WeChatPushEvent, expired_push_events(later - timedelta(days=DAYS)))
    expected_attempts = _count(NoticeAttempt, expired_attempts(later - timedelta(days=DAYS)))
    total_attempts = _count(NoticeAttempt)
    report = purge_notice_logs(later)
    assert (report.push_events, report.attempts) == (expected_events, expected_attempts) == (2, 2)
    assert _count(NoticeAttempt) == total_attempts - expected_attempts
    db.session.expire_all()
    assert _attempts_of(sent.id) == []
    assert _attempts_of(failed.id) == [(2, "failed")]     # the latest one, for the admins' failed view
    assert _attempts_of(retrying.id) == [(1, "retry")]    # pending: the dispatcher still works on it
    assert _count(Notice) == notices_before               # notices (the inbox) are never deleted
    assert _count(WeChatPushEvent) == 0

    admin = as_user("demo-admin")
    listed = client.get("/api/v1/admin/notices?status=failed", headers=admin).json
    assert [n["id"] for n in listed] == [failed.id] and listed[0]["last_error"].startswith("40003")
    shown = client.get(f"/api/v1/admin/notices/{failed.id}/attempts", headers=admin).json
    assert [(a["number"], a["outcome"], a["errcode"]) for a in shown] == [(2, "failed", 40003)]
    inbox = client.get("/api/v1/inbox", headers=as_user(STAFF)).json
    assert {sent.id, failed.id, retrying.id} <= {item["id"] for item in inbox["items"]}

    # Idempotent: the same fire again, or a later one, has nothing left to delete.
    again = purge_notice_logs(later)
    assert (again.push_events, again.attempts) == (0, 0)
    # The retrying notice is sent later: its attempts become ordinary history and age out like any other.
    dispatch_due(t0 + timedelta(hours=4), 10)
    assert _staff_notice("retrying").status == "sent"
    assert purge_notice_logs(t0 + timedelta(hours=4, days=DAYS, seconds=1)).attempts == 2
    assert _attempts_of(retrying.id) == []


def _bulk(now: datetime, notices: int, attempts_each: int, status: str) -> list[int]:
    """Notices of one status with ``attempts_each`` attempts each, all claimed at ``now``."""
    uid = user_id(STAFF)
    ids = list(db.session.scalars(sa.insert(Notice).returning(Notice.id, sort_by_parameter_order=True), [{
        "user_id": uid, "school_id": 1, "subject_type": "violation", "subject_id": 1, "purpose": "violation_created",
        "template": "violation", "title": "t", "body": "b", "payload": {}, "idempotency_key": f"bulk:{status}:{i}",
        "created_at": now, "status": status, "attempts": attempts_each, "attempt_budget": attempts_each,
        "next_attempt_at": now} for i in range(notices)]))
    outcome = {NoticeStatus.SENT: AttemptOutcome.SENT, NoticeStatus.FAILED: AttemptOutcome.FAILED}.get(
        status, AttemptOutcome.RETRY)
    db.session.execute(sa.insert(NoticeAttempt), [
        {"notice_id": nid, "number": n, "claimed_at": now + timedelta(minutes=n), "outcome": outcome}
        for nid in ids for n in range(1, attempts_each + 1)])
    return ids


@pytest.fixture
def backlog(kitchen):
    """Half a year and more of bookkeeping: 120 push events and 3 × 40 notices with 3 attempts each."""
    long_ago = as_utc(utcnow()) - timedelta(days=DAYS + 60)
    for i in range(120):
        _push_event(f"bulk-{i}", long_ago + timedelta(seconds=i))
    ids = {status: _bulk(long_ago, 40, 3, status)
           for status in (NoticeStatus.SENT, NoticeStatus.FAILED, NoticeStatus.PENDING)}
    db.session.commit()
    return ids


def test_a_backlog_goes_in_bounded_batches_and_a_capped_run_is_continued(backlog):
    now = as_utc(utcnow())
    cutoff = now - timedelta(days=DAYS)
    expected = (_count(WeChatPushEvent, expired_push_events(cutoff)), _count(NoticeAttempt, expired_attempts(cutoff)))
    # sent: all 3 attempts; failed: the 2 before the latest; pending: none.
    assert expected == (120, 40 * 3 + 40 * 2)
    first = purge_notice_logs(now, batch_size=25, max_batches=3)
    assert (first.push_events, first.attempts, first.complete) == (75, 75, False)
    rest = purge_notice_logs(now, batch_size=25)
    assert rest.complete
    assert (first.push_events + rest.push_events, first.attempts + rest.attempts) == expected
    assert _count(WeChatPushEvent) == 0
    assert _count(NoticeAttempt) == 40 * 1 + 40 * 3
    failed_left = db.session.execute(
        sa.select(NoticeAttempt.notice_id, sa.func.count(), sa.func.max(NoticeAttempt.number))
        .where(NoticeAttempt.notice_id.in_(backlog[NoticeStatus.FAILED])).group_by(NoticeAttempt.notice_id)).all()
    assert sorted((count, number) for _, count, number in failed_left) == [(1, 3)] * 40
    assert _count(Notice) == 120


def test_two_runs_at_once_delete_each_row_once(app, backlog):
    now = as_utc(utcnow())
    cutoff = now - timedelta(days=DAYS)
    expected_events = _count(WeChatPushEvent, expired_push_events(cutoff))
    expected_attempts = _count(NoticeAttempt, expired_attempts(cutoff))
    db.session.commit()
    reports, errors = [], []
    start = threading.Barrier(2)

    def run() -> None:
        try:
            with app.app_context():
                start.wait(timeout=10)
                reports.append(purge_notice_logs(now, batch_size=10))
                db.session.remove()
        except Exception as exc:  # reported below: an assertion in a thread would be lost
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == [] and len(reports) == 2
    assert sum(r.push_events for r in reports) == expected_events
    assert sum(r.attempts for r in reports) == expected_attempts
    db.session.expire_all()
    assert _count(WeChatPushEvent) == 0
    assert _count(NoticeAttempt) == 40 * 1 + 40 * 3


def test_the_scheduled_job_uses_the_fire_time_and_the_setting(app, backlog):
    from workers.jobs.housekeeping import prune_notice_logs

    now = as_utc(utcnow())
    # Fired long before the rows were old: nothing to do, whatever the wall clock says.
    early = prune_notice_logs(scheduled_for=now - timedelta(days=90))
    assert (early["push_events"], early["attempts"], early["complete"]) == (0, 0, True)
    app.config["NOTICE_LOG_RETENTION_DAYS"] = str(DAYS + 90)
    assert prune_notice_logs(scheduled_for=now)["push_events"] == 0  # a longer period keeps them
    app.config["NOTICE_LOG_RETENTION_DAYS"] = str(DAYS)
    result = prune_notice_logs(scheduled_for=now)
    assert (result["push_events"], result["attempts"]) == (120, 200)


@pytest.mark.parametrize(("value", "days"), [(None, 180), ("", 180), ("30", 30), (" 365 ", 365)])
def test_retention_setting(value, days):
    assert retention_days({"NOTICE_LOG_RETENTION_DAYS": value}) == days


@pytest.mark.parametrize("value", ["0", "-5", "half a year", "1.5"])
def test_retention_setting_refuses_nonsense(value):
    with pytest.raises(ValueError, match="NOTICE_LOG_RETENTION_DAYS"):
        retention_days({"NOTICE_LOG_RETENTION_DAYS": value})
