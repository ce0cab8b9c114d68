"""The one weekly time-window type (live windows, work hours, meal windows), checked on random windows and instants."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from backend.timeutil import SHANGHAI
from backend.timewindows import WeeklyWindow, is_open, parse_windows, window_state


def _hhmm(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


@st.composite
def stored_window(draw: st.DrawFn) -> dict:
    """A window as the schools API stores it: HH:MM strings, start before end, 23:59 at most."""
    start = draw(st.integers(0, 23 * 60 + 58))
    end = draw(st.integers(start + 1, 23 * 60 + 59))
    return {"weekday": draw(st.integers(0, 6)), "start": _hhmm(start), "end": _hhmm(end)}


instants = st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2035, 12, 31),
                        timezones=st.just(UTC))


def _expected_open(stored: list[dict], at: datetime) -> bool:
    """The rule spelled out on wall-clock seconds: start inclusive, end exclusive, 23:59 through midnight."""
    local = at.astimezone(SHANGHAI)
    second = local.hour * 3600 + local.minute * 60 + local.second + local.microsecond / 1e6
    for window in stored:
        start = int(window["start"][:2]) * 3600 + int(window["start"][3:]) * 60
        end = 86400 if window["end"] == "23:59" else int(window["end"][:2]) * 3600 + int(window["end"][3:]) * 60
        if window["weekday"] == local.weekday() and start <= second < end:
            return True
    return False


@settings(max_examples=300, deadline=None)
@given(st.lists(stored_window(), max_size=6), instants)
def test_open_and_state_agree_with_the_rule(stored: list[dict], at: datetime) -> None:
    windows = parse_windows(stored)
    expected = _expected_open(stored, at)
    assert is_open(windows, at) is expected
    state = window_state(windows, at)
    assert state.open is expected
    if state.open:
        # Open until a moment when nothing is open any more, and open everywhere in between.
        assert state.closes_at > at and not is_open(windows, state.closes_at)
        assert is_open(windows, state.closes_at - timedelta(microseconds=1))
        assert state.next_open_at is None
    elif stored:
        # Closed: the next opening is open, within a week, and nothing opens before it.
        assert state.next_open_at is not None and at < state.next_open_at <= at + timedelta(days=7)
        assert is_open(windows, state.next_open_at)
        assert not is_open(windows, state.next_open_at - timedelta(microseconds=1))
    else:
        assert state == window_state((), at)


@settings(max_examples=200, deadline=None)
@given(stored_window(), instants)
def test_a_window_ending_2359_covers_the_last_minute_of_its_day(stored: dict, at: datetime) -> None:
    stored = {**stored, "end": "23:59"}
    window = WeeklyWindow.parse(stored)
    local = at.astimezone(SHANGHAI)
    last_minute = local.replace(hour=23, minute=59, second=30, microsecond=0)
    assert window.contains(last_minute) is (local.weekday() == stored["weekday"])
    begin, finish = window.on(local.date())
    assert finish == datetime.combine(local.date() + timedelta(days=1), datetime.min.time(), SHANGHAI)
    assert begin < finish


def test_2359_is_open_at_235930_in_every_reader() -> None:
    all_day = parse_windows([{"weekday": d, "start": "00:00", "end": "23:59"} for d in range(7)])
    at = datetime(2026, 11, 23, 23, 59, 30, tzinfo=SHANGHAI)
    assert is_open(all_day, at)
    assert window_state(all_day, at).open
