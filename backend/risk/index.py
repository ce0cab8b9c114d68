"""The food-safety index (食安指数): each school's monthly inputs aggregated in SQL, scored by
``index_formula``, stored in ``risk_index`` so reads are cheap; the region's ranking and a school's breakdown.

Inputs of a school-month ``[month start, as_of)`` (``as_of`` = the month's end, or now for the current month):

- violations that occurred in it, by class (``violation.risk_class``): dismissed ones and AI alarms not
  (yet) confirmed or escalated are not counted, nor those opened from an inspection finding (counted as
  findings);
- violations due in it (not dismissed, not false positives): late when closed after the deadline or not
  closed;
- the AI alarms that occurred in it by review verdict (confirmed, escalated, false positive);
- ``risk_daily_fact`` of its days (records completeness, camera seconds), written nightly per finished day
  from ``records/completeness.py`` and ``monitoring/camera_uptime.py``;
- inspection findings made in it, by severity.

Each is one grouped statement over all the schools (or a chunk of school ids), whatever their number.
``refresh`` recomputes the current month for every school, a finished month whose rows are not final yet,
months without rows (backfill), and otherwise only the (school, month) pairs whose inputs changed since the
last finished run began (the moments indexed by migration 0036). Every write is an upsert on (school, month),
one transaction per month: running twice, or again after being killed, gives the same rows.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import sqlite

from backend.db_types import UTCDateTime
from backend.extensions import db
from backend.records.completeness import missing_records
from backend.regulators.models import InspectionFinding
from backend.risk import index_formula
from backend.risk.classes import FALLBACK_KIND_SETTING
from backend.risk.models import RiskDailyFact, RiskIndex, RiskIndexRun
from backend.schools.models import Canteen, Region, School
from backend.timeutil import SHANGHAI, as_utc, shanghai_iso, shanghai_midnight
from backend.violations.models import (
    PUBLIC_VERDICTS,
    AlarmReview,
    AlarmVerdict,
    Resolution,
    Violation,
    ViolationEvent,
    ViolationSource,
)

CHUNK = 5000  # school ids per statement (bind parameters stay far below PostgreSQL's limit)
CHANGE_MARGIN = timedelta(minutes=10)  # a transaction that began before the last run and committed after it
FACT_DAYS = 35  # the nightly job fills the finished days of the last five weeks that have no facts yet
ALL = None  # every school of a month


def month_of(moment: datetime | date) -> date:
    """The first day of the Asia/Shanghai month of a moment (or of a date)."""
    day = as_utc(moment).astimezone(SHANGHAI).date() if isinstance(moment, datetime) else moment
    return day.replace(day=1)


def next_month(month: date) -> date:
    """The first day of the following month."""
    return (month.replace(day=28) + timedelta(days=4)).replace(day=1)


def as_of(month: date, now: datetime) -> datetime:
    """Where a month's index stops: its end, or ``now`` while it runs."""
    return min(shanghai_midnight(next_month(month)), as_utc(now))


# --- daily facts ----------------------------------------------------------------------------------------------


def fill_daily_facts(now: datetime, days: int = FACT_DAYS) -> list[date]:
    """Write the facts of every finished local day of the last ``days`` that has none (one transaction per
    day, so a killed run keeps the days it finished). The days written, oldest first."""
    from backend.monitoring.camera_uptime import school_day_seconds

    now = as_utc(now)
    today = now.astimezone(SHANGHAI).date()
    wanted = [today - timedelta(days=n) for n in range(days, 0, -1)]
    done = set(db.session.scalars(sa.select(RiskDailyFact.day).where(RiskDailyFact.day >= wanted[0]).distinct()))
    written = []
    for day in wanted:
        if day in done:
            continue
        canteens: dict[int, list[int]] = defaultdict(lambda: [0, 0])
        for canteen, missing in missing_records(lambda column: column.isnot(None), day, now):
            canteens[canteen.school_id][0] += 1
            canteens[canteen.school_id][1] += not missing
        seconds = school_day_seconds(sa.true(), day)
        rows = [{"school_id": school_id, "day": day, "canteens": canteens.get(school_id, (0, 0))[0],
                 "canteens_complete": canteens.get(school_id, (0, 0))[1],
                 "online_seconds": seconds.get(school_id, (0, 0))[0],
                 "known_seconds": seconds.get(school_id, (0, 0))[1], "computed_at": now}
                for school_id in sorted(set(canteens) | set(seconds))]
        upsert_rows(RiskDailyFact, rows, ["school_id", "day"])
        db.session.commit()
        written.append(day)
    return written


# --- aggregation ----------------------------------------------------------------------------------------------


def _months_table(months: dict[date, datetime]) -> Any:
    """The months as rows ``(month, first_day, next_first_day, start, end)`` (``end`` = the month's as_of)."""
    selects = [sa.select(sa.literal(m, sa.Date).label("month"), sa.literal(next_month(m), sa.Date).label("next_day"),
                         sa.literal(shanghai_midnight(m), UTCDateTime).label("start"),
                         sa.literal(end, UTCDateTime).label("end"))
               for m, end in sorted(months.items())]
    return (selects[0] if len(selects) == 1 else sa.union_all(*selects)).subquery("months")


def _school_filter(column: Any, schools: list[int] | None) -> Any:
    return sa.true() if schools is None else column.in_(schools)


def _count(condition: Any) -> Any:
    return sa.func.sum(sa.case((condition, 1), else_=0))


def _violation_inputs(months: Any, schools: list[int] | None) -> Iterable[Any]:
    risk_class = sa.func.coalesce(Violation.risk_class, FALLBACK_KIND_SETTING[0])
    verdict = AlarmReview.verdict
    ai = Violation.source == ViolationSource.AI
    counted = sa.and_(sa.func.coalesce(Violation.resolution, "") != Resolution.DISMISSED,
                      Violation.source != ViolationSource.INSPECTION,
                      sa.or_(~ai, verdict.in_([v.value for v in PUBLIC_VERDICTS])))
    return db.session.execute(
        sa.select(Violation.school_id, months.c.month,
                  *[_count(sa.and_(counted, risk_class == c)).label(f"class{c}") for c in (1, 2, 3)],
                  _count(sa.and_(ai, verdict == AlarmVerdict.CONFIRMED)).label("alarms_confirmed"),
                  _count(sa.and_(ai, verdict == AlarmVerdict.ESCALATED)).label("alarms_escalated"),
                  _count(sa.and_(ai, verdict == AlarmVerdict.FALSE_POSITIVE)).label("alarms_false"))
        .join(months, sa.and_(Violation.occurred_at >= months.c.start, Violation.occurred_at < months.c.end))
        .outerjoin(AlarmReview, AlarmReview.violation_id == Violation.id)
        .where(_school_filter(Violation.school_id, schools))
        .group_by(Violation.school_id, months.c.month))


def _timeliness_inputs(months: Any, schools: list[int] | None) -> Iterable[Any]:
    late = sa.or_(Violation.closed_at.is_(None), Violation.closed_at > Violation.due_at)
    return db.session.execute(
        sa.select(Violation.school_id, months.c.month, sa.func.count().label("due"), _count(late).label("late"))
        .join(months, sa.and_(Violation.due_at >= months.c.start, Violation.due_at < months.c.end))
        .outerjoin(AlarmReview, AlarmReview.violation_id == Violation.id)
        .where(_school_filter(Violation.school_id, schools),
               sa.func.coalesce(Violation.resolution, "") != Resolution.DISMISSED,
               sa.func.coalesce(AlarmReview.verdict, "") != AlarmVerdict.FALSE_POSITIVE)
        .group_by(Violation.school_id, months.c.month))


def _fact_inputs(months: Any, schools: list[int] | None) -> Iterable[Any]:
    fact = RiskDailyFact
    return db.session.execute(
        sa.select(fact.school_id, months.c.month, sa.func.sum(fact.canteens).label("canteen_days"),
                  sa.func.sum(fact.canteens_complete).label("canteen_days_complete"),
                  sa.func.sum(fact.online_seconds).label("online_seconds"),
                  sa.func.sum(fact.known_seconds).label("known_seconds"))
        .join(months, sa.and_(fact.day >= months.c.month, fact.day < months.c.next_day))
        .where(_school_filter(fact.school_id, schools))
        .group_by(fact.school_id, months.c.month))


def _finding_inputs(months: Any, schools: list[int] | None) -> Iterable[Any]:
    finding = InspectionFinding
    return db.session.execute(
        sa.select(Canteen.school_id, months.c.month,
                  *[_count(finding.severity == s).label(f"findings_{s}") for s in index_formula.SEVERITY_POINTS])
        .join(Canteen, Canteen.id == finding.canteen_id)
        .join(months, sa.and_(finding.created_at >= months.c.start, finding.created_at < months.c.end))
        .where(_school_filter(Canteen.school_id, schools))
        .group_by(Canteen.school_id, months.c.month))


def month_inputs(months: dict[date, datetime], schools: list[int] | None) -> dict[tuple[int, date], dict[str, int]]:
    """The inputs of every (school, month) of ``months`` (month → as_of) for ``schools`` (None: all), zero where
    nothing happened."""
    table = _months_table(months)
    ids = list(db.session.scalars(sa.select(School.id).where(_school_filter(School.id, schools))))
    found: dict[tuple[int, date], dict[str, int]] = {(s, m): dict.fromkeys(index_formula.INPUTS, 0)
                                                     for s in ids for m in months}
    for query in (_violation_inputs, _timeliness_inputs, _fact_inputs, _finding_inputs):
        for row in query(table, schools):
            values = row._mapping
            entry = found.get((values["school_id"], _as_date(values["month"])))
            if entry is not None:
                entry.update({key: int(value or 0) for key, value in values.items()
                              if key not in ("school_id", "month")})
    return found


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


# --- storing --------------------------------------------------------------------------------------------------


def upsert_rows(model: Any, rows: list[dict[str, Any]], keys: list[str]) -> None:
    """Insert or update ``rows`` (dicts of the same columns) on their unique ``keys``, in the session's
    transaction. PostgreSQL: COPY into a temporary table, then one INSERT … SELECT … ON CONFLICT DO UPDATE (ten
    thousand rows in a fraction of a second); elsewhere one executemany of the same upsert."""
    if not rows:
        return
    columns = list(rows[0])
    updated = [c for c in columns if c not in keys]
    if db.session.get_bind().dialect.name != "postgresql":
        statement = sqlite.insert(model.__table__)
        db.session.execute(statement.on_conflict_do_update(
            index_elements=keys, set_={c: statement.excluded[c] for c in updated}), rows)
        return
    from psycopg import sql

    table, staging = sql.Identifier(model.__tablename__), sql.Identifier(f"staging_{model.__tablename__}")
    names = sql.SQL(", ").join(map(sql.Identifier, columns))
    raw = db.session.connection().connection.driver_connection
    with raw.cursor() as cursor:
        cursor.execute(sql.SQL("CREATE TEMP TABLE IF NOT EXISTS {} AS SELECT {} FROM {} WITH NO DATA").format(
            staging, names, table))
        with cursor.copy(sql.SQL("COPY {} ({}) FROM STDIN").format(staging, names)) as copy:
            for row in rows:
                copy.write_row([row[c] for c in columns])
        cursor.execute(sql.SQL("INSERT INTO {} ({}) SELECT {} FROM {} ON CONFLICT ({}) DO UPDATE SET {}").format(
            table, names, names, staging, sql.SQL(", ").join(map(sql.Identifier, keys)),
            sql.SQL(", ").join(sql.SQL("{} = EXCLUDED.{}").format(sql.Identifier(c), sql.Identifier(c))
                               for c in updated)))
        cursor.execute(sql.SQL("TRUNCATE {}").format(staging))


def store(months: dict[date, datetime], schools: list[int] | None, now: datetime) -> int:
    """Compute and upsert the index of ``schools`` (None: all) for each month, one transaction per month and
    chunk of schools. The number of rows written."""
    chunks: list[list[int] | None] = [ALL] if schools is None else [
        schools[i:i + CHUNK] for i in range(0, len(schools), CHUNK)]
    written = 0
    for month, end in sorted(months.items()):
        for chunk in chunks:
            rows = []
            for (school_id, _), inputs in month_inputs({month: end}, chunk).items():
                score = index_formula.score(inputs)
                rows.append({"school_id": school_id, "month": month, "as_of": end, **inputs, "score": score,
                             "rating": index_formula.rating(score, inputs["class1"]), "computed_at": now})
            upsert_rows(RiskIndex, rows, ["school_id", "month"])
            db.session.commit()
            written += len(rows)
    return written


def changed_pairs(since: datetime, until: datetime) -> dict[date, set[int]]:
    """The (month → schools) whose inputs changed since ``since``: violations raised or changed (events,
    reviews), inspection findings and daily facts written since then."""
    touched = sa.or_(Violation.created_at >= since,
                     Violation.id.in_(sa.select(ViolationEvent.violation_id).where(ViolationEvent.at >= since)),
                     Violation.id.in_(sa.select(AlarmReview.violation_id).where(AlarmReview.reviewed_at >= since)))
    pairs: dict[date, set[int]] = defaultdict(set)
    for school_id, occurred_at, due_at in db.session.execute(
            sa.select(Violation.school_id, Violation.occurred_at, Violation.due_at).where(touched)):
        for moment in (occurred_at, due_at):
            if moment < until:
                pairs[month_of(moment)].add(school_id)
    for school_id, created_at in db.session.execute(
            sa.select(Canteen.school_id, InspectionFinding.created_at).join(
                Canteen, Canteen.id == InspectionFinding.canteen_id).where(InspectionFinding.created_at >= since)):
        pairs[month_of(created_at)].add(school_id)
    for school_id, day in db.session.execute(sa.select(RiskDailyFact.school_id, RiskDailyFact.day)
                                             .where(RiskDailyFact.computed_at >= since)):
        pairs[month_of(day)].add(school_id)
    return pairs


def refresh(now: datetime, backfill_months: int = 1) -> dict[str, Any]:
    """Bring ``risk_index`` up to ``now``: the current month for every school; each of the last
    ``backfill_months`` finished months without rows, or whose rows stop before its end, for every school;
    elsewhere the pairs whose inputs changed since the last finished run began."""
    now = as_utc(now)
    run = RiskIndexRun(started_at=now, computed=0)
    db.session.add(run)
    db.session.commit()
    since = db.session.scalar(sa.select(sa.func.max(RiskIndexRun.started_at)).where(
        RiskIndexRun.finished_at.isnot(None)))
    current = month_of(now)
    whole = {current}
    month = current
    for _ in range(backfill_months):
        month = month_of(month - timedelta(days=1))
        whole.add(month)
    stored = dict(db.session.execute(sa.select(RiskIndex.month, sa.func.min(RiskIndex.as_of))
                                     .where(RiskIndex.month.in_(whole)).group_by(RiskIndex.month)).all())
    whole = {m for m in whole if m == current or m not in stored
             or as_utc(stored[m]) < shanghai_midnight(next_month(m))}
    written = store({m: as_of(m, now) for m in whole}, ALL, now) if whole else 0
    changed = changed_pairs(as_utc(since) - CHANGE_MARGIN, now) if since is not None else {}
    for month, schools in sorted(changed.items()):
        if month not in whole:
            written += store({month: as_of(month, now)}, sorted(schools), now)
    run = db.session.get(RiskIndexRun, run.id)
    run.finished_at, run.computed = now, written
    db.session.commit()
    return {"months_whole": sorted(m.isoformat() for m in whole), "computed": written,
            "changed_months": len([m for m in changed if m not in whole])}


# --- reading --------------------------------------------------------------------------------------------------


def latest_month(scope: Any) -> date | None:
    """The newest month with a stored index for the schools satisfying ``scope`` (a condition on School)."""
    return db.session.scalar(sa.select(sa.func.max(RiskIndex.month)).join(School, School.id == RiskIndex.school_id)
                             .where(scope))


def _summary(row: RiskIndex, name: str) -> dict[str, Any]:
    return {"school_id": row.school_id, "school_name": name, "month": row.month.isoformat()[:7],
            "score": row.score, "rating": row.rating, "rating_label": index_formula.RATING_LABELS[row.rating],
            "as_of": shanghai_iso(row.as_of)}


def region_ranking(region: Region, month: date | None) -> dict[str, Any]:
    """The region's (and its sub-regions') schools by index, best first, for ``month`` (None: the newest)."""
    scope = School.region_id.in_(sa.select(Region.id).where(Region.path.startswith(region.path)))
    month = month or latest_month(scope)
    rows = [] if month is None else db.session.execute(
        sa.select(RiskIndex, School.name).join(School, School.id == RiskIndex.school_id)
        .where(scope, RiskIndex.month == month)
        .order_by(RiskIndex.score.desc(), RiskIndex.school_id)).all()
    schools = [{"rank": rank, **_summary(row, name)} for rank, (row, name) in enumerate(rows, start=1)]
    ratings = {r["rating"]: 0 for r in index_formula.RATINGS}
    for item in schools:
        ratings[item["rating"]] += 1
    return {"region_id": region.id, "region_name": region.name, "month": month.isoformat()[:7] if month else None,
            "schools": schools, "ratings": ratings, "criteria": index_formula.criteria()}


def school_index(school: School, month: date | None, months: int = 12) -> dict[str, Any]:
    """A school's index of ``month`` (None: the newest) with every component, its rank in its region, and its
    last ``months`` scores."""
    scope = School.id == school.id
    month = month or latest_month(scope)
    row = None if month is None else db.session.scalar(
        sa.select(RiskIndex).where(RiskIndex.school_id == school.id, RiskIndex.month == month))
    history = db.session.execute(sa.select(RiskIndex.month, RiskIndex.score, RiskIndex.rating)
                                 .where(RiskIndex.school_id == school.id)
                                 .order_by(RiskIndex.month.desc()).limit(months)).all()
    place = None if row is None else region_rank(school, month)
    return {"school_id": school.id, "school_name": school.name,
            "month": month.isoformat()[:7] if month else None,
            "index": None if row is None else present(row, school.name),
            "region_rank": None if place is None else {"rank": place[0], "of": place[1]},
            "history": [{"month": m.isoformat()[:7], "score": s, "rating": r,
                         "rating_label": index_formula.RATING_LABELS[r]} for m, s, r in reversed(history)],
            "criteria": index_formula.criteria()}


def present(row: RiskIndex, name: str) -> dict[str, Any]:
    """A stored index with its components, as recomputed from the stored inputs."""
    inputs = {key: getattr(row, key) for key in index_formula.INPUTS}
    return {**_summary(row, name), "computed_at": shanghai_iso(row.computed_at),
            "components": [{"name": key, **part} for key, part in index_formula.components(inputs).items()]}


def region_rank(school: School, month: date) -> tuple[int, int] | None:
    """The school's place among the schools of its own region for ``month``, and how many are ranked."""
    score = db.session.scalar(sa.select(RiskIndex.score).where(RiskIndex.school_id == school.id,
                                                               RiskIndex.month == month))
    if score is None:
        return None
    peers = (sa.select(sa.func.count()).select_from(RiskIndex).join(School, School.id == RiskIndex.school_id)
             .where(School.region_id == school.region_id, RiskIndex.month == month))
    better = db.session.scalar(peers.where(sa.or_(RiskIndex.score > score, sa.and_(
        RiskIndex.score == score, RiskIndex.school_id < school.id))))
    return better + 1, db.session.scalar(peers)


def public_index(school: School, now: datetime) -> dict[str, Any] | None:
    """What parents see: the index of the newest finished month (the running one only before any month
    finished), its score, rating and each component's deduction (no counts: those would tell of problems the
    school does not publish), with the published criteria."""
    months = sa.select(sa.func.max(RiskIndex.month)).where(RiskIndex.school_id == school.id)
    month = db.session.scalar(months.where(RiskIndex.month < month_of(now))) or db.session.scalar(months)
    row = None if month is None else db.session.scalar(
        sa.select(RiskIndex).where(RiskIndex.school_id == school.id, RiskIndex.month == month))
    if row is None:
        return None
    shown = present(row, school.name)
    return {**{key: shown[key] for key in ("month", "score", "rating", "rating_label", "as_of")},
            "components": [{key: part[key] for key in ("name", "label", "cap", "deduction")}
                           for part in shown["components"]],
            "criteria": index_formula.criteria()}
