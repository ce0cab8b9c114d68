"""Record-compliance rules raise one violation per fact, with source record_rule, and never two."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import sqlalchemy as sa

from backend.extensions import db
from backend.records.compliance_rules import run_record_rules
from backend.records.meal_windows import window_for
from backend.schools.models import Canteen
from backend.timeutil import SHANGHAI, utcnow
from backend.violations.models import Violation
from tests.records.helpers import today

# The demo's canteen 2 (school 2) serves breakfast on weekdays and keeps no morning check: the meal rules are
# tested on canteen 1 alone, which did its morning check (``morning_checked``).
CANTEEN_1 = [1]


def _violations():
    return db.session.scalars(sa.select(Violation).order_by(Violation.id)).all()


def _lunch_window():
    return window_for(db.session.get(Canteen, 1), today(), "lunch")


def test_nothing_before_the_deadlines(traced, morning_checked):
    window = _lunch_window()
    assert run_record_rules(today(), window.sample_deadline - timedelta(seconds=1), CANTEEN_1) == []
    assert _violations() == []


def test_missing_samples_and_disinfection_after_the_deadlines(traced, morning_checked):
    window = _lunch_window()
    at_sample_deadline = run_record_rules(today(), window.sample_deadline, CANTEEN_1)
    assert [(r.violation.kind, r.created) for r in at_sample_deadline] == [("sample_missing", True)]
    violation = at_sample_deadline[0].violation
    assert (violation.source, violation.school_id, violation.canteen_id, violation.status) == (
        "record_rule", 1, 1, "open")
    assert violation.details["missing_dishes"] == ["红烧肉", "米饭"]
    assert violation.details["menu_id"] == traced["menu"]["id"] and violation.details["meal"] == "lunch"
    assert violation.description == f"{today().isoformat()} 午餐未按规定留样：红烧肉、米饭"
    assert violation.idempotency_key == f"records:sample_missing:1:{today().isoformat()}:lunch"
    assert violation.occurred_at == window.sample_deadline
    later = run_record_rules(today(), window.disinfection_deadline, CANTEEN_1)
    assert [(r.violation.kind, r.created) for r in later] == [("sample_missing", False),
                                                               ("disinfection_missing", True)]
    again = run_record_rules(today(), window.disinfection_deadline + timedelta(hours=5), CANTEEN_1)
    assert [r.created for r in again] == [False, False]
    assert [v.kind for v in _violations()] == ["sample_missing", "disinfection_missing"]


def test_complete_meal_raises_nothing(manager, traced, morning_checked):
    for dish_id in traced["dishes"].values():
        manager.sample(dish_id, utcnow() - timedelta(minutes=1))
    manager.disinfection(today(), "lunch")
    assert run_record_rules(today(), _lunch_window().disinfection_deadline + timedelta(hours=1), CANTEEN_1) == []


def test_area_disinfection_does_not_count_for_tableware(manager, traced):
    manager.disinfection(today(), "lunch", target="area", area_id=1, method="ultraviolet", temperature_c=None,
                         minutes=30, item_count=None)
    raised = run_record_rules(today(), _lunch_window().disinfection_deadline)
    assert "disinfection_missing" in [r.violation.kind for r in raised]


def test_expired_certificate_in_use_is_one_violation(manager, traced):
    expired_on = today() - timedelta(days=3)
    manager.certificate(traced["supplier_id"], expired_on, kind="business_licence")
    raised = [r for r in run_record_rules(today(), utcnow()) if r.violation.kind == "certificate_expired"]
    assert [r.created for r in raised] == [True]
    violation = raised[0].violation
    assert violation.details == {"supplier_id": traced["supplier_id"], "certificate_kind": "business_licence",
                                 "valid_until": expired_on.isoformat(),
                                 "first_used_while_expired": today().isoformat()}
    assert "营业执照已于" in violation.description
    # The same expired certificate used again the next day is the same fact.
    manager.menu(today() + timedelta(days=1), "lunch", [("红烧肉", [traced["pork"]])])
    next_day = [r for r in run_record_rules(today() + timedelta(days=1), utcnow() + timedelta(days=1))
                if r.violation.kind == "certificate_expired"]
    assert [r.created for r in next_day] == [False]
    # A renewed certificate of the same kind ends the finding for later days.
    manager.certificate(traced["supplier_id"], today() + timedelta(days=365), kind="business_licence")
    assert [r for r in run_record_rules(today(), utcnow()) if r.violation.kind == "certificate_expired"] == []
    assert [v.kind for v in _violations()].count("certificate_expired") == 1


def test_unused_supplier_with_expired_certificate_is_not_a_finding(manager, traced):
    idle = manager.supplier("闲置供应商")
    manager.certificate(idle, today() - timedelta(days=30))
    assert [r for r in run_record_rules(today(), utcnow()) if r.violation.kind == "certificate_expired"] == []


def test_corrected_menu_is_judged_by_its_current_version(manager, traced):
    menu = traced["menu"]
    manager.post(f"/records/{menu['id']}/amendments", {"reason": "只供应米饭", "record": {
        "service_date": today().isoformat(), "meal": "lunch",
        "dishes": [{"name": "米饭", "ingredient_item_ids": [traced["rice"]]}]}})
    manager.sample(traced["dishes"]["米饭"], utcnow() - timedelta(minutes=1), expect=422)  # old dish id
    raised = run_record_rules(today(), _lunch_window().sample_deadline)
    assert raised[0].violation.details["missing_dishes"] == ["米饭"]


def test_check_records_command(app, traced, morning_checked):
    runner = app.test_cli_runner()
    now = utcnow()
    created = (now >= _lunch_window().sample_deadline) + (now >= _lunch_window().disinfection_deadline)
    result = runner.invoke(args=["check-records", "--date", today().isoformat(), "--canteen", "1"])
    assert result.exit_code == 0
    assert f"{today().isoformat()}: {created} new, 0 already raised" in result.output
    second = runner.invoke(args=["check-records", "--date", today().isoformat(), "--canteen", "1"])
    assert f"{today().isoformat()}: 0 new, {created} already raised" in second.output
    assert len(_violations()) == created


def test_a_meal_window_ending_2359_is_due_at_midnight(app):
    # The same rule as live windows and work hours: 23:59 means through the end of the day.
    canteen = Canteen(school_id=1, name="夜宵食堂", meal_windows=[
        {"weekday": 0, "meal": "dinner", "start": "21:00", "end": "23:59"}])
    monday = date(2026, 11, 23)
    window = window_for(canteen, monday, "dinner")
    assert window.scheduled and window.start == datetime(2026, 11, 23, 21, 0, tzinfo=SHANGHAI)
    assert window.sample_deadline == datetime(2026, 11, 24, 0, 0, tzinfo=SHANGHAI)
    assert window.disinfection_deadline == datetime(2026, 11, 24, 2, 0, tzinfo=SHANGHAI)
    assert not window_for(canteen, monday + timedelta(days=1), "dinner").scheduled
