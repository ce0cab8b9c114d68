"""Meal windows and record deadlines of a canteen, in Asia/Shanghai.

A meal's samples are due by the end of its window; the tableware of a meal must be disinfected within two
hours after the window ends (washing follows service). A day without a configured window for a meal that
nevertheless has a menu uses the default window of that meal.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from backend.records.models import MEAL_ORDER, Meal
from backend.schools.models import Canteen
from backend.timeutil import SHANGHAI
from backend.timewindows import WeeklyWindow, parse_windows

DEFAULT_MEAL_WINDOWS: dict[str, tuple[str, str]] = {
    Meal.BREAKFAST: ("07:00", "08:30"),
    Meal.LUNCH: ("11:30", "13:00"),
    Meal.SNACK: ("15:00", "15:30"),
    Meal.DINNER: ("17:30", "19:00"),
}
SAMPLE_DEADLINE_AFTER_END = timedelta(0)
DISINFECTION_DEADLINE_AFTER_END = timedelta(hours=2)


@dataclass(frozen=True)
class MealWindow:
    """When a meal is served on a day (aware datetimes) and whether the canteen scheduled it."""

    meal: str
    start: datetime
    end: datetime
    scheduled: bool

    @property
    def sample_deadline(self) -> datetime:
        """Samples of every dish must be recorded by then."""
        return self.end + SAMPLE_DEADLINE_AFTER_END

    @property
    def disinfection_deadline(self) -> datetime:
        """The meal's tableware disinfection must be recorded by then."""
        return self.end + DISINFECTION_DEADLINE_AFTER_END


def scheduled_windows(canteen: Canteen, day: date) -> dict[str, MealWindow]:
    """The meals the canteen serves on ``day`` according to its meal windows (an end of 23:59 is midnight)."""
    windows: dict[str, MealWindow] = {}
    for item in canteen.meal_windows or []:
        if not isinstance(item, dict) or item.get("meal") not in MEAL_ORDER:
            continue
        parsed = parse_windows([item], skip_invalid=True)
        if parsed and parsed[0].weekday == day.weekday():
            windows[item["meal"]] = MealWindow(item["meal"], *parsed[0].on(day), True)
    return windows


def window_for(canteen: Canteen, day: date, meal: str) -> MealWindow:
    """The window of a meal on a day: the canteen's own, else the default one."""
    scheduled = scheduled_windows(canteen, day)
    if meal in scheduled:
        return scheduled[meal]
    start, end = DEFAULT_MEAL_WINDOWS[meal]
    default = WeeklyWindow.parse({"weekday": day.weekday(), "start": start, "end": end})
    return MealWindow(meal, *default.on(day), False)


def shanghai_today(now: datetime) -> date:
    """Today's date in Asia/Shanghai."""
    return now.astimezone(SHANGHAI).date()
