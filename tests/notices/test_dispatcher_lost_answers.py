"""A WeChat answer that comes too late or never: the dispatcher over real HTTP to the fake, whose one-time
subscriptions are counted as WeChat counts them (a delivery uses one; none left answers 43101).

Each message reaches its user once; a notice whose first answer was lost ends ``sent`` when WeChat's 43101
proves the earlier attempt used the subscription, ``unconfirmed`` when only a resend that might duplicate could
tell; a request that never left is retried; crash resends that may duplicate are counted for admins.
"""

from __future__ import annotations

import json
import socket
from collections import Counter
from datetime import timedelta

import pytest
import sqlalchemy as sa

from backend.extensions import db
from backend.integrations.wechat import build_gateway
from backend.integrations.wechat_app import wechat_gateway
from backend.notices import dispatcher
from backend.notices.dispatcher import dispatch_due
from backend.notices.models import Notice, NoticeAttempt, SubscriptionQuota
from backend.notices.outbox import NoticeDraft, enqueue
from backend.notices.templates import DEV_TEMPLATE_IDS
from backend.timeutil import utcnow
from tests.notices.test_push import _plain_url
from tests.violations.conftest import grant, user_id

TEMPLATE = DEV_TEMPLATE_IDS["violation"]
STAFF = "demo-staff-1"
# Eight recipients of the demo seed, each with one subscription of their own.
RECIPIENTS = [f"demo-{role}-{index}" for role in ("parent", "committee", "manager", "staff") for index in (1, 2)]
# The client's timeout covers connecting too: under a loaded CI machine a 0.3 s budget sometimes expired before
# the fake accepted the connection (a send provably not carried out: a plain retry, not the lost answer this
# file is about), so the budget leaves room to connect and the late answer comes well after it.
CLIENT_TIMEOUT = "1.5"
LATE_BY_SECONDS = 4.0  # the fake answers this long after carrying a send out: well after the client gave up
LATER = timedelta(hours=2)  # past any backoff


@pytest.fixture
def fake(kitchen):
    """The fake counting one-time subscriptions, with a token already fetched (so only sends are at stake)."""
    kitchen["fake"].set_options(subscription_quota=True)
    wechat_gateway().access_token()
    return kitchen["fake"]


def _notify(openids: list[str], key: str = "lost-answers") -> list[int]:
    """One notice per recipient (violation template), due now."""
    now = utcnow()
    draft = NoticeDraft(subject_type="violation", subject_id=1, school_id=1, purpose="test", template="violation",
                        title="发现问题：摄像头离线", body="测试",
                        payload={"school": "西湖实验小学", "problem": "摄像头离线", "location": "学生食堂",
                                 "occurred_at": now.isoformat(), "due_at": now.isoformat()},
                        page="pages/violations/detail/index?id=1")
    users = [user_id(openid) for openid in openids]
    enqueue(draft, users, key, now)
    db.session.commit()
    return list(db.session.scalars(sa.select(Notice.id).where(Notice.idempotency_key.like(f"{key}:%"))
                                   .order_by(Notice.id)))


def _notices(ids: list[int]) -> list[Notice]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(Notice).where(Notice.id.in_(ids)).order_by(Notice.id)))


def _attempts(notice_id: int) -> list[tuple[int, str, int | None]]:
    return [(a.number, a.outcome, a.errcode) for a in db.session.scalars(
        sa.select(NoticeAttempt).where(NoticeAttempt.notice_id == notice_id).order_by(NoticeAttempt.id))]


def _remaining(openid: str) -> int:
    return db.session.scalar(sa.select(SubscriptionQuota.remaining).where(
        SubscriptionQuota.user_id == user_id(openid), SubscriptionQuota.template_id == TEMPLATE))


def _impatient_gateway(app, **settings):
    """A gateway that gives up on WeChat's answer after 0.3 s (the app's own waits 5 s)."""
    return build_gateway({**app.config, "WECHAT_TIMEOUT_SECONDS": CLIENT_TIMEOUT, **settings}, db.engine)


def test_late_answers_deliver_each_message_once_and_the_notices_end_sent(app, fake):
    for openid in RECIPIENTS:
        grant(openid, "violation", fake=fake)
    ids = _notify(RECIPIENTS)
    fake.inject_slow_reply("subscribe_send", LATE_BY_SECONDS, times=len(RECIPIENTS))
    now = utcnow()
    report = dispatch_due(now, 50, gateway=_impatient_gateway(app))
    assert (report.claimed, report.unknown, report.sent, report.retried) == (len(RECIPIENTS), len(RECIPIENTS), 0, 0)
    assert [c["reply"] for c in fake.calls("subscribe_send")] == ["late"] * len(RECIPIENTS)
    for notice in _notices(ids):
        assert notice.status == "pending" and _attempts(notice.id) == [(1, "unknown", None)]
    assert dispatch_due(now + timedelta(seconds=10), 50).claimed == 0  # backing off, not resent at once

    report = dispatch_due(now + LATER, 50)
    assert (report.sent, report.unknown, report.unconfirmed) == (len(RECIPIENTS), 0, 0)
    # The probes found each subscription used: WeChat refused a second copy, so each user has exactly one.
    delivered = Counter(m["touser"] for m in fake.messages())
    assert delivered == {openid: 1 for openid in RECIPIENTS}
    assert [c["errcode"] for c in fake.calls("subscribe_send")][len(RECIPIENTS):] == [43101] * len(RECIPIENTS)
    for notice in _notices(ids):
        assert (notice.status, notice.possible_duplicates) == ("sent", 0)
        assert notice.last_error.startswith("delivered_earlier: 43101")
        assert _attempts(notice.id) == [(1, "unknown", None), (2, "quota_spent", 43101)]
    assert [_remaining(openid) for openid in RECIPIENTS] == [0] * len(RECIPIENTS)
    assert dispatch_due(now + 2 * LATER, 50).claimed == 0


def test_a_lost_answer_that_delivered_nothing_is_delivered_once_by_the_probe(app, fake):
    grant(STAFF, "violation", fake=fake)
    [notice_id] = _notify([STAFF])
    fake.inject("subscribe_send", -1, times=1)  # "system busy": provably not carried out, a plain retry
    now = utcnow()
    assert dispatch_due(now, 10).retried == 1
    fake.inject_http_status("subscribe_send", 502, times=1)  # a bare 502: nobody can say what happened behind it
    assert dispatch_due(now + LATER, 10).unknown == 1
    assert dispatch_due(now + 2 * LATER, 10).sent == 1  # the probe: the subscription was still there
    assert len(fake.messages(touser=STAFF)) == 1
    assert _attempts(notice_id) == [(1, "retry", -1), (2, "unknown", None), (3, "sent", 0)]
    [notice] = _notices([notice_id])
    assert (notice.status, notice.possible_duplicates, notice.last_error) == ("sent", 0, None)


def test_a_lost_answer_with_several_subscriptions_left_is_not_sent_again(app, client, as_user, fake):
    grant(STAFF, "violation", times=3, fake=fake)
    [notice_id] = _notify([STAFF])
    fake.inject_dropped_reply("subscribe_send", times=1)  # carried out, then the connection closed
    now = utcnow()
    assert dispatch_due(now, 10).unknown == 1
    report = dispatch_due(now + LATER, 10)
    # A resend would be delivered (two subscriptions are left) and might be the second copy: not sent.
    assert (report.claimed, report.unconfirmed, report.sent) == (1, 1, 0)
    assert fake.call_count("subscribe_send") == 1 and len(fake.messages(touser=STAFF)) == 1
    [notice] = _notices([notice_id])
    assert (notice.status, notice.possible_duplicates) == ("unconfirmed", 0)
    assert _remaining(STAFF) == 2  # counted as delivered, as it was
    assert fake.subscriptions(STAFF) == {TEMPLATE: 2}
    admin = as_user("demo-admin")
    listed = client.get("/api/v1/admin/notices?status=unconfirmed", headers=admin).json
    assert [(n["id"], n["status"], n["possible_duplicates"]) for n in listed] == [(notice_id, "unconfirmed", 0)]
    inbox = client.get("/api/v1/inbox", headers=as_user(STAFF)).json
    assert [(i["id"], i["delivery"]) for i in inbox["items"]] == [(notice_id, "unconfirmed")]
    assert dispatch_due(now + 2 * LATER, 10).claimed == 0


@pytest.mark.parametrize("failure", ["connection_refused", "tls_handshake"])
def test_a_request_that_never_left_is_retried_and_delivered_once(app, fake, failure):
    grant(STAFF, "violation", fake=fake)
    [notice_id] = _notify([STAFF])
    if failure == "connection_refused":
        with socket.socket() as closed:  # a port nothing listens on once this socket is closed
            closed.bind(("127.0.0.1", 0))
            base = f"http://127.0.0.1:{closed.getsockname()[1]}/"
    else:  # TLS to the fake's plain HTTP port: the handshake fails before a byte of the request is written
        base = fake.base_url.replace("http://", "https://")
    now = utcnow()
    report = dispatch_due(now, 10, gateway=_impatient_gateway(app, WECHAT_API_BASE=base))
    assert (report.retried, report.unknown) == (1, 0)
    assert _attempts(notice_id) == [(1, "retry", -1)]
    assert fake.call_count("subscribe_send") == 0
    assert dispatch_due(now + LATER, 10).sent == 1
    assert len(fake.messages(touser=STAFF)) == 1
    [notice] = _notices([notice_id])
    assert (notice.status, notice.possible_duplicates) == ("sent", 0)
    assert _attempts(notice_id) == [(1, "retry", -1), (2, "sent", 0)]


@pytest.mark.parametrize("reported_by", ["mini_program", "push"])
def test_43101_on_a_fresh_notice_keeps_it_in_the_inbox_and_a_new_subscription_re_arms(client, as_user, fake,
                                                                                      reported_by):
    # We counted a tap, ten minutes ago, that WeChat never saw (say the pop-up's reported result was forged).
    grant(STAFF, "violation", at=utcnow() - timedelta(minutes=10))
    [first] = _notify([STAFF], "first")
    report = dispatch_due(utcnow(), 10)
    assert (report.inbox_only, report.sent, report.unconfirmed) == (1, 0, 0)
    [notice] = _notices([first])
    assert (notice.status, notice.last_error[:5]) == ("inbox_only", "43101")
    assert _attempts(first) == [(1, "quota_spent", 43101)]
    assert _remaining(STAFF) == 0
    # The user accepts the pop-up again: WeChat counts it, and the mini-program or WeChat's push reports it.
    event = fake.grant_subscription(STAFF, TEMPLATE)
    if reported_by == "mini_program":
        response = client.post("/api/v1/me/subscriptions", json={"results": {TEMPLATE: "accept"}},
                               headers=as_user(STAFF))
    else:
        response = client.post(_plain_url(), data=json.dumps(event), content_type="application/json")
    assert response.status_code == 200 and _remaining(STAFF) == 1
    [second] = _notify([STAFF], "second")
    assert dispatch_due(utcnow(), 10).sent == 1
    assert [m["page"].rsplit("nid=", 1)[1] for m in fake.messages(touser=STAFF)] == [str(second)]


def _crash_after_claiming(now):
    """What a dispatcher killed right after its claim leaves behind (its lease runs 60 s)."""
    with db.engine.begin() as conn:
        claim = dispatcher._claim(conn, now, 10, "dead-dispatcher", now + timedelta(seconds=60), DEV_TEMPLATE_IDS)
    return claim


def test_a_crash_after_wechat_delivered_is_probed_not_duplicated(app, fake):
    grant(STAFF, "violation", fake=fake)
    [notice_id] = _notify([STAFF])
    now = utcnow()
    [job] = _crash_after_claiming(now).jobs
    # The killed dispatcher's send had reached WeChat; its answer died with it.
    wechat_gateway().send_subscribe_message(job.openid, job.template_id, job.data, page=job.page)
    report = dispatch_due(now + timedelta(seconds=61), 10)
    assert (report.interrupted, report.sent) == (1, 1)
    assert len(fake.messages(touser=STAFF)) == 1
    [notice] = _notices([notice_id])
    assert (notice.status, notice.possible_duplicates) == ("sent", 0)
    assert _attempts(notice_id) == [(1, "interrupted", None), (2, "quota_spent", 43101)]


def test_a_crash_with_several_subscriptions_left_resends_and_counts_a_possible_duplicate(app, client, as_user,
                                                                                          fake):
    grant(STAFF, "violation", times=2, fake=fake)
    [notice_id] = _notify([STAFF])
    now = utcnow()
    _crash_after_claiming(now)
    report = dispatch_due(now + timedelta(seconds=61), 10)
    # Nothing says the killed dispatcher ever sent it: it is sent (losing it is the likelier harm) and counted.
    assert (report.interrupted, report.sent) == (1, 1)
    assert len(fake.messages(touser=STAFF)) == 1
    [notice] = _notices([notice_id])
    assert (notice.status, notice.possible_duplicates) == ("sent", 1)
    assert _attempts(notice_id) == [(1, "interrupted", None), (2, "sent", 0)]

    listed = client.get("/api/v1/admin/notices?status=sent", headers=as_user("demo-admin"))
    assert listed.status_code == 200
    assert [(n["id"], n["possible_duplicates"]) for n in listed.json] == [(notice_id, 1)]
    # Only admins see deliveries.
    for openid in ("demo-principal-1", "demo-staff-1", "demo-regulator", "demo-parent-1"):
        denied = client.get("/api/v1/admin/notices?status=sent", headers=as_user(openid))
        assert denied.status_code == 403 and denied.json["error"]["code"]
    assert client.get("/api/v1/admin/notices?status=sent").status_code == 401


def test_an_unanswered_probe_ends_unconfirmed_when_the_budget_is_spent(app, fake):
    grant(STAFF, "violation", fake=fake)
    [notice_id] = _notify([STAFF])
    fake.inject_dropped_reply("subscribe_send", times=1)
    now = utcnow()
    assert dispatch_due(now, 10).unknown == 1
    fake.inject("subscribe_send", 45009, times=None)  # then WeChat refuses every probe: it never tells
    for _ in range(6):
        now += LATER
        dispatch_due(now, 10)
    [notice] = _notices([notice_id])
    assert notice.status == "unconfirmed" and notice.attempts == notice.attempt_budget
    assert [outcome for _, outcome, _ in _attempts(notice_id)] == ["unknown"] + ["retry"] * (notice.attempts - 1)
    assert len(fake.messages(touser=STAFF)) == 1
