"""The demo records `make demo` seeds for school 1: what a manager opening the phone finds, and a second run
adding nothing."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from backend.extensions import db
from backend.records.chain import verify_chain
from backend.records.demo import HISTORY_DAYS, STAFF, seed_demo_records
from backend.records.models import RecordEntry, RecordKind
from backend.risk.early_warning import compute_warnings
from backend.risk.models import RiskWarning, WarningKind
from backend.timeutil import to_shanghai, utcnow

# The kinds written for a day (the registers are written once, before the first day).
DAY_KINDS = {RecordKind.RECEIVING, RecordKind.MENU, RecordKind.SAMPLE, RecordKind.DISINFECTION,
             RecordKind.ACCOMPANIED_MEAL, RecordKind.MORNING_CHECK}


def test_the_demo_canteen_has_a_staff_register_in_every_certificate_state(demo, client, as_user) -> None:
    """Five people: three with valid certificates, one ending within 30 days, the newest hire with none."""
    school_id = demo["西湖实验小学"]
    counts = seed_demo_records(school_id)
    assert (counts["staff"], counts["health_certificate"]) == (5, 4)
    canteen_id = client.get(f"/api/v1/schools/{school_id}/canteens", headers=as_user("demo-manager-1")).json[0]["id"]
    listed = client.get(f"/api/v1/canteens/{canteen_id}/staff?active=true&limit=100",
                        headers=as_user("demo-manager-1")).json["items"]
    states = {person["name"]: (person["post"], person["certificate_status"]) for person in listed}
    assert states == {"周师傅": ("厨师长", "valid"), "吴阿姨": ("留样员", "valid"), "孙师傅": ("洗消员", "valid"),
                      "郑师傅": ("厨师", "expiring"), "林小燕": ("帮厨", "missing")}
    assert len(STAFF) == len(states)
    # Run again (make demo restarted the same day): nothing is added, the chain still verifies.
    assert seed_demo_records(school_id) == counts
    assert verify_chain(canteen_id).ok


def test_the_demo_history_writes_two_weeks_in_time_order_the_second_school_missing_a_few(demo) -> None:
    """make demo's two weeks of records: written through the services at the times a canteen writes them (the chain
    runs in time order, every record on its day or the afternoon before), the first school complete, the second
    below the completeness warning line; a second run adds nothing."""
    now = utcnow()
    counts = {school_id: seed_demo_records(school_id, history=True) for school_id in demo.values()}
    assert counts[2]["disinfection"] < counts[1]["disinfection"]  # the second school's gaps
    assert counts[2]["morning_check"] < counts[1]["morning_check"]
    for canteen_id in (1, 2):  # the demo schools' canteens
        assert verify_chain(canteen_id).ok
        entries = db.session.execute(sa.select(RecordEntry.created_at, RecordEntry.record_date, RecordEntry.kind)
                                     .where(RecordEntry.canteen_id == canteen_id)
                                     .order_by(RecordEntry.seq)).all()
        times = [created_at for created_at, _, _ in entries]
        assert times == sorted(times) and times[-1] <= now
        assert min(times) < now - timedelta(days=HISTORY_DAYS)  # registered before the first day written
        for created_at, record_date, kind in entries:
            if kind in DAY_KINDS:
                written = to_shanghai(created_at).date()
                assert record_date - timedelta(days=1) <= written <= record_date, (kind, record_date, written)
    # The completeness over the last 7 days warns of the second school only.
    compute_warnings(now)
    warned = db.session.scalars(sa.select(RiskWarning.school_id).where(
        RiskWarning.kind == WarningKind.RECORDS_COMPLETENESS, RiskWarning.resolved_at.is_(None))).all()
    assert warned == [2]
    assert {school_id: seed_demo_records(school_id, history=True) for school_id in demo.values()} == counts
