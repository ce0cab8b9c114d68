"""Opening hours in Asia/Shanghai and who may watch what."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from backend.live.policy import describe_opening
from backend.timeutil import SHANGHAI
from backend.timewindows import parse_windows
from backend.timewindows import window_state as evaluate

WEEKDAYS = [{"weekday": d, "start": s, "end": e} for d in range(5) for s, e in (("06:30", "13:30"),
                                                                              ("16:30", "19:00"))]


def window_state(stored, now):
    """The live windows as the api reads them from a canteen: malformed stored entries open nothing."""
    return evaluate(parse_windows(stored, skip_invalid=True), now)


def sh(*args):
    """A Shanghai wall-clock instant."""
    return datetime(*args, tzinfo=SHANGHAI)


def test_inside_a_window_it_is_open_until_the_window_ends():
    state = window_state(WEEKDAYS, sh(2026, 11, 23, 10, 0))  # Monday
    assert state.open is True
    assert state.closes_at == sh(2026, 11, 23, 13, 30)
    assert state.next_open_at is None


def test_windows_are_read_in_shanghai_whatever_the_given_zone():
    # 02:00 UTC is 10:00 in Shanghai: open. 14:00 UTC on Sunday is 22:00 Sunday: closed until Monday 06:30.
    assert window_state(WEEKDAYS, datetime(2026, 11, 23, 2, 0, tzinfo=UTC)).open is True
    state = window_state(WEEKDAYS, datetime(2026, 11, 29, 14, 0, tzinfo=UTC))
    assert (state.open, state.next_open_at) == (False, sh(2026, 11, 30, 6, 30))


def test_between_two_windows_the_next_opening_is_the_same_day():
    state = window_state(WEEKDAYS, sh(2026, 11, 23, 14, 0))
    assert (state.open, state.next_open_at, state.closes_at) == (False, sh(2026, 11, 23, 16, 30), None)


def test_friday_evening_opens_next_on_monday():
    state = window_state(WEEKDAYS, sh(2026, 11, 27, 19, 0))  # the window ends at 19:00 exactly: closed
    assert (state.open, state.next_open_at) == (False, sh(2026, 11, 30, 6, 30))


def test_the_start_minute_is_open_and_the_end_minute_is_not():
    assert window_state(WEEKDAYS, sh(2026, 11, 23, 6, 30)).open is True
    assert window_state(WEEKDAYS, sh(2026, 11, 23, 6, 29, 59)).open is False
    assert window_state(WEEKDAYS, sh(2026, 11, 23, 13, 29, 59)).open is True


def test_2359_runs_to_midnight_and_joins_the_next_day():
    all_week = [{"weekday": d, "start": "00:00", "end": "23:59"} for d in range(7)]
    state = window_state(all_week, sh(2026, 11, 23, 23, 59, 30))
    assert state.open is True
    assert state.closes_at >= sh(2026, 11, 30, 0, 0)  # merged across the whole horizon
    late = [{"weekday": 0, "start": "22:00", "end": "23:59"}, {"weekday": 1, "start": "00:00", "end": "01:00"}]
    assert window_state(late, sh(2026, 11, 23, 23, 0)).closes_at == sh(2026, 11, 24, 1, 0)


def test_no_windows_means_never_open():
    state = window_state([], sh(2026, 11, 23, 10, 0))
    assert (state.open, state.next_open_at, state.closes_at) == (False, None, None)


def test_malformed_stored_windows_open_nothing():
    broken = [{"weekday": 0, "start": "xx", "end": "13:00"}, {"weekday": 0, "start": "12:00", "end": "11:00"},
              "junk", {"weekday": 9, "start": "01:00", "end": "02:00"}]
    assert window_state(broken, sh(2026, 11, 23, 12, 30)).open is False


def test_opening_times_are_described_in_chinese():
    assert describe_opening(sh(2026, 11, 30, 6, 30)) == "11月30日（周一）06:30"
    assert describe_opening(datetime(2026, 11, 28, 22, 5, tzinfo=UTC)) == "11月29日（周日）06:05"


@pytest.mark.parametrize(("openid", "expected"), [
    ("demo-parent-1", ("parent", False)), ("demo-committee-1", ("committee", False)),
    ("demo-manager-1", ("manager", True)), ("demo-staff-1", ("staff", True)),
    ("demo-principal-1", ("principal", True)), ("demo-regulator", ("regulator", True)),
    ("demo-admin", ("admin", True)), ("demo-parent-2", None),
])
def test_viewers_are_classified_by_their_strongest_capacity(demo, openid, expected):
    import sqlalchemy as sa

    from backend.accounts.models import User
    from backend.extensions import db
    from backend.permissions import live_viewer, load_principal
    from backend.schools.models import School

    user = db.session.scalar(sa.select(User).where(User.openid == openid))
    viewer = live_viewer(load_principal(user), db.session.get(School, 1))
    assert (None if viewer is None else (viewer.role, viewer.privileged)) == expected
