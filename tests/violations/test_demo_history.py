"""The demo's four weeks of past problems (``flask seed-demo --history``): each went the way its row says, at the
times it would have, through the services; the figures a regulator opens then have something to show."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import sqlalchemy as sa

from backend.accounts.models import User
from backend.extensions import db
from backend.notices.models import Notice
from backend.notices.violation_notices import REGULATOR_LEVEL
from backend.timeutil import utcnow
from backend.violations.demo_history import HISTORY, history_of, seed_demo_history
from backend.violations.models import (
    AlarmReview,
    AlarmVerdict,
    Rectification,
    Resolution,
    Verdict,
    Violation,
    ViolationEvent,
    ViolationStatus,
)


def _seed(demo: dict[str, int]) -> list[int]:
    return [seed_demo_history(school_id, index) for index, school_id in enumerate(demo.values(), start=1)]


def test_each_past_problem_went_the_way_its_row_says(app, demo):
    now = utcnow()
    assert _seed(demo) == [len(HISTORY), len(history_of(2))]
    assert _seed(demo) == [0, 0]  # a second run writes nothing
    violations = db.session.scalars(sa.select(Violation).order_by(Violation.id)).all()
    assert len(violations) == len(HISTORY) + len(history_of(2))
    rows = history_of(1) + history_of(2)
    for problem, violation in zip(rows, violations, strict=True):
        assert violation.kind == problem.kind
        # Registered when found, within four weeks, every step in the past and in order.
        assert timedelta(0) <= violation.created_at - violation.occurred_at <= timedelta(minutes=2)
        assert now - timedelta(days=28) < violation.occurred_at < now - timedelta(days=1)
        events = db.session.scalars(sa.select(ViolationEvent).where(ViolationEvent.violation_id == violation.id)
                                    .order_by(ViolationEvent.id)).all()
        times = [event.at for event in events]
        assert times == sorted(times) and times[0] == violation.created_at and times[-1] < now
        answers = db.session.scalars(sa.select(Rectification).where(Rectification.violation_id == violation.id)
                                     .order_by(Rectification.id)).all()
        review = db.session.scalar(sa.select(AlarmReview).where(AlarmReview.violation_id == violation.id))
        assert (review is not None) == (violation.source == "ai")
        outcome = problem.outcome
        if outcome in ("fixed", "late", "rejected", "escalated"):
            assert (violation.status, violation.resolution) == (ViolationStatus.CLOSED, Resolution.RECTIFIED)
            assert answers[-1].verdict == Verdict.ACCEPTED and answers[-1].photos
            assert (answers[-1].submitted_at > violation.due_at) == (outcome == "late")
        if outcome == "rejected":
            assert [a.verdict for a in answers] == [Verdict.REJECTED, Verdict.ACCEPTED]
        if outcome == "escalated":
            assert violation.escalation_level >= REGULATOR_LEVEL
            assert answers[-1].reviewed_by_id == db.session.scalar(sa.select(User.id).where(
                User.openid == "demo-regulator"))
        if outcome == "false_alarm":
            assert (violation.resolution, review.verdict) == (Resolution.DISMISSED, AlarmVerdict.FALSE_POSITIVE)
        if outcome in ("taken", "waiting"):
            assert violation.closed_at is None and violation.due_at < now and not answers
            assert violation.status == (ViolationStatus.RECTIFYING if outcome == "taken" else ViolationStatus.OPEN)
    # The inbox holds the open problems' latest news only; the rest was read within the hour back then.
    unread = db.session.scalars(sa.select(Notice.subject_id).where(Notice.read_at.is_(None))).all()
    open_ids = {v.id for v in violations if v.status != ViolationStatus.CLOSED}
    assert unread and set(unread) == open_ids
    read = db.session.scalars(sa.select(Notice).where(Notice.read_at.is_not(None))).all()
    assert read and all(timedelta(0) < n.read_at - n.created_at <= timedelta(hours=1) for n in read)


def test_the_regulators_figures_show_the_history(client, as_user, demo):
    _seed(demo)
    body = client.get("/api/v1/stats?region_id=3", headers=as_user("demo-regulator")).json
    outcomes = Counter(p.outcome for p in history_of(1) + history_of(2))
    assert body["found"] == sum(outcomes.values())
    assert body["rectified"] == outcomes["fixed"] + outcomes["late"] + outcomes["rejected"] + outcomes["escalated"]
    assert (body["overdue"], body["dismissed"]) == (outcomes["taken"] + outcomes["waiting"], outcomes["false_alarm"])
    assert body["median_hours_to_rectify"] > 0
    # Both schools ranked, the first with more problems than the second; problems in at least four ISO weeks.
    schools = {row["name"]: row["found"] for row in body["by_region"]}
    assert schools["西湖实验小学"] > schools["文三路中学"] > 0
    assert len([week for week in body["weekly"] if week["found"]]) >= 4
