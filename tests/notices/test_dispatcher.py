"""The dispatcher against the WeChat fake over HTTP: each injected error ends in the right state, with its
attempts recorded and no unbounded retry."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa

from backend.extensions import db
from backend.integrations.wechat import build_gateway
from backend.notices.dispatcher import dispatch_due
from backend.notices.lease import backoff_seconds
from backend.notices.models import Notice, NoticeAttempt, SubscriptionQuota
from backend.notices.outbox import MAX_ATTEMPTS
from backend.notices.templates import DEV_TEMPLATE_IDS
from backend.schools.models import Camera
from backend.timeutil import utcnow
from backend.violations.services import raise_violation
from tests.fakes.wechat_server import keyword_value_valid
from tests.violations.conftest import grant, user_id

STAFF = "demo-staff-1"


def _violation(key: str = "evt-1", camera_id: int | None = 1):
    return raise_violation(canteen_id=1, kind="camera_offline", source="ai", idempotency_key=key,
                           occurred_at=utcnow(), camera_id=camera_id).violation


def _staff_notice() -> Notice:
    db.session.expire_all()
    return db.session.scalar(sa.select(Notice).where(Notice.user_id == user_id(STAFF)))


def _attempts(notice_id: int) -> list[tuple[int, str, int | None]]:
    return [(a.number, a.outcome, a.errcode) for a in db.session.scalars(
        sa.select(NoticeAttempt).where(NoticeAttempt.notice_id == notice_id).order_by(NoticeAttempt.id))]


def _remaining() -> int:
    return db.session.scalar(sa.select(SubscriptionQuota.remaining).where(
        SubscriptionQuota.user_id == user_id(STAFF), SubscriptionQuota.template_id == DEV_TEMPLATE_IDS["violation"]))


def test_success_records_msgid_attempt_and_spends_one_quota(kitchen):
    fake = kitchen["fake"]
    grant(STAFF, "violation", times=2)
    violation = _violation()
    now = utcnow()
    report = dispatch_due(now, 10)
    # camera_offline is not published: staff (quota) and manager (none); the committee is not told.
    assert (report.claimed, report.sent, report.inbox_only) == (2, 1, 1)
    notice = _staff_notice()
    [message] = fake.messages(touser=STAFF)
    assert (notice.status, notice.msgid) == ("sent", str(message["msgid"]))
    assert message["template_id"] == DEV_TEMPLATE_IDS["violation"]
    assert message["page"] == f"pages/violations/detail/index?id={violation.id}&nid={notice.id}"
    assert message["data"]["thing1"]["value"] == "西湖实验小学"
    assert message["data"]["thing2"]["value"] == "摄像头离线"
    assert message["data"]["thing3"]["value"] == "学生食堂·热菜烹饪区摄像头"
    assert _attempts(notice.id) == [(1, "sent", 0)]
    assert _remaining() == 1
    assert dispatch_due(now + timedelta(hours=1), 10).claimed == 0  # settled rows are never sent again


def test_token_rejected_once_is_refreshed_and_retried_in_the_same_attempt(kitchen):
    fake = kitchen["fake"]
    grant(STAFF, "violation")
    _violation()
    dispatch_due(utcnow(), 10)  # a first send fetches and stores a token
    grant(STAFF, "violation")
    _violation("evt-2")
    fake.inject("subscribe_send", 40001, times=1)
    fetches = fake.token_fetch_count()
    dispatch_due(utcnow(), 10)
    notice = db.session.scalars(sa.select(Notice).where(Notice.user_id == user_id(STAFF))
                                .order_by(Notice.id.desc())).first()
    assert notice.status == "sent"
    assert _attempts(notice.id) == [(1, "sent", 0)]
    assert fake.token_fetch_count() == fetches + 1
    assert [c["errcode"] for c in fake.calls("subscribe_send")][-2:] == [40001, 0]


def test_45009_backs_off_then_succeeds(kitchen):
    fake = kitchen["fake"]
    grant(STAFF, "violation")
    _violation()
    fake.inject("subscribe_send", 45009, times=1)
    now = utcnow()
    report = dispatch_due(now, 10)
    assert report.retried == 1
    notice = _staff_notice()
    delay = backoff_seconds(1, notice.id)
    assert 30 <= delay < 36
    assert (notice.status, notice.next_attempt_at, notice.attempts) == ("pending", now + timedelta(seconds=delay), 1)
    assert notice.last_error.startswith("45009")
    assert dispatch_due(now + timedelta(seconds=delay - 1), 10).claimed == 0
    assert dispatch_due(now + timedelta(seconds=delay), 10).sent == 1
    assert _attempts(notice.id) == [(1, "retry", 45009), (2, "sent", 0)]
    assert _remaining() == 0


@pytest.mark.parametrize("errcode", [-1, 45009])
def test_a_persistent_error_gives_up_after_the_budget_and_shows_to_admins(client, as_user, kitchen, errcode):
    fake = kitchen["fake"]
    grant(STAFF, "violation")
    _violation()
    fake.inject("subscribe_send", errcode, times=None)
    now = utcnow()
    for _ in range(MAX_ATTEMPTS + 3):
        dispatch_due(now, 10)
        now += timedelta(hours=2)  # past any backoff
    notice = _staff_notice()
    assert notice.status == "failed"
    assert _attempts(notice.id) == ([(n, "retry", errcode) for n in range(1, MAX_ATTEMPTS)]
                                    + [(MAX_ATTEMPTS, "failed", errcode)])
    assert fake.call_count("subscribe_send") == MAX_ATTEMPTS
    delays = [backoff_seconds(n, notice.id) for n in range(1, MAX_ATTEMPTS)]
    assert [d // 30 for d in delays] == [1, 2, 4, 8]  # doubling (jitter under 20 %)

    admin = as_user("demo-admin")
    listed = client.get("/api/v1/admin/notices?status=failed", headers=admin).json
    assert [n["id"] for n in listed] == [notice.id]
    assert listed[0]["last_error"].startswith(str(errcode))
    # Named as the school knows the recipient (the console's 通知投递 shows whom it failed to reach).
    assert (listed[0]["recipient_name"], listed[0]["recipient_role_label"], listed[0]["school_name"]) == (
        "西湖实验小学学校食品安全管理员", "学校食品安全管理员", "西湖实验小学")
    attempts = client.get(f"/api/v1/admin/notices/{notice.id}/attempts", headers=admin).json
    assert len(attempts) == MAX_ATTEMPTS and attempts[-1]["outcome"] == "failed"
    assert client.get("/api/v1/admin/notices", headers=as_user("demo-principal-1")).status_code == 403
    # The notice is still in the recipient's inbox.
    inbox = client.get("/api/v1/inbox", headers=as_user(STAFF)).json
    assert [i["id"] for i in inbox["items"]] == [notice.id] and inbox["items"][0]["delivery"] == "failed"

    fake.clear_injections()
    response = client.post(f"/api/v1/admin/notices/{notice.id}/retry", headers=admin)
    assert response.status_code == 200 and response.json["attempt_budget"] == 2 * MAX_ATTEMPTS
    assert (response.json["status"], response.json["recipient_name"]) == ("pending", "西湖实验小学学校食品安全管理员")
    assert dispatch_due(utcnow(), 10).sent == 1
    assert client.post(f"/api/v1/admin/notices/{notice.id}/retry", headers=admin).status_code == 409


def test_a_timeout_is_an_unknown_outcome_that_backs_off(app, kitchen):
    """WeChat may have carried out a request it answered too late: not a plain retry (test_dispatcher_lost_answers)."""
    fake = kitchen["fake"]
    grant(STAFF, "violation")
    _violation()
    gateway = build_gateway({**app.config, "WECHAT_TIMEOUT_SECONDS": "0.3"}, db.engine)
    gateway.access_token()  # fetch the token before the delay is injected
    fake.inject_delay("subscribe_send", 1.5, times=1)
    now = utcnow()
    report = dispatch_due(now, 10, gateway=gateway)
    assert (report.unknown, report.retried) == (1, 0)
    notice = _staff_notice()
    assert notice.status == "pending" and _attempts(notice.id) == [(1, "unknown", None)]
    assert notice.next_attempt_at == now + timedelta(seconds=backoff_seconds(1, notice.id))
    assert notice.last_error.startswith("unknown: ReadTimeout")


def test_quota_spent_43101_keeps_the_notice_in_the_inbox_only(kitchen):
    fake = kitchen["fake"]
    grant(STAFF, "violation", times=3)
    _violation()
    fake.refuse_messages(STAFF, DEV_TEMPLATE_IDS["violation"])
    dispatch_due(utcnow(), 10)
    notice = _staff_notice()
    assert (notice.status, notice.last_error[:5]) == ("inbox_only", "43101")
    assert _attempts(notice.id) == [(1, "quota_spent", 43101)]
    assert _remaining() == 0  # WeChat says the user has none left, whatever we counted
    _violation("evt-2")
    calls = fake.call_count("subscribe_send")
    dispatch_due(utcnow(), 10)
    assert fake.call_count("subscribe_send") == calls  # no quota: not even tried


def test_an_invalid_argument_47003_fails_at_once(kitchen):
    fake = kitchen["fake"]
    grant(STAFF, "violation")
    _violation()
    fake.inject("subscribe_send", 47003, times=1)
    now = utcnow()
    report = dispatch_due(now, 10)
    assert report.failed == 1
    notice = _staff_notice()
    assert notice.status == "failed" and _attempts(notice.id) == [(1, "failed", 47003)]
    assert dispatch_due(now + timedelta(days=1), 10).claimed == 0
    assert _remaining() == 1  # nothing was delivered


def test_a_50_character_camera_name_reaches_wechat_as_a_valid_thing(kitchen):
    fake = kitchen["fake"]
    camera = db.session.get(Camera, 1)
    camera.name = "东区一号楼二层学生食堂热菜烹饪区靠近北侧窗户的第三台高清防水网络摄像头设备编号A07号备用线路测试用"
    assert len(camera.name) == 50
    db.session.commit()
    grant(STAFF, "violation")
    _violation()
    assert dispatch_due(utcnow(), 10).sent == 1
    [message] = fake.messages(touser=STAFF)
    location = message["data"]["thing3"]["value"]
    assert location == "学生食堂·东区一号楼二层学生食堂热菜烹…"
    assert len(location) == 20 and keyword_value_valid("thing", location)
    assert fake.calls("subscribe_send")[-1]["errcode"] == 0


def test_no_template_configured_means_inbox_only_without_a_call(app, kitchen):
    fake = kitchen["fake"]
    grant(STAFF, "violation")
    _violation()
    app.config["WECHAT_SUBSCRIBE_TEMPLATES"] = "progress=dev-tmpl-rectification-progress"
    report = dispatch_due(utcnow(), 10)
    assert (report.inbox_only, report.sent) == (2, 0)
    assert _staff_notice().last_error == "template_not_configured"
    assert fake.call_count("subscribe_send") == 0


def test_an_expired_lease_is_reclaimed_and_the_orphaned_attempt_marked_interrupted(app, kitchen):
    """A dispatcher that died after claiming: the next run, after the lease, sends and records the truth."""
    from backend.notices import dispatcher

    fake = kitchen["fake"]
    grant(STAFF, "violation")
    _violation()
    now = utcnow()
    with db.engine.begin() as conn:  # what a dispatcher killed right after its claim leaves behind
        claim = dispatcher._claim(conn, now, 10, "dead-dispatcher", now + timedelta(seconds=60),
                                  DEV_TEMPLATE_IDS)
    assert len(claim.jobs) == 1
    assert dispatch_due(now + timedelta(seconds=30), 10).claimed == 0  # still leased
    report = dispatch_due(now + timedelta(seconds=61), 10)
    assert (report.claimed, report.sent, report.interrupted) == (1, 1, 1)
    notice = _staff_notice()
    assert _attempts(notice.id) == [(1, "interrupted", None), (2, "sent", 0)]
    assert len(fake.messages(touser=STAFF)) == 1


def test_concurrent_dispatchers_send_each_notice_once(app, kitchen):
    fake = kitchen["fake"]
    grant(STAFF, "violation", times=40)
    for i in range(40):
        _violation(f"evt-{i}")
    db.session.remove()
    barrier = threading.Barrier(3)

    def run():
        with app.app_context():
            barrier.wait()
            try:
                while dispatch_due(utcnow(), 7, workers=2).claimed:
                    pass
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    sent = fake.messages(touser=STAFF)
    assert len(sent) == 40
    assert len({m["page"] for m in sent}) == 40
    statuses = db.session.scalars(sa.select(Notice.status).where(Notice.user_id == user_id(STAFF))).all()
    assert sorted(statuses) == ["sent"] * 40


def test_every_transaction_locks_violations_in_id_order_and_the_figures_version_once_last(app, kitchen):
    """The lock order that keeps concurrent dispatchers from deadlocking on PostgreSQL: in each transaction
    the violations move in id order and the figures' version row is written once, after all of them (bumping
    it after each violation deadlocked two dispatchers: one held the version row, the other the next
    violation)."""
    grant(STAFF, "violation", times=3)
    for i in range(3):
        _violation(f"evt-{i}")
    db.session.remove()
    transactions: list[list[str]] = [[]]

    def seen(conn, cursor, statement, parameters, context, executemany):
        head = " ".join(statement.split()[:3]).lower()
        if head.startswith("update violation set"):
            transactions[-1].append("violation")
        elif "stats_version" in statement.split("(")[0].lower():
            transactions[-1].append("version")

    def committed(conn):
        transactions.append([])

    engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", seen)
    sa.event.listen(engine, "commit", committed)
    try:
        report = dispatch_due(utcnow(), 20)
    finally:
        sa.event.remove(engine, "before_cursor_execute", seen)
        sa.event.remove(engine, "commit", committed)
    assert report.sent == 3
    written = [t for t in transactions if t]
    # The claim settles the manager's inbox-only notices: one transaction moves all three violations.
    assert max(t.count("violation") for t in written) == 3
    for statements in written:
        assert statements.count("version") <= 1
        if "version" in statements:
            assert statements[-1] == "version"
