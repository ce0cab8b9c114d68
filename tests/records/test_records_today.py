"""The 总览's 今日台账完整率 (``records_today`` of /stats): canteens of the scope with none of today's required
records missing, by the day view's rules; fresh after a record is written; a constant number of statements.

Canteen 1 did today's morning check (``morning_checked``) where a test is about its meals; the other canteens
did not, and owe it from their first meal window on, like any other record."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest

from backend.extensions import db
from backend.schools.models import Canteen
from backend.timeutil import utcnow
from tests.records.helpers import at, today
from tests.violations.test_overview import _statements_once


def _lunch_only_windows() -> list[dict]:
    """Lunch today only, read when a test runs (its clock is the records tests' fixed one, not the import's)."""
    return [{"weekday": today().weekday(), "meal": "lunch", "start": "11:30", "end": "13:00"}]


@pytest.fixture
def app_config(app_config):
    """No principal cache: every request authenticates, so the statements counted are the same each time."""
    return {**app_config, "AUTH_CACHE_SECONDS": "0"}


@pytest.fixture
def late(monkeypatch):
    """/stats read at 23:00 today (Asia/Shanghai): lunch's sample and disinfection deadlines have passed."""
    from backend.violations import routes

    monkeypatch.setattr(routes, "utcnow", lambda: at(today(), "23:00"))


def _lunch_only(traced_canteen: int = 1) -> int:
    """Canteen 1 serves only the traced lunch (no windows), school 2's canteen and a second canteen of school 1
    are scheduled for lunch and record nothing. Returns the second canteen's id."""
    db.session.get(Canteen, traced_canteen).meal_windows = []
    db.session.get(Canteen, 2).meal_windows = _lunch_only_windows()
    second = Canteen(school_id=1, name="二食堂", meal_windows=_lunch_only_windows())
    db.session.add(second)
    db.session.commit()
    return second.id


def _today(client, headers, query: str) -> dict:
    response = client.get(f"/api/v1/stats?{query}", headers=headers)
    assert response.status_code == 200, response.json
    return response.json["records_today"]


def test_complete_incomplete_and_other_school(client, as_user, manager, traced, late, morning_checked):
    _lunch_only()
    principal, other, regulator = as_user("demo-principal-1"), as_user("demo-principal-2"), as_user("demo-regulator")
    day = today().isoformat()
    # Canteen 1's lunch is not sampled nor disinfected, the second canteen has no menu for its lunch.
    assert _today(client, principal, "school_id=1") == {"date": day, "complete": 0, "total": 2, "percent": 0}
    manager.sample(traced["dishes"]["红烧肉"], utcnow() - timedelta(minutes=1))
    manager.sample(traced["dishes"]["米饭"], utcnow() - timedelta(minutes=1))
    assert _today(client, principal, "school_id=1")["complete"] == 0  # the tableware is still not disinfected
    manager.disinfection(today(), "lunch")
    # The next call shows the new record although the cached violation figures are reused.
    assert _today(client, principal, "school_id=1") == {"date": day, "complete": 1, "total": 2, "percent": 50}
    # School 2's canteen counts only in its own and the county's scope.
    assert _today(client, other, "school_id=2") == {"date": day, "complete": 0, "total": 1, "percent": 0}
    assert _today(client, regulator, "region_id=3") == {"date": day, "complete": 1, "total": 3, "percent": 33}


def test_export_carries_the_records_figures_of_stats(client, as_user, manager, traced, late, morning_checked):
    """The 总览's Excel export (概况) shows 今日台账完整率 as /stats counts it, for a school and a region."""
    from openpyxl import load_workbook

    _lunch_only()
    manager.disinfection(today(), "lunch")
    manager.sample(traced["dishes"]["红烧肉"], utcnow() - timedelta(minutes=1))
    manager.sample(traced["dishes"]["米饭"], utcnow() - timedelta(minutes=1))
    day = today().isoformat()
    for who, query in (("demo-principal-1", "school_id=1"), ("demo-regulator", "region_id=3")):
        headers = as_user(who)
        figure = _today(client, headers, query)
        assert 0 < figure["complete"] < figure["total"]  # a figure that tells complete from incomplete
        response = client.get(f"/api/v1/stats/export?{query}", headers=headers)
        assert response.status_code == 200
        summary = {row[0]: row[1] for row in
                   load_workbook(io.BytesIO(response.data))["概况"].iter_rows(min_row=2, values_only=True)}
        assert summary[f"今日台账完整率（{day}）"] == f"{figure['percent']}%"
        assert summary["台账齐全食堂 / 食堂"] == f"{figure['complete']} / {figure['total']}"


def test_pending_records_are_not_missing(client, as_user, manager, traced, monkeypatch, morning_checked):
    """Before lunch starts nothing is owed yet; during lunch only the menu (due at the start) is."""
    from backend.violations import routes

    _lunch_only()
    principal = as_user("demo-principal-1")
    for hhmm, complete in (("11:00", 2), ("12:00", 1)):
        monkeypatch.setattr(routes, "utcnow", lambda hhmm=hhmm: at(today(), hhmm))
        figure = _today(client, principal, "school_id=1")
        assert (figure["complete"], figure["total"]) == (complete, 2), hhmm


def test_statements_do_not_grow_with_canteens_and_records(client, as_user, manager, traced, late):
    _lunch_only()
    admin = as_user("demo-admin")
    paths = ["/api/v1/stats?region_id=3", "/api/v1/stats?school_id=1"]
    for path in paths:  # warm caches (principal, first connection, the violation figures)
        client.get(path, headers=admin)
    small = [_statements_once(client, p, admin) for p in paths]
    manager.menu(today(), "dinner", [("米饭", [traced["rice"]]), ("猪肉饭", [traced["pork"]])])
    manager.sample(traced["dishes"]["红烧肉"], utcnow() - timedelta(minutes=1))
    manager.disinfection(today(), "lunch")
    for number in range(4):
        db.session.add(Canteen(school_id=1 + number % 2, name=f"新食堂{number}", meal_windows=_lunch_only_windows()))
    db.session.commit()
    for path in paths:  # the new canteens changed the schools' version: build the figures again
        client.get(path, headers=admin)
    assert [_statements_once(client, p, admin) for p in paths] == small
    assert _today(client, admin, "region_id=3")["total"] == 7


def test_a_deadline_passing_shows_within_a_minute(client, as_user, traced, monkeypatch, morning_checked):
    """The figure is reused while no record changes, for at most RECORDS_CLOCK_SECONDS: lunch's sample comes
    due at 13:00, so the answer read at 12:59:30 stands until 13:00:30 and the next read after shows it missing."""
    from backend.violations import routes
    from backend.violations.stats_cache import RECORDS_CLOCK_SECONDS

    _lunch_only()
    clock = {"now": at(today(), "12:59") + timedelta(seconds=30)}
    monkeypatch.setattr(routes, "utcnow", lambda: clock["now"])
    principal = as_user("demo-principal-1")
    during = _today(client, principal, "school_id=1")
    # Canteen 1's menu is there (lunch is on, its sample not due yet); the second canteen owes a menu: 1 of 2.
    assert (during["complete"], during["total"]) == (1, 2)
    clock["now"] += timedelta(seconds=RECORDS_CLOCK_SECONDS - 10)  # 13:00:20: due, but within the minute
    assert _today(client, principal, "school_id=1") == during
    clock["now"] += timedelta(seconds=20)  # 13:00:40: rebuilt
    assert _today(client, principal, "school_id=1")["complete"] == 0
