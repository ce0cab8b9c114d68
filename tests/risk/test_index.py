"""The food-safety index (食安指数) on a fixed clock: the documented formula component by component, the
inputs aggregated from violations, reviews, findings and daily facts, reproducibility, the incremental and
resumable nightly run, the ranking, and who sees what (parents only their child's school)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
import time_machine

from backend.extensions import db
from backend.monitoring.services import record_health_change
from backend.regulators.models import InspectionFinding, InspectionRound
from backend.risk import index as risk_index
from backend.risk.index_formula import CAPS, INPUTS, RATINGS, components, criteria, rating, score
from backend.risk.models import RiskDailyFact, RiskIndex, RiskIndexRun
from backend.timeutil import shanghai_midnight
from backend.violations.models import AlarmReview, Violation, ViolationEvent
from backend.violations.services import raise_violation
from tests.risk.helpers import COUNTY, user_id
from workers.infra.job_schedule import job_by_name

# Wednesday 2 December 2026, 02:30 in Shanghai: the nightly run after the first of the month.
NIGHT = datetime(2026, 12, 1, 18, 30, tzinfo=UTC)
NOVEMBER, OCTOBER, DECEMBER = date(2026, 11, 1), date(2026, 10, 1), date(2026, 12, 1)
MID_NOV = datetime(2026, 11, 10, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
MID_OCT = datetime(2026, 10, 14, 2, 0, tzinfo=UTC)


def zero(**values: int) -> dict[str, int]:
    return {**dict.fromkeys(INPUTS, 0), **values}


def test_each_component_changes_the_index_the_documented_way():
    assert score(zero()) == 100.0 and rating(100.0, 0) == "A"
    assert score(zero(class1=1)) == 94.0 and rating(94.0, 1) == "B"  # A needs a month without class 1
    assert score(zero(class2=2, class3=1)) == 95.5
    assert score(zero(class1=10)) == 100 - CAPS["violations"]  # capped at 35
    assert score(zero(due=4, late=1)) == 95.0  # 20 × 1/4
    assert score(zero(canteen_days=20, canteen_days_complete=18)) == 98.0  # 20 × (1 − 0.9)
    assert score(zero(online_seconds=95, known_seconds=100)) == 97.5  # 0.5 per point below 100 %
    assert score(zero(online_seconds=0, known_seconds=100)) == 100 - CAPS["uptime"]
    assert score(zero(alarms_escalated=1, alarms_confirmed=5, alarms_false=9)) == 97.5  # only escalations deduct
    assert score(zero(findings_minor=1, findings_major=1, findings_critical=1)) == 91.0
    assert score(zero(findings_critical=9)) == 100 - CAPS["inspections"]
    # A component without data deducts nothing and says so.
    parts = components(zero())
    assert (parts["timeliness"]["figures"]["rate"], parts["records"]["figures"]["rate"],
            parts["uptime"]["figures"]["rate"]) == (None, None, None)
    everything = zero(class1=9, due=1, late=1, canteen_days=1, known_seconds=1, alarms_escalated=9,
                      findings_critical=9)
    assert score(everything) == 0.0 and sum(CAPS.values()) == 100
    assert [rating(s, 0) for s in (90.0, 89.9, 75.0, 74.9)] == ["A", "B", "B", "C"]
    assert [r["rating"] for r in criteria()["ratings"]] == [r["rating"] for r in RATINGS] == ["A", "B", "C"]


def _violation(key: str, kind: str, at: datetime, source: str = "ai", canteen: int = 1) -> Violation:
    return raise_violation(canteen_id=canteen, kind=kind, source=source, idempotency_key=key, occurred_at=at).violation


def _review(violation: Violation, verdict: str) -> None:
    db.session.add(AlarmReview(violation_id=violation.id, verdict=verdict, reviewer_id=user_id("demo-regulator"),
                               reviewed_at=violation.occurred_at + timedelta(hours=1)))


def _close(violation: Violation, at: datetime, resolution: str = "rectified") -> None:
    violation.status, violation.closed_at, violation.resolution = "closed", at, resolution
    db.session.add(ViolationEvent(violation_id=violation.id, at=at, action="close", from_status="submitted",
                                  to_status="closed"))


def _facts(school_id: int, month: date, complete_days: int, online: int) -> None:
    for n in range(10):  # ten school days: one canteen each, 1000 known camera seconds a day
        db.session.add(RiskDailyFact(school_id=school_id, day=month + timedelta(days=n), canteens=1,
                                     canteens_complete=int(n < complete_days), online_seconds=online,
                                     known_seconds=1000, computed_at=datetime.combine(
                                         month + timedelta(days=n + 1), datetime.min.time(), UTC)))


@pytest.fixture
def november(app, demo):
    """School 1's November: a rodent (class 1, fixed on time), an AI mask alarm confirmed (class 3, closed late),
    one pending (not counted), one false positive (neither counted nor due), a dismissed smoking problem, an
    inspection finding (major) with its violation (counted as the finding), ten days of facts."""
    with time_machine.travel(MID_NOV, tick=False):
        rodent = _violation("rodent", "rodent", MID_NOV, source="report")
        _close(rodent, rodent.due_at - timedelta(hours=1))
        confirmed = _violation("mask-1", "no_mask", MID_NOV)
        _review(confirmed, "confirmed")
        _close(confirmed, confirmed.due_at + timedelta(hours=1))
        _violation("mask-2", "no_mask", MID_NOV + timedelta(days=1))
        false = _violation("mask-3", "no_mask", MID_NOV + timedelta(days=2))
        _review(false, "false_positive")
        _close(false, false.occurred_at + timedelta(hours=2), "dismissed")
        smoking = _violation("smoking", "smoking", MID_NOV, source="report")
        _close(smoking, MID_NOV + timedelta(hours=1), "dismissed")
        found = _violation("finding", "inspection_finding", MID_NOV, source="inspection")
        round_ = InspectionRound(region_id=COUNTY, title="十一月检查", planned_at=MID_NOV,
                                 created_by_id=user_id("demo-regulator"))
        db.session.add(round_)
        db.session.flush()
        db.session.add(InspectionFinding(round_id=round_.id, canteen_id=1, inspector_id=user_id("demo-regulator"),
                                         kind="hygiene", severity="major", description="地面积水",
                                         violation_id=found.id, created_at=MID_NOV))
        _facts(1, NOVEMBER, complete_days=8, online=900)
        _facts(2, NOVEMBER, complete_days=10, online=1000)
        db.session.commit()


def _row(school_id: int, month: date) -> RiskIndex:
    db.session.expire_all()
    return db.session.scalar(sa.select(RiskIndex).where(RiskIndex.school_id == school_id, RiskIndex.month == month))


def test_the_months_inputs_come_from_each_source_and_recompute_to_the_same_number(november):
    with time_machine.travel(NIGHT, tick=False):
        result = risk_index.refresh(NIGHT)
    assert result["months_whole"] == ["2026-11-01", "2026-12-01"]
    row = _row(1, NOVEMBER)
    inputs = {key: getattr(row, key) for key in INPUTS}
    # Found in November: the rodent (class 1) and the confirmed mask alarm (class 3); the pending and false ones,
    # the dismissed smoking and the inspection's own violation are not counted as problems.
    assert (inputs["class1"], inputs["class2"], inputs["class3"]) == (1, 0, 1)
    assert (inputs["alarms_confirmed"], inputs["alarms_escalated"], inputs["alarms_false"]) == (1, 0, 1)
    # Due in November (the mask alarms are due 48 h later, the rodent 12 h): the rodent on time, the confirmed
    # alarm late, the pending one and the inspection's violation still owed; dismissed and false ones not due.
    assert (inputs["due"], inputs["late"]) == (4, 3)
    assert (inputs["canteen_days"], inputs["canteen_days_complete"]) == (10, 8)
    assert (inputs["online_seconds"], inputs["known_seconds"]) == (9000, 10000)
    assert (inputs["findings_minor"], inputs["findings_major"], inputs["findings_critical"]) == (0, 1, 0)
    # 100 − (6 + 0.5) − 20 × 3/4 − 20 × 0.2 − 0.5 × 10 − 3 = 66.5: rating C.
    assert (row.score, row.rating) == (66.5, "C")
    assert row.as_of == datetime(2026, 11, 30, 16, 0, tzinfo=UTC)  # the end of November in Shanghai
    # Reproducible: the stored inputs give the stored score, and the sources give the same inputs again.
    assert score(inputs) == row.score
    assert risk_index.month_inputs({NOVEMBER: row.as_of}, [1])[(1, NOVEMBER)] == inputs
    school2 = _row(2, NOVEMBER)
    assert (school2.score, school2.rating) == (100.0, "A")
    # Running again changes nothing.
    with time_machine.travel(NIGHT + timedelta(minutes=5), tick=False):
        risk_index.refresh(NIGHT + timedelta(minutes=5))
    assert (_row(1, NOVEMBER).score, _row(1, NOVEMBER).as_of) == (66.5, row.as_of)


def test_the_incremental_run_recomputes_only_what_changed(november):
    with time_machine.travel(MID_OCT, tick=False):
        october = _violation("oct-rodent", "rodent", MID_OCT, source="report", canteen=2)
        db.session.commit()
    with time_machine.travel(NIGHT, tick=False):
        risk_index.refresh(NIGHT, backfill_months=2)
    assert _row(2, OCTOBER).class1 == 1 and _row(2, OCTOBER).late == 1
    first = {(r.school_id, r.month): r.computed_at for r in db.session.scalars(sa.select(RiskIndex))}
    assert set(first) == {(s, m) for s in (1, 2) for m in (OCTOBER, NOVEMBER, DECEMBER)}
    later = NIGHT + timedelta(days=1)
    with time_machine.travel(later, tick=False):
        # The October rodent is dismissed after all: only school 2's October (and the running month) change.
        _close(db.session.get(Violation, october.id), later, "dismissed")
        db.session.commit()
        result = risk_index.refresh(later, backfill_months=2)
    assert result["months_whole"] == ["2026-12-01"] and result["changed_months"] == 1
    again = {(r.school_id, r.month): r.computed_at for r in db.session.scalars(sa.select(RiskIndex))}
    changed = {key for key in again if again[key] != first[key]}
    assert changed == {(2, OCTOBER), (1, DECEMBER), (2, DECEMBER)}
    assert (_row(2, OCTOBER).class1, _row(2, OCTOBER).due, _row(2, OCTOBER).score) == (0, 0, 100.0)


def test_a_killed_run_is_done_again_and_ends_with_the_same_rows(november, monkeypatch):
    original = risk_index.month_inputs
    calls = {"n": 0}

    def dying(months, schools):
        calls["n"] += 1
        if calls["n"] == 2:
            raise SystemExit("killed")
        return original(months, schools)

    monkeypatch.setattr(risk_index, "month_inputs", dying)
    with time_machine.travel(NIGHT, tick=False), pytest.raises(SystemExit):
        risk_index.refresh(NIGHT)
    db.session.rollback()
    assert db.session.scalar(sa.select(RiskIndexRun.finished_at)) is None
    monkeypatch.setattr(risk_index, "month_inputs", original)
    with time_machine.travel(NIGHT + timedelta(minutes=1), tick=False):
        risk_index.refresh(NIGHT + timedelta(minutes=1))
    assert (_row(1, NOVEMBER).score, _row(2, NOVEMBER).score) == (66.5, 100.0)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(RiskIndex)) == 4


def test_the_nightly_job_fills_the_finished_days_once(app, demo):
    assert job_by_name("risk.index").func == "workers.jobs.platform:compute_risk_index"
    from workers.jobs.platform import compute_risk_index

    # Camera 1 (school 1) comes online at 06:00 on Monday 30 November and goes offline at 18:00.
    monday = shanghai_midnight(date(2026, 11, 30))
    record_health_change(1, monday + timedelta(hours=6), "unknown", "ok")
    record_health_change(1, monday + timedelta(hours=18), "ok", "offline")
    db.session.commit()
    with time_machine.travel(NIGHT, tick=False):
        first = compute_risk_index(scheduled_for=NIGHT)
        second = compute_risk_index(scheduled_for=NIGHT)
    assert first["fact_days"] == risk_index.FACT_DAYS and second["fact_days"] == 0
    # Monday 30 November: each demo school's one canteen owed its records and kept none; camera 1 was known for
    # 18 hours, online for 12 of them; school 2's cameras have no history.
    facts = db.session.scalars(sa.select(RiskDailyFact).where(RiskDailyFact.day == date(2026, 11, 30))
                               .order_by(RiskDailyFact.school_id)).all()
    assert [(f.school_id, f.canteens, f.canteens_complete, f.online_seconds, f.known_seconds) for f in facts] == [
        (1, 1, 0, 12 * 3600, 18 * 3600), (2, 1, 0, 0, 0)]
    # November as the 总览 counts days: the nine weekend days owe nothing (complete), the 21 school days are not;
    # the camera was offline a third of its known time (and 1 December it stayed offline).
    row = _row(1, NOVEMBER)
    assert (row.canteen_days, row.canteen_days_complete, row.online_seconds) == (30, 9, 12 * 3600)
    assert row.score == 100 - 14 - 10  # records −20 × 21/30; uptime 0.5 × 33.3 points, capped at 10


URL = "/api/v1"


def test_who_sees_the_index(november, client, as_user):
    with time_machine.travel(NIGHT, tick=False):
        risk_index.refresh(NIGHT)
        regulator, principal, parent = (as_user(o) for o in ("demo-regulator", "demo-principal-1",
                                                               "demo-parent-1"))
        ranking = client.get(f"{URL}/regions/{COUNTY}/risk/index?month=2026-11", headers=regulator)
        assert ranking.status_code == 200
        assert [(s["rank"], s["school_id"], s["score"], s["rating"]) for s in ranking.json["schools"]] == [
            (1, 2, 100.0, "A"), (2, 1, 66.5, "C")]
        assert ranking.json["ratings"] == {"A": 1, "B": 0, "C": 1}
        assert ranking.json["criteria"]["ratings"][0]["min_score"] == 90.0
        detail = client.get(f"{URL}/schools/2/risk/index?month=2026-11", headers=regulator).json
        assert detail["region_rank"] == {"rank": 1, "of": 2}
        own = client.get(f"{URL}/schools/1/risk/index?month=2026-11", headers=principal)
        assert own.status_code == 200
        parts = {c["name"]: c for c in own.json["index"]["components"]}
        assert (parts["violations"]["deduction"], parts["timeliness"]["deduction"], parts["records"]["deduction"],
                parts["uptime"]["deduction"], parts["inspections"]["deduction"]) == (6.5, 15.0, 4.0, 5.0, 3.0)
        assert parts["timeliness"]["figures"] == {"due": 4, "late": 3, "rate": 75.0}
        assert client.get(f"{URL}/schools/2/risk/index", headers=principal).status_code == 403
        assert client.get(f"{URL}/regions/{COUNTY}/risk/index", headers=principal).status_code == 403
        # Parents: their child's school's index, rating and components, nothing of another school.
        public = client.get(f"{URL}/schools/1/risk/public", headers=parent)
        assert public.status_code == 200
        shown = public.json["index"]
        # The newest finished month (December has barely begun).
        assert (shown["month"], shown["score"], shown["rating"]) == ("2026-11", 66.5, "C")
        assert all(set(c) == {"name", "label", "cap", "deduction"} for c in shown["components"])
        for url in (f"{URL}/schools/2/risk/public", f"{URL}/schools/1/risk/index",
                    f"{URL}/schools/2/risk/index", f"{URL}/regions/{COUNTY}/risk/index"):
            assert client.get(url, headers=parent).status_code == 403, url
        bad = client.get(f"{URL}/regions/{COUNTY}/risk/index?month=2026-13", headers=regulator)
        assert bad.status_code == 422
