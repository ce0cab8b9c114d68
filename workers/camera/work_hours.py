"""Work-hour windows of a camera, read in Asia/Shanghai.

A window is ``{"weekday": 0-6 (Monday=0), "start": "HH:MM", "end": "HH:MM"}`` as the schools API stores
it. A camera with no window at all has no work hours: the area is never staffed (a store room, a locked
sample room), so every moment counts as after hours.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, time
from typing import Any

from backend.timeutil import SHANGHAI


@dataclass(frozen=True)
class Window:
    """One weekly window in Shanghai wall-clock time; ``start`` inclusive, ``end`` exclusive."""

    weekday: int
    start: time
    end: time


def _hhmm(value: Any) -> time:
    hours, minutes = str(value).split(":")
    return time(int(hours), int(minutes))


def parse_windows(raw: Iterable[Mapping[str, Any]] | None) -> tuple[Window, ...]:
    """Windows from the stored JSON; a malformed entry raises ``ValueError`` naming it."""
    windows = []
    for index, item in enumerate(raw or ()):
        try:
            window = Window(int(item["weekday"]), _hhmm(item["start"]), _hhmm(item["end"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"work_hours[{index}] is not a valid window: {item!r}") from exc
        if not 0 <= window.weekday <= 6 or window.start >= window.end:
            raise ValueError(f"work_hours[{index}] is not a valid window: {item!r}")
        windows.append(window)
    return tuple(windows)


def is_working(windows: Iterable[Window], at: datetime) -> bool:
    """Whether the aware instant ``at`` falls inside one of the windows (Shanghai time)."""
    local = at.astimezone(SHANGHAI)
    clock = local.time().replace(tzinfo=None)
    return any(w.weekday == local.weekday() and w.start <= clock < w.end for w in windows)
