"""A school's day at a glance: menus with per-dish traceability, samples, disinfection and completeness.

Each canteen also shows the day's morning check (晨检) as counts only: parents never see who was checked or
their health; and the parents' opinions of its accompanied meals (家长陪餐: ratings, comments, the school's
answers; never who said it). Parents open this first, so it runs a fixed number of SQL statements however
many canteens, dishes and ingredients the day has: every level (menus, dishes, links, items, suppliers,
certificates, samples, disinfection, accompanied meals, files) is one query over the ids collected from the
level before.
"""

from __future__ import annotations

import gzip
import json
import threading
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import joinedload

from backend.extensions import db
from backend.parent_meals.views import day_opinions, day_version_column
from backend.records.meal_windows import MealWindow, scheduled_windows, window_for
from backend.records.models import (
    MEAL_LABELS,
    MEAL_ORDER,
    AccompaniedMeal,
    DishIngredient,
    DisinfectionLog,
    DisinfectionTarget,
    Menu,
    MenuDish,
    ReceivingItem,
    ReceivingRecord,
    RecordAttachment,
    RecordChainHead,
    RecordEntry,
    RecordKind,
    SampleDisposal,
    SampleLog,
    Supplier,
    SupplierCertificate,
)
from backend.records.presenters import (
    certificate_status,
    present_accompanied,
    present_certificate,
    present_disposal,
    present_files,
    present_item,
    present_sample,
    show_date,
)
from backend.records.staff import morning_check_summaries
from backend.records.versions import is_current, item_logical_in, logical_id
from backend.schools.models import Canteen, School
from backend.timeutil import as_utc, shanghai_iso
from backend.versioned_cache import VersionedCache


def current_rows(model: Any, canteen_ids: list[int] | Select[Any], *conditions: Any,
                 day: date | None = None) -> list[tuple[RecordEntry, Any]]:
    """Current versions of one kind of record of the canteens (a list of ids, or a query of them for many: a
    province's ten thousand bound parameters cost more than the query) in one statement."""
    query = (select(RecordEntry, model).join(model, model.entry_id == RecordEntry.id)
             .where(RecordEntry.canteen_id.in_(canteen_ids), RecordEntry.kind == KIND_OF[model], is_current(),
                    *conditions))
    if day is not None:  # the record's day is on the entry index (canteen, kind, record_date)
        query = query.where(RecordEntry.record_date == day)
    rows = db.session.execute(query.order_by(RecordEntry.id)).all()
    return [(entry, row) for entry, row in rows]


KIND_OF: dict[Any, str] = {
    Menu: RecordKind.MENU, SampleLog: RecordKind.SAMPLE, SampleDisposal: RecordKind.SAMPLE_DISPOSAL,
    DisinfectionLog: RecordKind.DISINFECTION, AccompaniedMeal: RecordKind.ACCOMPANIED_MEAL,
    SupplierCertificate: RecordKind.CERTIFICATE,
}


def _status(done: bool, deadline: datetime, now: datetime) -> str:
    if done:
        return "done"
    return "pending" if now < deadline else "missing"


def meals_of_day(canteen: Canteen, day: date, served: set[str]) -> list[tuple[str, MealWindow]]:
    """The meals a canteen owes records for on ``day``: those its windows schedule and those with a menu."""
    windows = scheduled_windows(canteen, day)
    return [(meal, windows.get(meal) or window_for(canteen, day, meal))
            for meal in sorted(set(windows) | served, key=lambda m: MEAL_ORDER.get(m, 9))]


def meal_statuses(window: MealWindow, served: bool, samples_done: bool, tableware_done: bool,
                  now: datetime) -> dict[str, str]:
    """A meal's required records at ``now``: its menu by the window's start, a sample of every dish by the
    sample deadline, tableware disinfection by the disinfection deadline; each done, pending, missing (its
    deadline passed) or not_applicable (no menu, so nothing was served to sample or disinfect)."""
    return {"menu": "done" if served else _status(False, window.start, now),
            "samples": "not_applicable" if not served else _status(samples_done, window.sample_deadline, now),
            "disinfection": ("not_applicable" if not served and not tableware_done
                             else _status(tableware_done, window.disinfection_deadline, now))}


def morning_check_deadline(meals: list[tuple[str, MealWindow]]) -> datetime | None:
    """The morning check (晨检) is due before the day's first meal window opens; None on a day without meals."""
    return min((window.start for _, window in meals), default=None)


def morning_check_status(deadline: datetime | None, done: bool, now: datetime) -> str:
    """The day's morning check: done, pending, missing (its deadline passed) or not_applicable (no meal)."""
    if deadline is None and not done:
        return "not_applicable"
    return _status(done, deadline or now, now)


STATUS_LABELS = {"done": "已完成", "pending": "待完成", "missing": "缺失", "not_applicable": "无需"}


def day_overview(school: School, day: date, now: datetime) -> dict[str, Any]:
    """Everything a parent sees about one day of a school's canteens."""
    now = as_utc(now)
    canteens = canteens_with_heads(school.id)
    return build_overview(school, [c for c, _ in canteens], day, now)


def canteens_with_heads(school_id: int) -> list[tuple[Canteen, int]]:
    """A school's canteens with the length of each one's record chain (which changes with every write)."""
    return [(canteen, seq or 0) for canteen, seq in db.session.execute(
        select(Canteen, RecordChainHead.seq).outerjoin(RecordChainHead, RecordChainHead.canteen_id == Canteen.id)
        .where(Canteen.school_id == school_id).order_by(Canteen.id)).all()]


def build_overview(school: School, canteens: list[Canteen], day: date, now: datetime) -> dict[str, Any]:
    """The day view of the given canteens (see :func:`day_overview`)."""
    canteen_ids = [c.id for c in canteens]

    menus = current_rows(Menu, canteen_ids, Menu.service_date == day, day=day)
    menu_ids = [entry.id for entry, _ in menus]
    dishes = list(db.session.scalars(select(MenuDish).where(MenuDish.entry_id.in_(menu_ids))
                                     .order_by(MenuDish.entry_id, MenuDish.position)))
    links = list(db.session.scalars(select(DishIngredient).where(DishIngredient.dish_id.in_([d.id for d in dishes]))
                                    .order_by(DishIngredient.dish_id, DishIngredient.position)))
    item_ids = sorted({link.item_id for link in links})
    item_rows = db.session.execute(
        select(ReceivingItem, ReceivingRecord, RecordEntry)
        .join(RecordEntry, RecordEntry.id == ReceivingItem.entry_id)
        .join(ReceivingRecord, ReceivingRecord.entry_id == RecordEntry.id)
        .where(RecordEntry.canteen_id.in_(canteen_ids), is_current(), item_logical_in(item_ids))).all()
    items = {item.logical_id: (item, receiving, entry) for item, receiving, entry in item_rows}
    supplier_ids = sorted({receiving.supplier_id for _, receiving, _ in item_rows})
    suppliers = dict(db.session.execute(
        select(logical_id(), Supplier).join(Supplier, Supplier.entry_id == RecordEntry.id)
        .where(RecordEntry.canteen_id.in_(canteen_ids), is_current(), logical_id().in_(supplier_ids))).all())
    certificates: dict[int, list[tuple[RecordEntry, SupplierCertificate]]] = defaultdict(list)
    for entry, certificate in current_rows(SupplierCertificate, canteen_ids,
                                       SupplierCertificate.supplier_id.in_(supplier_ids)):  # any day
        certificates[certificate.supplier_id].append((entry, certificate))

    samples = current_rows(SampleLog, canteen_ids, SampleLog.service_date == day, day=day)
    disposals = {d.sample_id: (e, d) for e, d in current_rows(
        SampleDisposal, canteen_ids, SampleDisposal.sample_id.in_([e.record_id for e, _ in samples]))}
    disinfections = current_rows(DisinfectionLog, canteen_ids, DisinfectionLog.service_date == day, day=day)
    accompanied = current_rows(AccompaniedMeal, canteen_ids, AccompaniedMeal.service_date == day, day=day)
    morning = morning_check_summaries(canteen_ids, day)
    opinions = day_opinions(canteen_ids, day)

    file_entry_ids = ([e.id for e, _ in samples] + [e.id for e, _ in disinfections] + [e.id for e, _ in accompanied]
                      + [entry.id for _, _, entry in item_rows]
                      + [e.id for group in certificates.values() for e, _ in group])
    attachments: dict[int, list[RecordAttachment]] = defaultdict(list)
    for attachment in db.session.scalars(
            select(RecordAttachment).where(RecordAttachment.entry_id.in_(file_entry_ids))
            .options(joinedload(RecordAttachment.upload))
            .order_by(RecordAttachment.entry_id, RecordAttachment.role, RecordAttachment.position)):
        attachments[attachment.entry_id].append(attachment)

    files_cache: dict[int, dict[str, list[dict[str, Any]]]] = {}

    def files(entry_id: int) -> dict[str, list[dict[str, Any]]]:
        if entry_id not in files_cache:
            files_cache[entry_id] = present_files(attachments.get(entry_id, []))
        return files_cache[entry_id]

    def supplier_view(supplier_id: int) -> dict[str, Any]:
        supplier = suppliers.get(supplier_id)
        certs = [present_certificate(e, c, day, files(e.id)) for e, c in certificates.get(supplier_id, [])]
        return {"id": supplier_id, "name": supplier.name if supplier else None,
                "credit_code": supplier.credit_code if supplier else None,
                "certificate_status": _supplier_certificate_status(certificates.get(supplier_id, []), day),
                "certificates": certs}

    supplier_views: dict[int, dict[str, Any]] = {}
    links_by_dish: dict[int, list[DishIngredient]] = defaultdict(list)
    for link in links:
        links_by_dish[link.dish_id].append(link)
    dishes_by_menu: dict[int, list[MenuDish]] = defaultdict(list)
    for dish in dishes:
        dishes_by_menu[dish.entry_id].append(dish)

    receiving_views: dict[int, dict[str, Any]] = {}

    def ingredient_view(item_id: int) -> dict[str, Any]:
        found = items.get(item_id)
        if found is None:
            return {"item_id": item_id, "missing": True}
        item, receiving, entry = found
        if receiving.supplier_id not in supplier_views:
            supplier_views[receiving.supplier_id] = supplier_view(receiving.supplier_id)
        if entry.record_id not in receiving_views:
            receiving_views[entry.record_id] = {
                "id": entry.record_id, "version_id": entry.id, "supplier_id": receiving.supplier_id,
                "received_at": shanghai_iso(receiving.received_at), "receiver_name": receiving.receiver_name,
                "files": files(entry.id)}
        return {**present_item(item), "missing": False, "receiving_id": entry.record_id,
                "supplier_id": receiving.supplier_id,
                "certificate_status": supplier_views[receiving.supplier_id]["certificate_status"]}

    samples_by_key = {(e.canteen_id, s.meal, s.dish_name): (e, s) for e, s in samples}
    result_canteens = []
    for canteen in canteens:
        meal_views = []
        canteen_menus = {menu.meal: (entry, menu) for entry, menu in menus if entry.canteen_id == canteen.id}
        meals = meals_of_day(canteen, day, set(canteen_menus))
        for meal, window in meals:
            meal_views.append(_meal_view(canteen, meal, window, canteen_menus.get(meal), dishes_by_menu,
                                         links_by_dish, ingredient_view, samples_by_key, disposals, disinfections,
                                         accompanied, files, now))
        complete = sum(1 for m in meal_views if m["complete"])
        result_canteens.append({
            "id": canteen.id, "name": canteen.name, "meals": meal_views,
            "morning_check": _morning_check_view(morning.get(canteen.id), morning_check_deadline(meals), now),
            "parent_meals": opinions.get(canteen.id, []),
            "completeness": {"meals": len(meal_views), "complete": complete,
                             "percent": round(100 * complete / len(meal_views)) if meal_views else None}})
    return {"school_id": school.id, "school_name": school.name, "date": show_date(day),
            "generated_at": shanghai_iso(now), "canteens": result_canteens,
            # Shared by many ingredients, so listed once: ingredient → receiving_id / supplier_id.
            "receivings": {str(k): v for k, v in sorted(receiving_views.items())},
            "suppliers": {str(k): v for k, v in sorted(supplier_views.items())}}


def _supplier_certificate_status(certs: list[tuple[RecordEntry, SupplierCertificate]], day: date) -> str:
    """The worst status over the newest certificate of each kind; ``missing`` when there is none."""
    if not certs:
        return "missing"
    newest: dict[str, date] = {}
    for _, certificate in certs:
        newest[certificate.kind] = max(newest.get(certificate.kind, certificate.valid_until), certificate.valid_until)
    statuses = {certificate_status(until, day) for until in newest.values()}
    for status in ("expired", "expiring"):
        if status in statuses:
            return status
    return "valid"


def _meal_view(canteen: Canteen, meal: str, window: MealWindow, menu: tuple[RecordEntry, Menu] | None,
               dishes_by_menu: dict[int, list[MenuDish]], links_by_dish: dict[int, list[DishIngredient]],
               ingredient_view: Any, samples_by_key: dict[tuple[int, str, str], tuple[RecordEntry, SampleLog]],
               disposals: dict[int, tuple[RecordEntry, SampleDisposal]],
               disinfections: list[tuple[RecordEntry, DisinfectionLog]],
               accompanied: list[tuple[RecordEntry, AccompaniedMeal]], files: Any, now: datetime) -> dict[str, Any]:
    dish_views = [_dish_view(dish, samples_by_key.get((canteen.id, meal, dish.name)), disposals,
                             [ingredient_view(link.item_id) for link in links_by_dish.get(dish.id, [])], files)
                  for dish in (dishes_by_menu.get(menu[0].id, []) if menu is not None else [])]
    missing_samples = [view["name"] for view in dish_views if view["sample"] is None]
    served = menu is not None
    rows = [(e, d) for e, d in disinfections if e.canteen_id == canteen.id and d.meal == meal]
    tableware_done = any(d.target == DisinfectionTarget.TABLEWARE for _, d in rows)
    statuses = meal_statuses(window, served, not missing_samples, tableware_done, now)
    sample_status, menu_status = statuses["samples"], statuses["menu"]
    disinfection = _meal_disinfection(rows, statuses["disinfection"], window, files)
    return {
        "meal": meal, "meal_label": MEAL_LABELS.get(meal, meal),
        "window": {"start": shanghai_iso(window.start), "end": shanghai_iso(window.end), "scheduled": window.scheduled},
        "menu_status": menu_status,
        "menu": None if menu is None else _menu_view(*menu, dish_views),
        "samples": {"status": sample_status, "status_label": STATUS_LABELS[sample_status],
                    "required": len(dish_views), "taken": len(dish_views) - len(missing_samples),
                    "missing_dishes": missing_samples, "deadline": shanghai_iso(window.sample_deadline)},
        "disinfection": disinfection,
        "accompanied_meals": [{"id": e.record_id, "version_id": e.id, **present_accompanied(a), "files": files(e.id)}
                              for e, a in accompanied if e.canteen_id == canteen.id and a.meal == meal],
        "complete": served and not missing_samples and tableware_done,
    }


def _morning_check_view(summary: dict[str, Any] | None, deadline: datetime | None, now: datetime) -> dict[str, Any]:
    """The day's morning check as parents may see it: status and counts, never who or their health."""
    status = morning_check_status(deadline, summary is not None, now)
    return {"status": status, "status_label": STATUS_LABELS[status],
            "deadline": None if deadline is None else shanghai_iso(deadline),
            "checked_at": None if summary is None else shanghai_iso(summary["checked_at"]),
            "checked": summary["checked"] if summary else 0, "passed": summary["passed"] if summary else 0,
            "failed": summary["failed"] if summary else 0}


def _meal_disinfection(rows: list[tuple[RecordEntry, DisinfectionLog]], status: str, window: MealWindow,
                       files: Any) -> dict[str, Any]:
    """A meal's disinfection block."""
    return {"status": status, "status_label": STATUS_LABELS[status],
            "deadline": shanghai_iso(window.disinfection_deadline),
            "records": [_disinfection_view(e, d, files) for e, d in rows]}


def _menu_view(entry: RecordEntry, menu: Menu, dish_views: list[dict[str, Any]]) -> dict[str, Any]:
    """A meal's menu version, with what it amends."""
    return {"id": entry.record_id, "version_id": entry.id, "remarks": menu.remarks,
            "amendment": None if entry.amends_id is None else {"amends_version_id": entry.amends_id,
                                                                "reason": entry.reason},
            "dishes": dish_views}


def _dish_view(dish: MenuDish, sample: tuple[RecordEntry, SampleLog] | None,
               disposals: dict[int, tuple[RecordEntry, SampleDisposal]], ingredients: list[dict[str, Any]],
               files: Any) -> dict[str, Any]:
    """One dish of a meal: its ingredients (traceable when each has a valid supplier) and its retained sample."""
    sample_view = None
    if sample is not None:
        entry, row = sample
        disposal = disposals.get(entry.record_id)
        sample_view = {"id": entry.record_id, "version_id": entry.id, **present_sample(row), "files": files(entry.id),
                       "disposal": None if disposal is None else present_disposal(*disposal)}
    return {"dish_id": dish.id, "name": dish.name, "category": dish.category, "ingredients": ingredients,
            "traceable": bool(ingredients) and all(
                not i["missing"] and i["certificate_status"] in ("valid", "expiring") for i in ingredients),
            "sample": sample_view}


def _disinfection_view(entry: RecordEntry, row: DisinfectionLog, files: Any) -> dict[str, Any]:
    from backend.records.models import METHOD_LABELS, TARGET_LABELS

    return {"id": entry.record_id, "version_id": entry.id, "target": row.target,
            "target_label": TARGET_LABELS[row.target], "target_name": row.target_name, "method": row.method,
            "method_label": METHOD_LABELS[row.method], "temperature_c": row.temperature_c, "minutes": row.minutes,
            "concentration_mg_l": row.concentration_mg_l, "item_count": row.item_count,
            "performed_at": shanghai_iso(row.performed_at), "operator_name": row.operator_name,
            "files": files(entry.id)}


# Parents open the day view far more often than records change: the rendered JSON is kept per process and
# reused while every canteen's chain head (and the school's and canteens' names and windows, and its latest
# 陪餐 change) is unchanged.
CACHE_TTL_SECONDS = 60.0      # well inside the 600 s lifetime of the signed file URLs it contains
CACHE_MAX_ENTRIES = 256


class DayCache(VersionedCache):
    """Rendered day views by (school, day), validated against the records' current version."""

    def __init__(self, max_entries: int = CACHE_MAX_ENTRIES) -> None:
        super().__init__(max_entries)


def _next_status_change(canteens: list[Canteen], day: date, now: datetime) -> float:
    """Seconds until a meal's status can change by the clock alone (a window opens or a deadline passes)."""
    moments = []
    for canteen in canteens:
        for meal in MEAL_ORDER:
            window = window_for(canteen, day, meal)
            moments += [window.start, window.sample_deadline, window.disinfection_deadline]
    upcoming = [(moment - now).total_seconds() for moment in moments if moment > now]
    return min(upcoming, default=CACHE_TTL_SECONDS)


@dataclass(frozen=True)
class SchoolSnapshot:
    """A school, its canteens and the version of their records, read in one statement without a transaction.

    ``school`` and ``canteens`` are transient objects (not attached to the session) carrying the columns the
    permission check and the day view use.
    """

    school: School
    canteens: list[Canteen]
    version: tuple[Any, ...]


def _autocommit_engine() -> Any:
    """The app's pool of autocommit connections for single-statement reads on hot paths."""
    try:
        from backend.extensions import autocommit_engine  # type: ignore[attr-defined]
    except ImportError:  # a foundation without the shared pool: keep one of our own
        from flask import current_app
        from sqlalchemy import create_engine

        engine = current_app.extensions.get("records_autocommit_engine")
        if engine is None:
            engine = db.engine if db.engine.dialect.name == "sqlite" else create_engine(
                db.engine.url, isolation_level="AUTOCOMMIT", pool_size=8, max_overflow=8,
                connect_args={"prepare_threshold": 1})
            current_app.extensions["records_autocommit_engine"] = engine
        return engine
    return autocommit_engine()


_SNAPSHOT_STATEMENT: Any = None


def load_school_snapshot(school_id: int) -> SchoolSnapshot | None:
    """The school (with its region), its canteens and their chain heads: one statement, no BEGIN/ROLLBACK."""
    from backend.schools.models import Region

    global _SNAPSHOT_STATEMENT
    if _SNAPSHOT_STATEMENT is None:  # built once: constructing the expression costs more than running it
        _SNAPSHOT_STATEMENT = (
            select(School.id, School.name, School.kind, School.region_id, Region.path, Canteen.id.label("cid"),
                   Canteen.name.label("cname"), Canteen.meal_windows, RecordChainHead.hash,
                   day_version_column().label("parent_meals_revision"))
            .join(Region, Region.id == School.region_id)
            .outerjoin(Canteen, Canteen.school_id == School.id)
            .outerjoin(RecordChainHead, RecordChainHead.canteen_id == Canteen.id)
            .where(School.id == bindparam("school_id")).order_by(Canteen.id))
    with _autocommit_engine().connect() as conn:
        rows = conn.execute(_SNAPSHOT_STATEMENT, {"school_id": school_id}).all()
    if not rows:
        return None
    first = rows[0]
    school = School(id=first.id, name=first.name, kind=first.kind, region_id=first.region_id,
                    region=Region(id=first.region_id, path=first.path))
    canteens = [Canteen(id=r.cid, school_id=first.id, name=r.cname, meal_windows=r.meal_windows or [])
                for r in rows if r.cid is not None]
    version = (first.name, tuple((r.cid, r.cname, json.dumps(r.meal_windows, sort_keys=True), r.hash)
                                 for r in rows if r.cid is not None), first.parent_meals_revision)
    return SchoolSnapshot(school, canteens, version)


# Readers (parents, the committee, regulators) may see the day view up to this late; the snapshot that
# validates the cache is then reused instead of read again. Writers always read a fresh snapshot, so a
# manager sees their own record at once.
SNAPSHOT_MAX_AGE_SECONDS = 1.0


class SnapshotCache:
    """Recently read school snapshots of this process."""

    def __init__(self, max_entries: int = 1024) -> None:
        self.max_entries = max_entries
        self._entries: dict[int, tuple[float, SchoolSnapshot]] = {}
        self._lock = threading.Lock()

    def get(self, school_id: int, max_age: float) -> SchoolSnapshot | None:
        """A snapshot read at most ``max_age`` seconds ago (read now, and kept, otherwise)."""
        now = time.monotonic()
        if max_age > 0:
            with self._lock:
                found = self._entries.get(school_id)
            if found is not None and now - found[0] < max_age:
                return found[1]
        snapshot = load_school_snapshot(school_id)
        if snapshot is not None:
            with self._lock:
                if len(self._entries) >= self.max_entries:
                    self._entries.clear()
                self._entries[school_id] = (now, snapshot)
        return snapshot


@dataclass(frozen=True)
class RenderedDay:
    """A rendered day view: JSON, and the same gzip-compressed for clients that accept it (phones on 4G)."""

    body: bytes
    gzipped: bytes


def day_json(snapshot: SchoolSnapshot, day: date, now: datetime, cache: DayCache | None) -> RenderedDay:
    """The day view, from ``cache`` when nothing it depends on has changed since it was rendered."""
    now = as_utc(now)
    key = (snapshot.school.id, day)
    if cache is not None:
        cached = cache.get(key, snapshot.version)
        if cached is not None:
            return cached
    body = json.dumps(build_overview(snapshot.school, snapshot.canteens, day, now), ensure_ascii=False,
                      separators=(",", ":")).encode()
    rendered = RenderedDay(body, gzip.compress(body, compresslevel=6, mtime=0))
    if cache is not None:
        ttl = min(CACHE_TTL_SECONDS, _next_status_change(snapshot.canteens, day, now))
        cache.put(key, snapshot.version, rendered, ttl)
    return rendered
