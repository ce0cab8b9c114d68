"""Kill a real dispatcher process at random moments, 50 times, while 1,000 notices are due.

The fake WeChat server runs in its own process and counts one-time subscriptions as WeChat does (each
recipient has one). Afterwards every notice is delivered exactly once: a send WeChat accepted whose result the
killed process never recorded (its attempt left ``interrupted``) is probed by the next dispatcher, and
WeChat's 43101 (the subscription is used) settles it as sent instead of a second message.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa

from backend.extensions import db
from backend.notices.models import AttemptOutcome, Notice, NoticeAttempt, SubscriptionQuota
from backend.notices.outbox import NoticeDraft, enqueue
from backend.notices.templates import DEV_TEMPLATE_IDS
from backend.timeutil import utcnow
from backend.violations.services import raise_violation
from tests.fakes.wechat_server import FakeWeChatControl
from tests.violations.conftest import template_kinds

ROOT = Path(__file__).resolve().parents[2]
NOTICES = 1000
KILLS = 50
LEASE_SECONDS = 1.5
WORKERS = 4
WECHAT_LATENCY_SECONDS = 0.05

pytestmark = pytest.mark.slow


def _start(args: list[str]) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, *args], cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True, bufsize=1)


@pytest.fixture
def fake_process():
    """The WeChat fake in a process of its own."""
    process = _start(["-m", "tests.fakes.wechat_server", "--port", "0", "--appid", "wx_test_appid",
                      "--secret", "test_wechat_secret"])
    line = process.stdout.readline().strip()
    assert line.startswith("LISTENING "), line
    control = FakeWeChatControl(line.split(" ", 1)[1])
    control.set_options(require_known_openid=False, allow_unregistered_templates=False, subscription_quota=True)
    control.set_templates(template_kinds(), replace=True)
    # WeChat's own latency: without it the dispatcher drains the outbox in the first few kills, and the later
    # ones would test nothing. A kill during the wait is the duplicate window of a real send.
    control.inject_delay("subscribe_send", WECHAT_LATENCY_SECONDS, times=None)
    yield control
    process.terminate()
    process.wait(10)


OPENIDS = [f"kill-{i:04d}" for i in range(NOTICES)]


def _seed(now) -> list[int]:
    """1,000 recipients, each with one subscription, each with one notice due now."""
    violation = raise_violation(canteen_id=1, kind="camera_offline", source="ai", idempotency_key="kill-test",
                                occurred_at=now).violation
    users = db.session.execute(sa.insert(sa.table("user_account", sa.column("id"), sa.column("openid"),
                                                  sa.column("is_admin"), sa.column("created_at")))
                               .returning(sa.column("id")),
                               [{"openid": openid, "is_admin": False, "created_at": now}
                                for openid in OPENIDS]).scalars().all()
    db.session.execute(sa.insert(SubscriptionQuota), [
        {"user_id": uid, "template_id": DEV_TEMPLATE_IDS["violation"], "remaining": 1, "accepted_total": 1,
         "used_total": 0, "updated_at": now} for uid in users])
    draft = NoticeDraft(subject_type="violation", subject_id=violation.id, school_id=1, purpose="violation_created",
                        template="violation", title="发现问题：摄像头离线", body="测试",
                        payload={"school": "西湖实验小学", "problem": "摄像头离线", "location": "学生食堂",
                                 "occurred_at": now.isoformat(), "due_at": violation.due_at.isoformat()},
                        page=f"pages/violations/detail/index?id={violation.id}")
    enqueue(draft, users, "kill-test", now)
    db.session.commit()
    return list(db.session.scalars(sa.select(Notice.id).where(Notice.user_id.in_(users))))


def _gone(pid: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.005)
    raise AssertionError(f"process {pid} did not go away")


def _pending(ids: list[int]) -> int:
    with db.engine.connect() as conn:
        return conn.scalar(sa.select(sa.func.count()).select_from(Notice.__table__)
                           .where(Notice.__table__.c.id.in_(ids), Notice.__table__.c.status != "sent"))


def test_killing_the_dispatcher_50_times_loses_nothing(app, db_url, demo, fake_process, tmp_path):
    notice_ids = _seed(utcnow())
    for openid in OPENIDS:  # the same one tap per recipient, as WeChat saw it
        fake_process.grant_subscription(openid, DEV_TEMPLATE_IDS["violation"])
    db.session.remove()
    zygote = _start(["-m", "tests.notices.dispatcher_zygote", "--database-url", db_url, "--wechat-base",
                     fake_process.base_url, "--instance", str(tmp_path / "zygote"), "--lease", str(LEASE_SECONDS),
                     "--batch", "20", "--workers", str(WORKERS)])
    try:
        assert zygote.stdout.readline().strip() == "READY"
        rng = random.Random(20250320)
        pending_at_kill = []
        started = time.monotonic()
        for _ in range(KILLS):
            zygote.stdin.write("fork\n")
            pid = int(zygote.stdout.readline())
            time.sleep(rng.uniform(0.0, 0.4))  # a random moment: claiming, sending or recording
            os.kill(pid, signal.SIGKILL)
            _gone(pid)
            pending_at_kill.append(_pending(notice_ids))
        # One last dispatcher, left alone: it picks up what the killed ones had claimed once their leases end.
        kills_done = time.monotonic()
        zygote.stdin.write("fork\n")
        pid = int(zygote.stdout.readline())
        deadline = time.monotonic() + 120
        while _pending(notice_ids) and time.monotonic() < deadline:
            time.sleep(0.1)
        drained = time.monotonic()
        os.kill(pid, signal.SIGTERM)
        _gone(pid)
    finally:
        zygote.stdin.write("quit\n")
        zygote.stdin.flush()
        zygote.wait(10)

    statuses = Counter(db.session.scalars(sa.select(Notice.status).where(Notice.id.in_(notice_ids))))
    assert statuses == {"sent": NOTICES}
    delivered = Counter(int(parse_qs(urlsplit(m["page"]).query)["nid"][0]) for m in fake_process.messages())
    assert set(delivered) == set(notice_ids)  # every notice reached WeChat
    duplicates = sum(count - 1 for count in delivered.values())
    attempts = db.session.execute(sa.select(NoticeAttempt.notice_id, NoticeAttempt.outcome)
                                  .where(NoticeAttempt.notice_id.in_(notice_ids))).all()
    sent_attempts = Counter(nid for nid, outcome in attempts if outcome == AttemptOutcome.SENT)
    probed = Counter(nid for nid, outcome in attempts if outcome == AttemptOutcome.QUOTA_SPENT)
    interrupted = Counter(nid for nid, outcome in attempts if outcome == AttemptOutcome.INTERRUPTED)
    in_flight = [nid for nid, outcome in attempts if outcome == AttemptOutcome.IN_FLIGHT]
    print(f"\nkill test: {KILLS} kills, {NOTICES} notices, {sum(delivered.values())} messages received by WeChat, "
          f"{duplicates} duplicates, {sum(interrupted.values())} interrupted attempts, "
          f"{sum(probed.values())} confirmed by 43101; "
          f"notices not yet sent at each kill: {pending_at_kill}; kills took {kills_done - started:.1f} s, "
          f"the last dispatcher {drained - kills_done:.1f} s")
    # Each notice settled by one answer: its delivery, or the 43101 of a probe after an interrupted attempt.
    settled_by = sent_attempts + probed
    assert all(count == 1 for count in settled_by.values()) and len(settled_by) == NOTICES
    assert all(interrupted[nid] for nid in probed)
    assert in_flight == []
    # One subscription each: every resend after a kill was a probe, so no recipient got a message twice.
    assert duplicates == 0
    assert db.session.scalar(sa.select(sa.func.sum(Notice.possible_duplicates))
                             .where(Notice.id.in_(notice_ids))) == 0
    # The kills really landed while work was due (not all after the work was done).
    assert sum(1 for p in pending_at_kill if p > 0) >= KILLS // 2
