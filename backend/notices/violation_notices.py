"""Which notices each violation event produces, for whom, saying what.

- a new violation: school food-safety staff and canteen managers, and the parents' committee when the
  school publishes that kind; for a class-1 or class-2 problem (``backend/risk/classes.py``) also the
  region's inspectors, in the same transaction, so both hear of it at the same moment (双推送). Every notice
  of a violation carries its ``risk_class`` in the payload: the dispatcher (and any channel added beside the
  inbox and WeChat) chooses how to reach a person from it, never from the recipient list;
- a rectification submitted: its reviewer (the principal, or the region's regulators for escalated
  violations and inspection findings);
- a verdict or a dismissal: staff and managers, and the committee for published kinds;
- an escalation: level 1 the principal, level 2 the region's regulators (and the principal), plus the
  committee for every escalation.
- an AI alarm is held from the committee until a reviewer confirms or escalates it
  (``backend.violations.alarm_visibility``): staff hear of it at once, the committee at the verdict
  (:func:`notify_released`), and never of an alarm marked false positive;
- any change of a reported problem (source ``report``): its reporter, in words a parent may read (no names,
  no reasons, no evidence), unless the reporter works in the school's kitchen or office and hears already.
The actor of a change is never notified of their own action.
"""

from __future__ import annotations

from datetime import datetime

from backend.accounts.models import Role
from backend.extensions import db
from backend.notices.models import SubjectType
from backend.notices.outbox import NoticeDraft, enqueue
from backend.notices.recipients import is_published, regional_regulators, school_members
from backend.permissions import Action, roles_allowed
from backend.schools.models import Camera, Canteen, School
from backend.timeutil import to_shanghai, utcnow
from backend.violations.alarm_visibility import is_public
from backend.violations.models import REGULATOR_SOURCES, Violation, ViolationSource

# The people told to act on a violation are those who may rectify it.
RESPONSIBLE_ROLES = roles_allowed(Action.VIOLATION_RECTIFY)
DETAIL_PAGE = "pages/violations/detail/index?id={id}"
# A parent may not open the violation's page: the reporter's notice opens 我反映的问题, which shows the report
# as its reporter may see it (GET /me/reports).
REPORT_PAGE = "pages/violations/reports/index?id={id}"
# What the reporter is told for each change: (progress, ≤5 characters for the template; the sentence).
REPORTER_UPDATES: dict[str, tuple[str, str]] = {
    "start": ("整改中", "学校已开始整改"),
    "submit": ("待复核", "学校已提交整改情况，等待复核"),
    "accept": ("已整改", "整改已通过复核，问题已办结"),
    "reject": ("重新整改", "整改未通过复核，学校正在重新整改"),
    "dismiss": ("已撤销", "经学校核实，该问题已撤销"),
    "escalate": ("逾期督办", "未按期整改，已升级督办"),
}
REGULATOR_LEVEL = 2
LEVEL_LABELS = {1: "校长督办", 2: "监管督办"}


def reviewer_is_regulator(violation: Violation) -> bool:
    """Escalated violations and what regulators found (inspections, patrols) are reviewed by the regulator, others
    by the principal."""
    return violation.escalation_level >= REGULATOR_LEVEL or violation.source in REGULATOR_SOURCES


def _local(value: datetime) -> str:
    return to_shanghai(value).strftime("%m月%d日 %H:%M")


def location_of(violation: Violation) -> str:
    """Canteen and camera, as people in the school name them."""
    canteen = db.session.get(Canteen, violation.canteen_id)
    parts = [canteen.name if canteen else ""]
    if violation.camera_id is not None:
        camera = db.session.get(Camera, violation.camera_id)
        if camera is not None:
            parts.append(camera.name)
    return "·".join(p for p in parts if p) or "食堂"


def _committee(violation: Violation) -> set[int]:
    """The committee, unless the violation is an AI alarm held from parents (the one rule for every notice)."""
    return school_members(violation.school_id, [Role.COMMITTEE]) if is_public(violation) else set()


def _committee_if_published(violation: Violation) -> set[int]:
    if is_published(violation.school_id, violation.kind):
        return _committee(violation)
    return set()


def _draft(violation: Violation, purpose: str, template: str, title: str, body: str,
           payload: dict[str, str]) -> NoticeDraft:
    return NoticeDraft(subject_type=SubjectType.VIOLATION, subject_id=violation.id, school_id=violation.school_id,
                       purpose=purpose, template=template, title=title, body=body,
                       payload={**payload, "risk_class": violation.risk_class},
                       page=DETAIL_PAGE.format(id=violation.id))


def _created(violation: Violation, users: set[int], now: datetime) -> None:
    school = db.session.get(School, violation.school_id)
    location = location_of(violation)
    body = (f"{school.name}{location}发现“{violation.title}”，请于{_local(violation.due_at)}前完成整改并提交整改情况。")
    draft = _draft(violation, "violation_created", "violation", f"发现问题：{violation.title}", body, {
        "school": school.name, "problem": violation.title, "location": location,
        "occurred_at": violation.occurred_at.isoformat(), "due_at": violation.due_at.isoformat()})
    # The same key as at creation: whoever was told then is not told twice.
    enqueue(draft, users, f"violation:{violation.id}:open", now, exclude=violation.created_by_id)


def inspectors_told_at_once(violation: Violation, school: School) -> set[int]:
    """The region's inspectors when the violation's class tells them at once (classes 1 and 2), else nobody."""
    from backend.risk.classes import policy_of

    return regional_regulators(school) if policy_of(violation.risk_class).regulator_at_once else set()


def notify_created(violation: Violation) -> None:
    """Notices of a new violation: called inside the transaction that creates the violation."""
    users = (school_members(violation.school_id, RESPONSIBLE_ROLES) | _committee_if_published(violation)
             | inspectors_told_at_once(violation, db.session.get(School, violation.school_id)))
    _created(violation, users, violation.created_at or utcnow())


def notify_released(violation: Violation, now: datetime) -> None:
    """An AI alarm was confirmed or escalated: the committee now hears of it as staff did at creation."""
    _created(violation, _committee_if_published(violation), now)


def _progress(violation: Violation, event_id: int, purpose: str, progress: str, remark: str, body: str,
              users: set[int], actor_id: int | None, now: datetime) -> None:
    draft = _draft(violation, purpose, "progress", f"{progress}：{violation.title}", body, {
        "problem": violation.title, "progress": progress, "remark": remark, "at": now.isoformat()})
    enqueue(draft, users, f"violation:{violation.id}:event:{event_id}", now, exclude=actor_id)


def notify_submitted(violation: Violation, event_id: int, measures: str, actor_id: int, now: datetime) -> None:
    """A rectification awaits review."""
    if reviewer_is_regulator(violation):
        reviewers = regional_regulators(db.session.get(School, violation.school_id))
    else:
        reviewers = school_members(violation.school_id, roles_allowed(Action.VIOLATION_REVIEW))
    _progress(violation, event_id, "rectification_submitted", "待复核", measures,
              f"“{violation.title}”已提交整改情况，请复核。整改措施：{measures}", reviewers, actor_id, now)


def notify_reviewed(violation: Violation, event_id: int, accepted: bool, reason: str | None, actor_id: int,
                    now: datetime) -> None:
    """The reviewer accepted (closed) or rejected a rectification."""
    users = school_members(violation.school_id, RESPONSIBLE_ROLES)
    if accepted:
        users |= _committee_if_published(violation)
        _progress(violation, event_id, "rectification_accepted", "已整改", reason or "整改已通过复核",
                  f"“{violation.title}”的整改已通过复核，问题已办结。", users, actor_id, now)
    else:
        _progress(violation, event_id, "rectification_rejected", "已驳回", reason or "",
                  f"“{violation.title}”的整改未通过复核，请重新整改。原因：{reason}", users, actor_id, now)


def notify_dismissed(violation: Violation, event_id: int, reason: str, actor_id: int, now: datetime) -> None:
    """A violation was withdrawn as a false alarm."""
    users = school_members(violation.school_id, RESPONSIBLE_ROLES) | _committee_if_published(violation)
    _progress(violation, event_id, "violation_dismissed", "已撤销", reason,
              f"“{violation.title}”经核实已撤销。原因：{reason}", users, actor_id, now)


def notify_escalated(violation: Violation, level: int, now: datetime, *, reviewed: bool = False,
                     cause: str | None = None) -> None:
    """A violation went up a level: overdue, (``reviewed``) an AI alarm a reviewer escalated, or ``cause`` (why,
    in the notice's words: the principal handed it over)."""
    school = db.session.get(School, violation.school_id)
    users = school_members(violation.school_id, [Role.PRINCIPAL]) | _committee(violation)
    if level >= REGULATOR_LEVEL:
        users |= regional_regulators(school)
        cause = cause or ("经告警审核" if reviewed else f"逾期未整改（期限{_local(violation.due_at)}），")
        body = f"{school.name}“{violation.title}”{cause}已升级至监管部门督办。"
    else:
        body = f"{school.name}“{violation.title}”逾期未整改（期限{_local(violation.due_at)}），请校长督办。"
    draft = _draft(violation, "violation_escalated", "escalation", f"逾期督办：{violation.title}", body, {
        "school": school.name, "problem": violation.title, "due_at": violation.due_at.isoformat(),
        "level": LEVEL_LABELS[min(level, REGULATOR_LEVEL)]})
    enqueue(draft, users, f"violation:{violation.id}:escalate:{level}", now)


def notify_reporter(violation: Violation, event_id: int, action: str, actor_id: int | None, now: datetime) -> None:
    """Tell whoever reported a problem that it moved on (inside the transaction of the change)."""
    reporter = violation.created_by_id
    if violation.source != ViolationSource.REPORT or reporter is None or action not in REPORTER_UPDATES:
        return
    if reporter in school_members(violation.school_id, [Role.PRINCIPAL, *RESPONSIBLE_ROLES]):
        return  # the school's own people follow it through the violation lists and their own notices
    progress, sentence = REPORTER_UPDATES[action]
    draft = NoticeDraft(subject_type=SubjectType.VIOLATION, subject_id=violation.id, school_id=violation.school_id,
                        purpose="report_progress", template="progress", title=f"{progress}：{violation.title}",
                        body=f"您反映的问题“{violation.title}”{sentence}。", page=REPORT_PAGE.format(id=violation.id),
                        payload={"problem": violation.title, "progress": progress, "remark": sentence,
                                 "at": now.isoformat()})
    enqueue(draft, [reporter], f"violation:{violation.id}:report:{event_id}", now, exclude=actor_id)
