"""Today's record completeness of the canteens in a scope (the 总览's 今日台账完整率).

A canteen is complete when none of today's required records is missing: for every meal it owes records for
(``day.meals_of_day``), the statuses of ``day.meal_statuses`` (the parents' day view's rules) hold no
``missing`` — a record whose deadline has not come yet is not owed yet. A canteen without a meal today owes
nothing and counts as complete. Five statements whatever the number of canteens and records.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import load_only

from backend.extensions import db
from backend.records.day import current_rows, meal_statuses, meals_of_day
from backend.records.meal_windows import shanghai_today
from backend.records.models import DisinfectionLog, DisinfectionTarget, Menu, MenuDish, SampleLog
from backend.schools.models import Canteen
from backend.timeutil import as_utc


def records_today(schools: Callable[[Any], Any], now: datetime) -> dict[str, Any]:
    """``{complete, total, percent}`` over the canteens whose school satisfies ``schools(Canteen.school_id)``
    (``percent`` null without canteens)."""
    now = as_utc(now)
    day = shanghai_today(now)
    # Only what the meal windows need: a province has ten thousand canteens.
    canteens = list(db.session.scalars(select(Canteen).options(load_only(Canteen.id, Canteen.meal_windows))
                                       .where(schools(Canteen.school_id)).order_by(Canteen.id)))
    ids = select(Canteen.id).where(schools(Canteen.school_id))
    menus = current_rows(Menu, ids, Menu.service_date == day, day=day)
    dishes: dict[int, list[str]] = defaultdict(list)
    for entry_id, name in db.session.execute(select(MenuDish.entry_id, MenuDish.name).where(
            MenuDish.entry_id.in_([e.id for e, _ in menus]))):
        dishes[entry_id].append(name)
    sampled = {(e.canteen_id, s.meal, s.dish_name)
               for e, s in current_rows(SampleLog, ids, SampleLog.service_date == day, day=day)}
    disinfected = {(e.canteen_id, d.meal) for e, d in current_rows(
        DisinfectionLog, ids, DisinfectionLog.service_date == day, day=day)
        if d.target == DisinfectionTarget.TABLEWARE}
    served = {(e.canteen_id, m.meal): e.id for e, m in menus}
    meals_served: dict[int, set[str]] = defaultdict(set)  # per canteen: one pass, not one scan per canteen
    for canteen_id, meal in served:
        meals_served[canteen_id].add(meal)
    complete = 0
    for canteen in canteens:
        statuses = [meal_statuses(
            window, (canteen.id, meal) in served,
            all((canteen.id, meal, name) in sampled for name in dishes.get(served.get((canteen.id, meal), -1), [])),
            (canteen.id, meal) in disinfected, now)
            for meal, window in meals_of_day(canteen, day, meals_served[canteen.id])]
        complete += not any("missing" in s.values() for s in statuses)
    total = len(canteens)
    return {"date": day.isoformat(), "complete": complete, "total": total,
            "percent": round(100 * complete / total) if total else None}
