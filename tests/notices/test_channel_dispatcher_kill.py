"""Kill a real channel dispatcher process (SIGKILL) at random moments while SMS and robot deliveries are due.

Afterwards every delivery is sent (nothing lost), no attempt is left in flight, and every message the fakes
received more than once is counted in its delivery's ``possible_duplicates`` (no uncounted duplicate).
"""

from __future__ import annotations

import os
import random
import signal
import time
from collections import Counter

import pytest
import sqlalchemy as sa

from backend.extensions import db
from backend.notices.channel_dispatcher import dispatch_channels
from backend.notices.models import AttemptOutcome, ChannelAttempt, ChannelDelivery
from backend.timeutil import utcnow
from backend.violations.services import raise_violation
from tests.notices import channel_fixtures
from tests.notices.channel_fixtures import COUNTY_KEY, SCHOOL_KEY, add_robot, choose

app_config, sms_fake, robot_fake = channel_fixtures.app_config, channel_fixtures.sms_fake, channel_fixtures.robot_fake

PEOPLE = ["demo-manager-1", "demo-staff-1", "demo-committee-1", "demo-regulator", "demo-regulator-2"]
PROBLEMS = 8  # × (5 SMS + 2 robots) = 56 deliveries; each robot gets 8, well under its 20 a minute
KILLS = 20
LEASE_SECONDS = 1.0
LATENCY_SECONDS = 0.03

pytestmark = pytest.mark.slow


def _child(app) -> None:
    """The production call in a loop, in a forked process of its own."""
    try:
        with app.app_context():
            db.engine.dispose(close=False)  # never share the parent's pooled connections
            while True:
                if not dispatch_channels(limit=4, lease_seconds=LEASE_SECONDS).claimed:
                    time.sleep(0.02)
    finally:
        os._exit(0)


def _fork(app) -> int:
    pid = os.fork()
    if pid == 0:
        _child(app)
    return pid


def _pending() -> int:
    with db.engine.connect() as conn:
        return conn.scalar(sa.select(sa.func.count()).select_from(ChannelDelivery.__table__)
                           .where(ChannelDelivery.__table__.c.status != "sent"))


def test_killing_the_channel_dispatcher_loses_nothing_and_counts_every_duplicate(app, kitchen, sms_fake,
                                                                                  robot_fake):
    sms_fake.daily_limit = 10**6
    phones = {choose(openid): openid for openid in PEOPLE}
    keys = {add_robot(SCHOOL_KEY, school_id=1): SCHOOL_KEY, add_robot(COUNTY_KEY, region_id=3): COUNTY_KEY}
    for n in range(PROBLEMS):
        raise_violation(canteen_id=1, kind="rodent", source="record_rule", idempotency_key=f"kill-{n}",
                        occurred_at=utcnow(), title=f"发现鼠患{n:02d}号")
    total = db.session.scalar(sa.select(sa.func.count()).select_from(ChannelDelivery))
    assert total == PROBLEMS * (len(PEOPLE) + 2)
    sms_fake.inject_delay(LATENCY_SECONDS, times=None)  # a kill during the wait is a real send's window
    robot_fake.inject_delay(LATENCY_SECONDS, times=None)
    db.session.remove()

    rng = random.Random(20261206)
    pending_at_kill = []
    for _ in range(KILLS):
        pid = _fork(app)
        time.sleep(rng.uniform(0.0, 0.25))  # claiming, sending or recording
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        pending_at_kill.append(_pending())
    deadline = time.monotonic() + 60
    while _pending() and time.monotonic() < deadline:  # what the killed ones held comes back as leases end
        if not dispatch_channels(limit=20, lease_seconds=LEASE_SECONDS).claimed:
            time.sleep(0.1)

    rows = db.session.scalars(sa.select(ChannelDelivery)).all()
    assert Counter(d.status for d in rows) == {"sent": total}
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ChannelAttempt)
                             .where(ChannelAttempt.outcome == AttemptOutcome.IN_FLIGHT)) == 0
    sms_received = Counter(m["session"] for m in sms_fake.messages)
    robot_received = Counter((m["key"], m["content"].split("\n")[0]) for m in robot_fake.messages)
    duplicates = uncounted = 0
    for delivery in rows:
        if delivery.channel == "sms":
            received = sms_received[f"d{delivery.id}"]
            assert phones[delivery.phone]  # to the number the person chose
        else:
            received = robot_received[(keys[delivery.robot_id], delivery.content["markdown"].split("\n")[0])]
        assert received >= 1  # nothing lost
        duplicates += received - 1
        uncounted += max(0, received - 1 - delivery.possible_duplicates)
    interrupted = db.session.scalar(sa.select(sa.func.count()).select_from(ChannelAttempt)
                                    .where(ChannelAttempt.outcome == AttemptOutcome.INTERRUPTED))
    print(f"\nchannel kill test: {KILLS} kills, {total} deliveries, {duplicates} duplicates received, "
          f"{sum(d.possible_duplicates for d in rows)} counted, {interrupted} interrupted attempts; "
          f"pending at each kill: {pending_at_kill}")
    assert uncounted == 0  # every duplicate is counted
    # Sends are sequential and marked started just before they leave: one kill adds one possible duplicate at most.
    assert sum(d.possible_duplicates for d in rows) <= KILLS
    assert sum(1 for p in pending_at_kill if p > 0) >= KILLS // 2  # the kills landed while work was due
