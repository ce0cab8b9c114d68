"""Counts of a period's violations (the cohort) grouped several ways, read in one statement.

The cohort (violations of a scope found in a period) is selected once, as a common table expression, and
each grouping the figures need is a branch of one ``UNION ALL``: by kind, by source, by local day found,
and for the 总览 also by school (the ten with the most still open) and by the school's region. At province
scale the scan of the period is what costs, so it is paid once per request instead of once per grouping.
Every row carries the same counts: found, closed, closed as rectified, overdue.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Date, String, and_, case, cast, func, literal, select, union_all

from backend.extensions import db
from backend.schools.models import School
from backend.violations.models import Resolution, Violation, ViolationStatus

RANKING_SIZE = 10
BASIC = ("kind", "source", "day")
WITH_PLACES = (*BASIC, "school", "region")


def local_day(column: Any) -> Any:
    """The Asia/Shanghai calendar day of a UTC timestamp column (China has no DST): a date on PostgreSQL (cheaper
    to group than text), 'YYYY-MM-DD' on SQLite; ``str()`` of either is the ISO day."""
    if db.session.get_bind().dialect.name == "postgresql":
        return cast(func.timezone("Asia/Shanghai", column), Date)
    return func.strftime("%Y-%m-%d", column, "+8 hours")


def _flag(condition: ColumnElement[bool]) -> Any:
    return case((condition, 1), else_=0)


def counts_statement(condition: ColumnElement[bool], overdue: ColumnElement[bool], parts: tuple[str, ...]) -> Any:
    """The one statement of ``grouped_counts``."""
    closed = Violation.status == ViolationStatus.CLOSED
    places = "school" in parts or "region" in parts
    columns = [Violation.kind.label("kind"), Violation.source.label("source"),
               local_day(Violation.created_at).label("day"), Violation.school_id.label("school"),
               _flag(closed).label("closed"), _flag(and_(closed, Violation.resolution == Resolution.RECTIFIED))
               .label("rectified"), _flag(overdue).label("overdue")]
    source = select(*columns, *([School.region_id.label("region")] if places else []))
    if places:
        source = source.join(School, School.id == Violation.school_id)
    cohort = source.where(condition).cte("cohort")

    def branch(part: str) -> Any:
        key = cohort.c[part]
        found = func.count()
        query = select(literal(part).label("part"), cast(key, String).label("key"), found.label("found"),
                       func.sum(cohort.c.closed).label("closed"), func.sum(cohort.c.rectified).label("rectified"),
                       func.sum(cohort.c.overdue).label("overdue")).group_by(key)
        if part == "school":
            query = query.order_by((found - func.sum(cohort.c.closed)).desc(), found.desc(), key).limit(RANKING_SIZE)
        return select(query.subquery())

    return union_all(*[branch(part) for part in parts])


def grouped_counts(condition: ColumnElement[bool], overdue: ColumnElement[bool],
                   parts: tuple[str, ...] = BASIC) -> dict[str, list[Any]]:
    """Rows (key, found, closed, rectified, overdue) of each asked-for part, from one statement.

    ``condition`` selects the cohort; ``overdue`` says which of them are overdue now; ``school`` is the top
    of the ranking (most open, then most found), ``region`` groups by the region a school is attached to.
    """
    result: dict[str, list[Any]] = {part: [] for part in parts}
    for row in db.session.execute(counts_statement(condition, overdue, parts)):
        result[row.part].append(row)
    return result


def bucket(found: int, closed: int, rectified: int, overdue: int) -> dict[str, int]:
    """The figures of one group: found, rectified, dismissed, in progress, overdue."""
    return {"found": found, "rectified": rectified, "dismissed": closed - rectified, "in_progress": found - closed,
            "overdue": overdue}


def rate(figures: dict[str, int]) -> float | None:
    """Rectified / (found − dismissed), null when nothing counts."""
    countable = figures["found"] - figures["dismissed"]
    return round(figures["rectified"] / countable, 4) if countable else None


def buckets(rows: list[Any], key: Callable[[str], Any] = str) -> dict[Any, dict[str, int]]:
    """Each row's figures by its key."""
    return {key(r.key): bucket(r.found, int(r.closed or 0), int(r.rectified or 0), int(r.overdue or 0))
            for r in rows}


def days_of(date_from: date, date_to: date) -> list[str]:
    """Every local day of a period, as 'YYYY-MM-DD'."""
    return [date.fromordinal(d).isoformat() for d in range(date_from.toordinal(), date_to.toordinal() + 1)]

