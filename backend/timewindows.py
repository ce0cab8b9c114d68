"""Weekly time windows in Asia/Shanghai: live-view windows, camera work hours and meal windows.

A window is stored as ``{"weekday": 0-6 (Monday = 0), "start": "HH:MM", "end": "HH:MM"}``; the start is
inclusive, the end exclusive. The HH:MM validator cannot say 24:00, so an end of ``23:59`` means through the
end of the day (to midnight): ``00:00–23:59`` is the whole day, and 23:59:30 is inside it.

Only the standard library and :mod:`backend.timeutil`: the detection workers use it without an application.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from backend.timeutil import SHANGHAI, to_shanghai

END_OF_DAY = "23:59"
MINUTES_PER_DAY = 24 * 60
# How far ahead an evaluation looks for the next opening (a week and a day covers every weekly window).
HORIZON_DAYS = 8


def _minute_of(value: Any) -> int:
    """Minutes since midnight of an ``HH:MM`` string; ``ValueError`` for anything else."""
    if not isinstance(value, str):
        raise ValueError(f"not an HH:MM time: {value!r}")
    hours, minutes = value.split(":")
    clock = time(int(hours), int(minutes))
    return clock.hour * 60 + clock.minute


@dataclass(frozen=True, order=True)
class WeeklyWindow:
    """One weekly window in Shanghai wall-clock minutes: ``start`` inclusive, ``end`` exclusive (1440 = midnight)."""

    weekday: int
    start: int
    end: int

    @classmethod
    def parse(cls, item: Mapping[str, Any]) -> WeeklyWindow:
        """A window from its stored form; ``ValueError`` if malformed, out of range or empty."""
        try:
            weekday = item["weekday"]
            start, end_text = _minute_of(item["start"]), item["end"]
            end = MINUTES_PER_DAY if end_text == END_OF_DAY else _minute_of(end_text)
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"not a valid window: {item!r}") from exc
        if isinstance(weekday, bool) or not isinstance(weekday, int) or not 0 <= weekday <= 6 or start >= end:
            raise ValueError(f"not a valid window: {item!r}")
        return cls(weekday, start, end)

    def on(self, day: date) -> tuple[datetime, datetime]:
        """The window's interval on ``day`` (whatever its weekday) as aware Shanghai datetimes."""
        midnight = datetime.combine(day, time(0), SHANGHAI)
        # Wall-clock arithmetic: Shanghai has no daylight saving, so minutes after midnight are exact.
        return midnight + timedelta(minutes=self.start), midnight + timedelta(minutes=self.end)

    def contains(self, at: datetime) -> bool:
        """Whether the instant ``at`` (any zone; naive means UTC) falls inside this window."""
        local = to_shanghai(at)
        if local.weekday() != self.weekday:
            return False
        minute = local.hour * 60 + local.minute + (local.second + local.microsecond / 1e6) / 60
        return self.start <= minute < self.end


def parse_windows(raw: Iterable[Any] | None, *, skip_invalid: bool = False,
                  label: str = "windows") -> tuple[WeeklyWindow, ...]:
    """Windows from the stored JSON.

    A malformed entry raises ``ValueError`` naming it (``label[index]``), or is left out with ``skip_invalid``
    (a stored window that cannot be read opens nothing).
    """
    windows = []
    for index, item in enumerate(raw or ()):
        try:
            windows.append(WeeklyWindow.parse(item))
        except ValueError as exc:
            if not skip_invalid:
                raise ValueError(f"{label}[{index}] is not a valid window: {item!r}") from exc
    return tuple(windows)


def is_open(windows: Iterable[WeeklyWindow], at: datetime) -> bool:
    """Whether the instant ``at`` falls inside one of the windows."""
    return any(window.contains(at) for window in windows)


def intervals(windows: Iterable[WeeklyWindow], first: date, days: int) -> list[tuple[datetime, datetime]]:
    """Concrete Shanghai intervals of the windows over ``days`` days from ``first``, sorted and merged."""
    windows = tuple(windows)
    spans: list[tuple[datetime, datetime]] = []
    for offset in range(days):
        day = first + timedelta(days=offset)
        spans += [window.on(day) for window in windows if window.weekday == day.weekday()]
    spans.sort()
    merged: list[tuple[datetime, datetime]] = []
    for begin, finish in spans:
        if merged and begin <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], finish))
        else:
            merged.append((begin, finish))
    return merged


@dataclass(frozen=True)
class WindowState:
    """Whether the windows are open at an instant, until when, or when they open next."""

    open: bool
    closes_at: datetime | None = None
    next_open_at: datetime | None = None


def window_state(windows: Iterable[WeeklyWindow], now: datetime) -> WindowState:
    """Evaluate the windows at ``now``: open until when (adjoining windows joined), or the next opening."""
    local = to_shanghai(now)
    for begin, finish in intervals(windows, local.date() - timedelta(days=1), HORIZON_DAYS + 1):
        if begin <= local < finish:
            return WindowState(open=True, closes_at=finish)
        if begin > local:
            return WindowState(open=False, next_open_at=begin)
    return WindowState(open=False)
