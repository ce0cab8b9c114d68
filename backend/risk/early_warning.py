"""Early warning (预警, 变报警为预警): rules that flag rising risk before it becomes a violation.

Each rule reads the whole platform in a fixed number of statements and returns :class:`Finding` s: a kind, the
fact it is about (a canteen's records, a certificate, a canteen and violation kind, a school), the reason in
Chinese and the data behind it (numbers and ids a regulator can check). The limits are the region's
(``classes.warning_limits``: its own, else the nearest ancestor's, else the default), set by its regulators
through the risk settings (``settings.py``, audited).

=========================== ===============================================================================
kind                        raised when (defaults)
=========================== ===============================================================================
records_completeness        a canteen's share of complete days (no required record missing, the 总览's and
                            未报送's rules) over the last 7 days is below 80 %, or 20 points below the 7 days
                            before (at least 3 days owing records in the window)
supplier_certificate        a supplier the canteen buys from (received from or registered within 90 days)
                            has its newest licence of a kind ending within 30 days (or ended)
health_certificate          an active staff member's newest health certificate ends within 30 days (or has
                            ended, or there is none)
repeated_violation          one canteen had 3 violations of one kind in 30 days (false alarms left out)
camera_uptime               a school's camera uptime over the last 7 days is below 95 %
rectification_drift         a school has problems still owed a fix past 50 % of their rectification time
late_rectifications         of the school's problems due in the last 30 days (at least 3), 30 % or more were
                            rectified late or not at all, more than in the 30 days before
=========================== ===============================================================================

Job ``risk.warnings`` (nightly, :func:`compute_warnings`) stores them (``RiskWarning``). A warning's unique
key is kind, fact and the Shanghai day its episode began: while the fact holds, later runs refresh the same
row (reason, data, ``seen_at``); when it no longer holds, the row is resolved; a return is a new warning.
Raising and refreshing commit in batches and the resolution only after every finding is stored, so a run
killed at any moment loses nothing (the next run redoes what was not committed) and duplicates nothing (the
key, and the open warning of a kind and fact being refreshed rather than raised again).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from backend.extensions import db
from backend.monitoring.camera_uptime import school_uptimes
from backend.records.completeness import missing_text, owed_records_days, present_missing
from backend.records.meal_windows import shanghai_today
from backend.records.models import (
    CERTIFICATE_LABELS,
    ReceivingRecord,
    RecordEntry,
    RecordKind,
    StaffMember,
    Supplier,
)
from backend.records.staff import newest_valid_until
from backend.records.supplier_certificates import newest_certificates
from backend.records.versions import is_current, logical_id
from backend.risk.classes import largest_limit, warning_limits
from backend.risk.models import RiskWarning, WarningKind
from backend.schools.models import Canteen, Region, School
from backend.timeutil import as_utc, shanghai_iso, to_shanghai
from backend.violations.models import ACTIVE_STATUSES, KIND_LABELS, Rectification, Resolution, Violation

WEEK = 7
MIN_OWED_DAYS = 3        # fewer days owing records than this say nothing about a trend
LATE_WINDOW_DAYS = 30
MIN_LATE_CASES = 3
LISTED = 50              # ids kept in a warning's data
BATCH = 1000             # findings stored per transaction (three statements)
SUPPLIER_IN_USE_DAYS = 90  # a supplier received from (or registered) within these days is one the canteen uses


@dataclass(frozen=True)
class Finding:
    """What a rule found: the warning's kind, its fact, where, why (Chinese) and the figures behind it."""

    kind: str
    fact: str
    school_id: int
    canteen_id: int | None
    reason: str
    data: dict[str, Any]


class RegionLimits:
    """Each school's effective limits, read once per region."""

    def __init__(self) -> None:
        self._paths = dict(db.session.execute(select(School.id, Region.path)
                                              .join(Region, Region.id == School.region_id)).all())
        self._by_path: dict[str, dict[str, int]] = {}

    def of(self, school_id: int) -> dict[str, int]:
        """The limits of the school's region: name → value."""
        path = self._paths.get(school_id, "")
        if path not in self._by_path:
            self._by_path[path] = {name: s.value for name, s in warning_limits(path).items()}
        return self._by_path[path]


def _all_schools(column: Any) -> Any:
    return column.is_not(None)


def _day(value: date) -> str:
    return f"{value.month}月{value.day}日"


def _percent(part: int, whole: int) -> int:
    return round(100 * part / whole)


# ---- records completeness -------------------------------------------------------------------------------------

def _owed_days(now: datetime) -> tuple[dict[int, Canteen], dict[int, dict[date, list[str]]]]:
    """Per canteen, each of the last 14 days it owed records: what it was missing ([] when complete)."""
    today = shanghai_today(now)
    canteens: dict[int, Canteen] = {}
    owed: dict[int, dict[date, list[str]]] = defaultdict(dict)
    days = [today - timedelta(days=back) for back in range(2 * WEEK, 0, -1)]
    for day, rows in sorted(owed_records_days(_all_schools, days, now).items()):
        for canteen, owes, missing in rows:
            canteens[canteen.id] = canteen
            if owes:
                owed[canteen.id][day] = [missing_text(present_missing(m)) for m in missing]
    return canteens, owed


def completeness_findings(now: datetime, limits: RegionLimits) -> list[Finding]:
    """Canteens whose records completeness over the last 7 days is low or falling."""
    today = shanghai_today(now)
    start = today - timedelta(days=WEEK)
    canteens, owed = _owed_days(now)
    found = []
    for canteen_id, days in sorted(owed.items()):
        canteen = canteens[canteen_id]
        recent = {d: m for d, m in days.items() if d >= start}
        previous = {d: m for d, m in days.items() if d < start}
        if len(recent) < MIN_OWED_DAYS:
            continue
        complete = sum(1 for m in recent.values() if not m)
        percent = _percent(complete, len(recent))
        before = (_percent(sum(1 for m in previous.values() if not m), len(previous))
                  if len(previous) >= MIN_OWED_DAYS else None)
        limit = limits.of(canteen.school_id)
        low = percent < limit["completeness_min_percent"]
        falling = before is not None and before - percent >= limit["completeness_drop_points"]
        if not (low or falling):
            continue
        reason = (f"{canteen.name}近7天（{_day(start)}–{_day(today - timedelta(days=1))}）应报送台账 {len(recent)} 天，"
                  f"完整 {complete} 天，完整率 {percent}%")
        if low:
            reason += f"，低于预警线 {limit['completeness_min_percent']}%"
        if falling:
            reason += f"，较前7天（{before}%）下降 {before - percent} 个百分点"
        found.append(Finding(
            WarningKind.RECORDS_COMPLETENESS, f"canteen:{canteen_id}", canteen.school_id, canteen_id, reason + "。",
            {"from": start.isoformat(), "to": (today - timedelta(days=1)).isoformat(), "owed_days": len(recent),
             "complete_days": complete, "percent": percent, "previous_percent": before,
             "limit_percent": limit["completeness_min_percent"], "drop_limit_points": limit["completeness_drop_points"],
             "missing_days": [{"date": d.isoformat(), "missing": m} for d, m in sorted(recent.items()) if m]}))
    return found


# ---- certificates ---------------------------------------------------------------------------------------------

def _validity(until: date | None, today: date) -> tuple[str, int | None]:
    if until is None:
        return "未登记", None
    left = (until - today).days
    if left < 0:
        return f"已于 {until.isoformat()} 过期 {-left} 天", left
    return f"将于 {until.isoformat()} 到期（还剩 {left} 天）", left


def _supplier_advice(days_left: int | None) -> str:
    """What the canteen does about a supplier's licence: renew it in time, or buy nothing more until it is renewed
    (a licence checked at each delivery, Food Safety Law art. 50)."""
    return "证照更新前不得继续向其采购" if days_left is not None and days_left < 0 else "请督促供应商及时更新证照"


def _health_advice(validity: str, days_left: int | None) -> str:
    """The sentence about a person's health certificate: only someone holding a valid one works with food that
    goes straight into the mouth (Food Safety Law art. 45), so a missing or lapsed one takes them off it now,
    and one about to lapse wants the yearly check-up booked."""
    if days_left is None:
        return "未登记健康证，取得健康证明前不得从事接触直接入口食品的工作"
    if days_left < 0:
        return f"的健康证{validity}，应立即调离接触直接入口食品的岗位，取得新的健康证明后方可上岗"
    return f"的健康证{validity}，请尽快安排健康检查；到期后不得从事接触直接入口食品的工作"


def suppliers_bought_from(today: date) -> set[int]:
    """Supplier record ids the canteens buy from: a current receiving of theirs dated within the last
    :data:`SUPPLIER_IN_USE_DAYS` days, or a supplier registered within those days.

    There is no "active" flag on a supplier (records are append-only, a canteen that stops buying from one leaves
    its record as it is), so what the canteen does decides: recent deliveries. A supplier registered lately
    counts too, since its first delivery is still to come and would be refused at the door with a lapsed
    licence. 90 days span a summer holiday, so the suppliers of a school closed over the summer still count
    when it reopens.
    """
    since = today - timedelta(days=SUPPLIER_IN_USE_DAYS)
    received = set(db.session.scalars(
        select(ReceivingRecord.supplier_id).join(RecordEntry, RecordEntry.id == ReceivingRecord.entry_id)
        .where(is_current(), RecordEntry.kind == RecordKind.RECEIVING, RecordEntry.record_date >= since)
        .distinct()))
    registered = set(db.session.scalars(
        select(RecordEntry.id).where(RecordEntry.kind == RecordKind.SUPPLIER, RecordEntry.root_id.is_(None),
                                     RecordEntry.record_date >= since)))
    return received | registered


def supplier_certificate_findings(now: datetime, limits: RegionLimits) -> list[Finding]:
    """Suppliers a canteen buys from (:func:`suppliers_bought_from`) whose newest licence of a kind ends within
    the notice days (or has ended). A supplier the canteen no longer uses warns no one: its licence is not the
    canteen's risk any more."""
    today = shanghai_today(now)
    bought_from = suppliers_bought_from(today)
    suppliers = {supplier_id: (canteen_id, school_id, name) for supplier_id, canteen_id, school_id, name in
                 db.session.execute(select(logical_id(), RecordEntry.canteen_id, Canteen.school_id, Supplier.name)
                                    .join(Supplier, Supplier.entry_id == RecordEntry.id)
                                    .join(Canteen, Canteen.id == RecordEntry.canteen_id)
                                    .where(is_current(), RecordEntry.kind == RecordKind.SUPPLIER))
                 if supplier_id in bought_from}
    found = []
    for (supplier_id, kind), until in sorted(newest_certificates(set(suppliers)).items()):
        canteen_id, school_id, name = suppliers[supplier_id]
        notice = limits.of(school_id)["certificate_notice_days"]
        if until > today + timedelta(days=notice):
            continue
        label = CERTIFICATE_LABELS.get(kind, kind)
        text, left = _validity(until, today)
        found.append(Finding(
            WarningKind.SUPPLIER_CERTIFICATE, f"supplier:{supplier_id}:{kind}:{until.isoformat()}", school_id,
            canteen_id, f"供应商「{name}」的{label}{text}，{_supplier_advice(left)}（提前 {notice} 天预警）。",
            {"supplier_id": supplier_id, "supplier_name": name, "certificate_kind": kind, "certificate_label": label,
             "valid_until": until.isoformat(), "days_left": left, "notice_days": notice}))
    return found


def health_certificate_findings(now: datetime, limits: RegionLimits) -> list[Finding]:
    """Active staff whose newest health certificate ends within the notice days, has ended, or is missing."""
    today = shanghai_today(now)
    people = (select(logical_id(), RecordEntry.canteen_id, Canteen.school_id, StaffMember.name, StaffMember.post)
              .join(StaffMember, StaffMember.entry_id == RecordEntry.id)
              .join(Canteen, Canteen.id == RecordEntry.canteen_id)
              .where(is_current(), RecordEntry.kind == RecordKind.STAFF, StaffMember.active.is_(True)))
    staff = {staff_id: (canteen_id, school_id, name, post)
             for staff_id, canteen_id, school_id, name, post in db.session.execute(people)}
    valid_until = newest_valid_until(people.with_only_columns(logical_id()))
    found = []
    for staff_id, (canteen_id, school_id, name, post) in sorted(staff.items()):
        until = valid_until.get(staff_id)
        notice = limits.of(school_id)["certificate_notice_days"]
        if until is not None and until > today + timedelta(days=notice):
            continue
        text, left = _validity(until, today)
        found.append(Finding(
            WarningKind.HEALTH_CERTIFICATE, f"staff:{staff_id}:{until.isoformat() if until else 'none'}", school_id,
            canteen_id, f"从业人员{name}（{post}，人员记录 {staff_id}）{_health_advice(text, left)}。",
            {"staff_id": staff_id, "name": name, "post": post, "valid_until": until.isoformat() if until else None,
             "days_left": left, "notice_days": notice}))
    return found


# ---- violations -----------------------------------------------------------------------------------------------

def _not_dismissed() -> Any:
    return or_(Violation.resolution.is_(None), Violation.resolution != Resolution.DISMISSED)


def repeated_violation_findings(now: datetime, limits: RegionLimits) -> list[Finding]:
    """A canteen where one kind of problem came back ``repeat_count`` times within ``repeat_days``."""
    since = now - timedelta(days=largest_limit("repeat_days"))
    groups: dict[tuple[int, str], list[tuple[int, int, datetime]]] = defaultdict(list)
    for vid, school_id, canteen_id, kind, created in db.session.execute(
            select(Violation.id, Violation.school_id, Violation.canteen_id, Violation.kind, Violation.created_at)
            .where(Violation.created_at >= since, _not_dismissed()).order_by(Violation.created_at, Violation.id)):
        groups[(canteen_id, kind)].append((vid, school_id, as_utc(created)))
    names = dict(db.session.execute(select(Canteen.id, Canteen.name).where(
        Canteen.id.in_({canteen_id for canteen_id, _ in groups}))).all()) if groups else {}
    found = []
    for (canteen_id, kind), rows in sorted(groups.items()):
        limit = limits.of(rows[0][1])
        days, count = limit["repeat_days"], limit["repeat_count"]
        inside = [(vid, at) for vid, _, at in rows if at >= now - timedelta(days=days)]
        if len(inside) < count:
            continue
        label = KIND_LABELS.get(kind, kind)
        found.append(Finding(
            WarningKind.REPEATED_VIOLATION, f"canteen:{canteen_id}:{kind}", rows[0][1], canteen_id,
            (f"{names.get(canteen_id, '')}近 {days} 天出现 {len(inside)} 次“{label}”（预警线 {count} 次），"
             "同类问题反复出现。"),
            {"kind": kind, "kind_label": label, "count": len(inside), "days": days, "limit_count": count,
             "violation_ids": [vid for vid, _ in inside][-LISTED:], "first_at": shanghai_iso(inside[0][1]),
             "last_at": shanghai_iso(inside[-1][1])}))
    return found


def camera_uptime_findings(now: datetime, limits: RegionLimits) -> list[Finding]:
    """Schools whose enabled cameras together were online less than the limit over the last 7 days."""
    found = []
    for school_id, figures in sorted(school_uptimes(_all_schools(School.id), now, (WEEK,)).items()):
        uptime, limit = figures["uptime_7d"], limits.of(school_id)["uptime_min_percent"]
        if uptime is None or uptime >= limit:
            continue
        found.append(Finding(
            WarningKind.CAMERA_UPTIME, f"school:{school_id}", school_id, None,
            f"近7天摄像头在线率 {uptime}%（{figures['cameras']} 路），低于预警线 {limit}%。",
            {"uptime_7d": uptime, "cameras": figures["cameras"], "limit_percent": limit}))
    return found


def rectification_drift_findings(now: datetime, limits: RegionLimits) -> list[Finding]:
    """Schools with problems still owed a fix past ``drift_percent`` of their rectification time."""
    drifting: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for vid, school_id, title, created, due in db.session.execute(
            select(Violation.id, Violation.school_id, Violation.title, Violation.created_at, Violation.due_at)
            .where(Violation.status.in_([s.value for s in ACTIVE_STATUSES]))
            .order_by(Violation.due_at, Violation.id)):
        created, due = as_utc(created), as_utc(due)
        total = (due - created).total_seconds()
        used = 100 if total <= 0 else round(100 * (now - created).total_seconds() / total)
        if used >= limits.of(school_id)["drift_percent"]:
            drifting[school_id].append({"violation_id": vid, "title": title, "due_at": shanghai_iso(due),
                                        "used_percent": used, "overdue": now >= due})
    found = []
    for school_id, items in sorted(drifting.items()):
        limit = limits.of(school_id)["drift_percent"]
        overdue = sum(1 for item in items if item["overdue"])
        reason = f"{len(items)} 项问题整改已用时超过期限的 {limit}% 仍未提交整改"
        reason += f"，其中 {overdue} 项已逾期。" if overdue else "。"
        found.append(Finding(WarningKind.RECTIFICATION_DRIFT, f"school:{school_id}", school_id, None, reason,
                             {"count": len(items), "overdue": overdue, "limit_percent": limit,
                              "violations": items[:LISTED]}))
    return found


def late_rectification_findings(now: datetime, limits: RegionLimits) -> list[Finding]:
    """Schools where the share of problems rectified late (or not at all) over the last 30 days reached the
    limit and rose against the 30 days before."""
    window = timedelta(days=LATE_WINDOW_DAYS)
    first = (select(Rectification.violation_id, func.min(Rectification.submitted_at).label("at"))
             .group_by(Rectification.violation_id).subquery())
    cases: dict[int, dict[str, list[int]]] = defaultdict(lambda: {"recent": [], "recent_late": [], "previous": [],
                                                                 "previous_late": []})
    for vid, school_id, due, submitted in db.session.execute(
            select(Violation.id, Violation.school_id, Violation.due_at, first.c.at)
            .outerjoin(first, first.c.violation_id == Violation.id)
            .where(Violation.due_at >= now - 2 * window, Violation.due_at < now, _not_dismissed())
            .order_by(Violation.due_at, Violation.id)):
        part = "recent" if as_utc(due) >= now - window else "previous"
        cases[school_id][part].append(vid)
        if submitted is None or as_utc(submitted) > as_utc(due):
            cases[school_id][f"{part}_late"].append(vid)
    found = []
    for school_id, ids in sorted(cases.items()):
        if len(ids["recent"]) < MIN_LATE_CASES:
            continue
        share = _percent(len(ids["recent_late"]), len(ids["recent"]))
        before = _percent(len(ids["previous_late"]), len(ids["previous"])) if ids["previous"] else None
        limit = limits.of(school_id)["late_share_percent"]
        if share < limit or (before is not None and share <= before):
            continue
        reason = (f"近30天到期的 {len(ids['recent'])} 项问题中 {len(ids['recent_late'])} 项未按期提交整改"
                  f"（{share}%），达到预警线 {limit}%")
        reason += f"，前30天为 {before}%。" if before is not None else "。"
        found.append(Finding(
            WarningKind.LATE_RECTIFICATIONS, f"school:{school_id}", school_id, None, reason,
            {"due": len(ids["recent"]), "late": len(ids["recent_late"]), "percent": share,
             "previous_due": len(ids["previous"]), "previous_percent": before, "limit_percent": limit,
             "late_violation_ids": ids["recent_late"][:LISTED]}))
    return found


RULES: dict[str, Callable[[datetime, RegionLimits], list[Finding]]] = {
    WarningKind.RECORDS_COMPLETENESS: completeness_findings,
    WarningKind.SUPPLIER_CERTIFICATE: supplier_certificate_findings,
    WarningKind.HEALTH_CERTIFICATE: health_certificate_findings,
    WarningKind.REPEATED_VIOLATION: repeated_violation_findings,
    WarningKind.CAMERA_UPTIME: camera_uptime_findings,
    WarningKind.RECTIFICATION_DRIFT: rectification_drift_findings,
    WarningKind.LATE_RECTIFICATIONS: late_rectification_findings,
}


# ---- the nightly job ------------------------------------------------------------------------------------------

def find_all(now: datetime) -> list[Finding]:
    """Every rule's findings at ``now``."""
    now = as_utc(now)
    limits = RegionLimits()
    return [finding for rule in RULES.values() for finding in rule(now, limits)]


def _raise(finding: Finding, day: date, now: datetime) -> dict[str, Any]:
    """The row of a warning to raise for a fact not open now (stored with its batch by :func:`_store`)."""
    return {"key": f"{finding.kind}:{finding.fact}:{day.isoformat()}", "kind": finding.kind, "fact": finding.fact,
            "school_id": finding.school_id, "canteen_id": finding.canteen_id, "raised_at": now,
            "reason": finding.reason, "data": finding.data, "seen_at": now}


def _store(raising: list[dict[str, Any]], seen: list[int], changed: list[dict[str, Any]], now: datetime) -> int:
    """One batch in three statements: insert the warnings to raise (a key resolved earlier today is reopened
    instead), mark the open ones still holding as seen, rewrite those whose reason or data changed. How many
    were new."""
    table = RiskWarning.__table__
    raised = 0
    if raising:
        insert = postgresql.insert if db.session.get_bind().dialect.name == "postgresql" else sqlite.insert
        inserted = set(db.session.scalars(insert(table).values(raising).on_conflict_do_nothing(
            index_elements=["key"]).returning(table.c.key)))
        raised = len(inserted)
        reopened = [row for row in raising if row["key"] not in inserted]
        if reopened:
            db.session.execute(
                update(table).where(table.c.key == bindparam("k"))
                .values(resolved_at=None, reason=bindparam("r"), data=bindparam("d"), seen_at=now),
                [{"k": row["key"], "r": row["reason"], "d": row["data"]} for row in reopened])
    if seen:
        db.session.execute(update(table).where(table.c.id.in_(seen)).values(seen_at=now))
    if changed:
        db.session.execute(update(table).where(table.c.id == bindparam("wid"))
                           .values(reason=bindparam("r"), data=bindparam("d")), changed)
    return raised


def compute_warnings(now: datetime) -> dict[str, int]:
    """Raise the warnings whose facts hold at ``now``, refresh the open ones that still hold, resolve the others;
    returns how many of each."""
    now = as_utc(now)
    day = to_shanghai(now).date()
    findings = find_all(now)
    open_rows = {(kind, fact): (wid, reason, data) for wid, kind, fact, reason, data in db.session.execute(
        select(RiskWarning.id, RiskWarning.kind, RiskWarning.fact, RiskWarning.reason, RiskWarning.data)
        .where(RiskWarning.resolved_at.is_(None)))}
    db.session.rollback()  # end the read: the writes below commit in batches
    raised = refreshed = 0
    raising: list[dict[str, Any]] = []
    seen: list[int] = []
    changed: list[dict[str, Any]] = []
    for index, finding in enumerate(findings, start=1):
        current = open_rows.pop((finding.kind, finding.fact), None)
        if current is None:
            raising.append(_raise(finding, day, now))
        else:
            wid, reason, data = current
            seen.append(wid)
            if (reason, data) != (finding.reason, finding.data):
                changed.append({"wid": wid, "r": finding.reason, "d": finding.data})
                refreshed += 1
        if index % BATCH == 0:
            raised += _store(raising, seen, changed, now)
            db.session.commit()
            raising, seen, changed = [], [], []
    raised += _store(raising, seen, changed, now)
    db.session.commit()
    stale = [wid for wid, _, _ in open_rows.values()]
    for start in range(0, len(stale), BATCH):
        db.session.execute(update(RiskWarning).where(RiskWarning.id.in_(stale[start:start + BATCH]),
                                                     RiskWarning.resolved_at.is_(None))
                           .values(resolved_at=now).execution_options(synchronize_session=False))
        db.session.commit()
    return {"findings": len(findings), "raised": raised, "refreshed": refreshed, "resolved": len(stale)}
