"""Which of a day's required records the canteens of a scope are missing: the 总览's 今日台账完整率 and the
regulators' "who hasn't reported" list (未报送).

A canteen owes, for every meal it owes records for (``day.meals_of_day``), the records of
``day.meal_statuses`` (the parents' day view's rules: menu by the window's start, samples, tableware
disinfection), and a morning check (晨检) before its first meal window (``day.morning_check_deadline``). A
record is missing once its deadline has passed without it; one whose deadline has not come is not owed yet.
A canteen without a meal that day owes nothing. Six statements whatever the number of canteens and records, and
of days (``owed_records_days``: the early warnings' fortnight).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import load_only

from backend.db_util import names_by_id
from backend.extensions import db
from backend.records.day import meal_statuses, meals_of_day, morning_check_deadline
from backend.records.meal_windows import MealWindow, shanghai_today
from backend.records.models import (
    MEAL_LABELS,
    DisinfectionLog,
    DisinfectionTarget,
    Menu,
    MenuDish,
    MorningCheck,
    RecordEntry,
    RecordKind,
    SampleLog,
)
from backend.records.versions import is_current
from backend.schools.models import Canteen, Region, School
from backend.timeutil import as_utc, shanghai_iso

# What each required record is called, in the order a canteen's list names them.
RECORD_LABELS = {"morning_check": "晨检", "menu": "菜单", "samples": "留样", "disinfection": "餐具消毒"}


def _deadline(record: str, window: MealWindow) -> datetime:
    return {"menu": window.start, "samples": window.sample_deadline,
            "disinfection": window.disinfection_deadline}[record]


def missing_records(schools: Callable[[Any], Any], day: date,
                    now: datetime) -> list[tuple[Canteen, list[dict[str, Any]]]]:
    """Every canteen whose school satisfies ``schools(Canteen.school_id)``, with the records of ``day`` it is
    missing at ``now`` (``record``, ``meal`` or None for the morning check, ``deadline``), deadline order."""
    return [(canteen, missing) for canteen, _, missing in owed_records(schools, day, now)]


def owed_records(schools: Callable[[Any], Any], day: date,
                 now: datetime) -> list[tuple[Canteen, bool, list[dict[str, Any]]]]:
    """As :func:`missing_records`, with whether the canteen owed any record that day (a meal to record)."""
    return owed_records_days(schools, [day], now)[day]


def owed_records_days(schools: Callable[[Any], Any], days: list[date],
                      now: datetime) -> dict[date, list[tuple[Canteen, bool, list[dict[str, Any]]]]]:
    """:func:`owed_records` of each of ``days`` (a few weeks at most): the same six statements whatever the
    number of days, canteens and records, reading only the columns the rules need (a province's fortnight is
    hundreds of thousands of records: mapped objects would cost more than the query)."""
    now = as_utc(now)
    days = sorted(set(days))
    # Only what the meal windows need: a province has ten thousand canteens.
    canteens = list(db.session.scalars(select(Canteen).options(load_only(Canteen.id, Canteen.school_id,
                                                                         Canteen.name, Canteen.meal_windows))
                                       .where(schools(Canteen.school_id)).order_by(Canteen.id)))
    ids = select(Canteen.id).where(schools(Canteen.school_id))

    def current(model: Any, kind: str, *columns: Any, dated: Any = None) -> Any:
        """The current versions of one kind of record of the canteens on ``days`` (``dated``: the model's own
        day column, which must be the entry's day too, as in ``day.current_rows``)."""
        query = (select(RecordEntry.id, RecordEntry.canteen_id, RecordEntry.record_date, *columns)
                 .join(model, model.entry_id == RecordEntry.id)
                 .where(RecordEntry.canteen_id.in_(ids), RecordEntry.kind == kind, is_current(),
                        RecordEntry.record_date.in_(days)))
        return query if dated is None else query.where(dated == RecordEntry.record_date)

    menus = current(Menu, RecordKind.MENU, Menu.meal, dated=Menu.service_date)
    served: dict[tuple[int, date, str], int] = {}
    meals_served: dict[tuple[int, date], set[str]] = defaultdict(set)  # one pass, not one scan per canteen
    for entry_id, canteen_id, record_date, meal in db.session.execute(menus.order_by(RecordEntry.id)):
        served[(canteen_id, record_date, meal)] = entry_id
        meals_served[(canteen_id, record_date)].add(meal)
    dishes: dict[int, list[str]] = defaultdict(list)
    for entry_id, name in db.session.execute(select(MenuDish.entry_id, MenuDish.name).where(
            MenuDish.entry_id.in_(menus.with_only_columns(RecordEntry.id)))):
        dishes[entry_id].append(name)
    sampled: dict[tuple[int, date, str], set[str]] = defaultdict(set)
    for _, canteen_id, record_date, meal, dish in db.session.execute(
            current(SampleLog, RecordKind.SAMPLE, SampleLog.meal, SampleLog.dish_name, dated=SampleLog.service_date)):
        sampled[(canteen_id, record_date, meal)].add(dish)
    disinfected = {(canteen_id, record_date, meal) for _, canteen_id, record_date, meal in db.session.execute(
        current(DisinfectionLog, RecordKind.DISINFECTION, DisinfectionLog.meal, dated=DisinfectionLog.service_date)
        .where(DisinfectionLog.target == DisinfectionTarget.TABLEWARE))}
    checked = {(canteen_id, record_date) for _, canteen_id, record_date in db.session.execute(
        current(MorningCheck, RecordKind.MORNING_CHECK))}
    # A day's meals depend on the canteen's windows and menus only: canteens alike share them.
    windows = {canteen.id: json.dumps(canteen.meal_windows or [], sort_keys=True, default=str) for canteen in canteens}
    schedules: dict[tuple[str, date, frozenset[str]], tuple[list[tuple[str, MealWindow]], datetime | None]] = {}
    result: dict[date, list[tuple[Canteen, bool, list[dict[str, Any]]]]] = {}
    for day in days:
        result[day] = []
        for canteen in canteens:
            cid = canteen.id
            key = (windows[cid], day, frozenset(meals_served.get((cid, day), ())))
            if key not in schedules:
                scheduled = meals_of_day(canteen, day, set(key[2]))
                schedules[key] = (scheduled, morning_check_deadline(scheduled))
            meals, first = schedules[key]
            missing: list[dict[str, Any]] = []
            if first is not None and now >= first and (cid, day) not in checked:
                missing.append({"record": "morning_check", "meal": None, "deadline": first})
            for meal, window in meals:
                menu = served.get((cid, day, meal))
                statuses = meal_statuses(
                    window, menu is not None, set(dishes.get(menu or -1, ())) <= sampled.get((cid, day, meal), set()),
                    (cid, day, meal) in disinfected, now)
                missing += [{"record": record, "meal": meal, "deadline": _deadline(record, window)}
                            for record, status in statuses.items() if status == "missing"]
            result[day].append((canteen, bool(meals), sorted(missing, key=lambda m: m["deadline"])))
    return result


def present_missing(missing: dict[str, Any]) -> dict[str, Any]:
    """One missing record as the API shows it."""
    meal = missing["meal"]
    return {"record": missing["record"], "record_label": RECORD_LABELS[missing["record"]], "meal": meal,
            "meal_label": None if meal is None else MEAL_LABELS.get(meal, meal),
            "deadline": shanghai_iso(missing["deadline"])}


def records_today(schools: Callable[[Any], Any], now: datetime) -> dict[str, Any]:
    """``{complete, total, percent}`` over the canteens whose school satisfies ``schools(Canteen.school_id)``
    (``percent`` null without canteens)."""
    now = as_utc(now)
    day = shanghai_today(now)
    canteens = missing_records(schools, day, now)
    complete = sum(1 for _, missing in canteens if not missing)
    total = len(canteens)
    return {"date": day.isoformat(), "complete": complete, "total": total,
            "percent": round(100 * complete / total) if total else None}


def region_schools(region: Region) -> Callable[[Any], Any]:
    """The condition "a school of ``region`` or of a region below it" on a school-id column."""
    return lambda column: column.in_(select(School.id).join(Region, Region.id == School.region_id)
                                     .where(Region.path.startswith(region.path)))


def unreported(region: Region, day: date, now: datetime) -> dict[str, Any]:
    """The regulators' 未报送 list: the canteens of a region missing a required record of ``day`` at ``now``."""
    canteens = missing_records(region_schools(region), day, now)
    late = [(canteen, missing) for canteen, missing in canteens if missing]
    names = names_by_id(School, (canteen.school_id for canteen, _ in late))
    return {"region_id": region.id, "date": day.isoformat(), "generated_at": shanghai_iso(now),
            "total": len(canteens), "reported": len(canteens) - len(late),
            "canteens": [{"school_id": canteen.school_id, "school_name": names.get(canteen.school_id),
                          "canteen_id": canteen.id, "canteen_name": canteen.name,
                          "missing": [present_missing(m) for m in missing]} for canteen, missing in late]}


SUMMARY_LISTED = 10  # canteens named in a summary's text; the count covers them all


def send_unreported_summaries(day: date, now: datetime) -> dict[str, int]:
    """Put each region's 未报送 list of ``day`` in the inbox of the regulators scoped to that region, once per
    region, day and regulator (running again adds nothing); a region where every canteen reported gets none."""
    from backend.accounts.models import RegulatorScope
    from backend.notices.models import Notice, SubjectType
    from backend.notices.outbox import NoticeDraft, enqueue

    now = as_utc(now)
    regulators: dict[int, set[int]] = defaultdict(set)
    for region_id, user_id in db.session.execute(select(RegulatorScope.region_id, RegulatorScope.user_id)):
        regulators[region_id].add(user_id)
    sent = regions = 0
    for region in db.session.scalars(select(Region).where(Region.id.in_(regulators)).order_by(Region.id)):
        listing = unreported(region, day, now)
        if not listing["canteens"]:
            continue
        key = f"records:unreported:{region.id}:{day.isoformat()}"
        told = set(db.session.scalars(select(Notice.user_id).where(Notice.idempotency_key.like(f"{key}:u%"))))
        lines = [f"{c['school_name']}{c['canteen_name']}：缺{'、'.join(missing_text(m) for m in c['missing'])}"
                 for c in listing["canteens"][:SUMMARY_LISTED]]
        more = len(listing["canteens"]) - SUMMARY_LISTED
        body = "；".join(lines) + (f"；另有 {more} 个食堂未报送" if more > 0 else "")
        draft = NoticeDraft(subject_type=SubjectType.REGION, subject_id=region.id, school_id=None,
                            purpose="records_unreported", template="unreported",
                            title=f"{day.isoformat()} {region.name}有 {len(listing['canteens'])} 个食堂台账未报送",
                            body=body, payload={"region": region.name, "count": len(listing["canteens"]),
                                                "at": now.isoformat()})
        sent += enqueue(draft, regulators[region.id] - told, key, now)
        regions += 1
    db.session.commit()
    return {"regions": regions, "notices": sent}


def missing_text(shown: dict[str, Any]) -> str:
    """A presented missing record in a few characters: 晨检, 午餐留样."""
    return shown["record_label"] if shown["meal_label"] is None else f"{shown['meal_label']}{shown['record_label']}"
