"""False alarms learn: per camera and kind, the share of reviewed AI alarms marked false positive, and the
confidence threshold that rises when most of them are false.

When, on one camera, the alarms of a kind raised since the last change of its threshold (and within the last
``FALSE_ALARM_WINDOW_DAYS``: an old verdict describes an old scene, and the job reads a bounded slice) have at least
``FALSE_ALARM_MIN_VERDICTS`` verdicts and ``FALSE_ALARM_LIMIT`` or more of them are false positives, the job
``camera.false_alarms`` (workers/infra/job_schedule.py) raises the kind's ``min_confidence`` in the camera's
tuning (``camera_monitor.tuning``, workers/camera/tuning.py) by ``FALSE_ALARM_STEP``, never above
``FALSE_ALARM_MAX_CONFIDENCE``. Each raise is a :class:`~backend.monitoring.models.CameraTuningChange` (the
verdicts that made it) and an audit row; an installer (the school's principal or food-safety staff) or an
admin reverts it (:func:`revert_change`). Verdicts are counted by when the alarm was *raised*: the alarms after
a change are the ones the new threshold judged, so the share after the change shows whether it helped.

Counting restarts at every change and every revert, so a run repeated on the same verdicts changes nothing,
and a revert is not undone by the same old verdicts.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, func, or_, select

from backend.audit.actions import AuditAction
from backend.audit.services import record_audit
from backend.errors import ApiError, not_found
from backend.extensions import db
from backend.monitoring.models import CameraMonitor, CameraTuningChange
from backend.permissions import Action, Principal, require
from backend.schools.models import Camera, Canteen, KitchenArea, School
from backend.timeutil import utcnow
from backend.violations.models import KIND_LABELS, AlarmReview, AlarmVerdict, Violation, ViolationSource

SETTING = "min_confidence"
REASON_FALSE_ALARMS = "false_alarms"
# The kinds a model's confidence decides (the camera's health kinds have no confidence).
LEARNING_KINDS: tuple[str, ...] = ("no_mask", "no_hat", "no_uniform", "smoking", "phone", "person_after_hours",
                                   "rodent")


@dataclass(frozen=True)
class Policy:
    """When a threshold rises, by how much and up to where (settings ``FALSE_ALARM_*``)."""

    limit: float = 0.5
    min_verdicts: int = 20
    step: float = 0.05
    ceiling: float = 0.9
    window_days: int = 30

    @classmethod
    def from_config(cls, config: Any) -> Policy:
        """The policy of the app's settings."""
        return cls(limit=float(config.get("FALSE_ALARM_LIMIT") or 0.5),
                   min_verdicts=int(config.get("FALSE_ALARM_MIN_VERDICTS") or 20),
                   step=float(config.get("FALSE_ALARM_STEP") or 0.05),
                   ceiling=float(config.get("FALSE_ALARM_MAX_CONFIDENCE") or 0.9),
                   window_days=int(config.get("FALSE_ALARM_WINDOW_DAYS") or 30))

    def as_dict(self) -> dict[str, Any]:
        """As the API shows it."""
        return {"limit": self.limit, "min_verdicts": self.min_verdicts, "step": self.step, "ceiling": self.ceiling,
                "window_days": self.window_days}

    def window_start(self, now: datetime) -> datetime:
        """The oldest alarm (by when it was raised) the judgement reads."""
        return now - timedelta(days=self.window_days)


def default_threshold(kind: str) -> float:
    """The confidence a kind needs before any tuning (the worker's rule defaults)."""
    from workers.camera.tuning import DEFAULT_RULES  # the worker's defaults, read where they are kept

    return DEFAULT_RULES[kind].min_confidence


def current_threshold(tuning: dict[str, Any] | None, kind: str) -> float:
    """The confidence a kind needs on a camera with this tuning."""
    value = ((tuning or {}).get("rules") or {}).get(kind, {}).get(SETTING)
    return float(value) if value is not None else default_threshold(kind)


def _with_threshold(tuning: dict[str, Any] | None, kind: str, value: float) -> dict[str, Any]:
    """A copy of ``tuning`` with the kind's threshold at ``value`` (the key dropped at the default)."""
    from workers.camera.tuning import validate_tuning

    tuning = {section: dict(values) for section, values in (tuning or {}).items()}
    rules = {k: dict(v) for k, v in (tuning.get("rules") or {}).items()}
    settings = rules.setdefault(kind, {})
    if abs(value - default_threshold(kind)) < 1e-9:
        settings.pop(SETTING, None)
    else:
        settings[SETTING] = round(value, 4)
    rules = {k: v for k, v in rules.items() if v}
    tuning.pop("rules", None)
    if rules:
        tuning["rules"] = rules
    return validate_tuning(tuning)


def _counting_since() -> Any:
    """Per camera and kind, when counting restarted: the latest change or revert."""
    since = func.max(func.coalesce(CameraTuningChange.reverted_at, CameraTuningChange.at)).label("since")
    return (select(CameraTuningChange.camera_id, CameraTuningChange.kind, since)
            .group_by(CameraTuningChange.camera_id, CameraTuningChange.kind).subquery())


def pending_counts(oldest: datetime, camera_ids: list[int] | None = None) -> dict[tuple[int, str], tuple[int, int]]:
    """(verdicts, false positives) of the alarms raised since counting last restarted (and not before
    ``oldest``), per (camera, kind)."""
    since = _counting_since()
    false = func.sum(case((AlarmReview.verdict == AlarmVerdict.FALSE_POSITIVE, 1), else_=0))
    query = (select(Violation.camera_id, Violation.kind, func.count().label("n"), false.label("fp"))
             .join(AlarmReview, AlarmReview.violation_id == Violation.id)
             .outerjoin(since, and_(since.c.camera_id == Violation.camera_id, since.c.kind == Violation.kind))
             .where(Violation.source == ViolationSource.AI, Violation.camera_id.is_not(None),
                    Violation.kind.in_(LEARNING_KINDS), Violation.occurred_at >= oldest,
                    or_(since.c.since.is_(None), Violation.occurred_at >= since.c.since))
             .group_by(Violation.camera_id, Violation.kind))
    if camera_ids is not None:
        query = query.where(Violation.camera_id.in_(camera_ids))
    return {(row.camera_id, row.kind): (int(row.n), int(row.fp or 0)) for row in db.session.execute(query)}


def _school_of_camera(camera_id: int) -> int:
    return db.session.scalar(select(Canteen.school_id).join(KitchenArea, KitchenArea.canteen_id == Canteen.id)
                             .join(Camera, Camera.area_id == KitchenArea.id).where(Camera.id == camera_id))


def _monitor(camera_id: int) -> CameraMonitor:
    monitor = db.session.get(CameraMonitor, camera_id)
    if monitor is None:  # a camera not sampled yet: its memory row, as the dispatcher would create it
        monitor = CameraMonitor(camera_id=camera_id, tuning={}, engine_state={}, rule_state={}, last_result={})
        db.session.add(monitor)
    return monitor


def apply_false_alarm_limits(now: datetime, policy: Policy) -> dict[str, int]:
    """Raise the threshold of every camera's kind whose alarms since the last change are mostly false."""
    raised = at_ceiling = 0
    for (camera_id, kind), (verdicts, false) in sorted(pending_counts(policy.window_start(now)).items()):
        if verdicts < policy.min_verdicts or false < policy.limit * verdicts:
            continue
        monitor = _monitor(camera_id)
        old = current_threshold(monitor.tuning, kind)
        new = round(min(old + policy.step, policy.ceiling), 4)
        if new <= old:
            at_ceiling += 1
            continue
        monitor.tuning = _with_threshold(monitor.tuning, kind, new)
        change = CameraTuningChange(camera_id=camera_id, kind=kind, setting=SETTING, old_value=old, new_value=new,
                                    reason=REASON_FALSE_ALARMS, verdicts=verdicts, false_positives=false, at=now)
        db.session.add(change)
        db.session.flush()
        record_audit(None, AuditAction.CAMERA_TUNING_RAISED, school_id=_school_of_camera(camera_id),
                     target=("camera", camera_id),
                     details={"change_id": change.id, "kind": kind, "setting": SETTING, "from": old, "to": new,
                              "verdicts": verdicts, "false_positives": false})
        raised += 1
    db.session.commit()
    return {"raised": raised, "at_ceiling": at_ceiling}


def revert_change(actor: Principal, camera_id: int, change_id: int, now: datetime | None = None) -> CameraTuningChange:
    """Take a raise back: the kind's threshold returns to what it was; the change is kept, marked reverted."""
    now = now or utcnow()
    change = db.session.get(CameraTuningChange, change_id)
    if change is None or change.camera_id != camera_id:
        raise not_found("调整记录")
    require(actor, Action.CAMERA_MANAGE, db.session.get(School, _school_of_camera(camera_id)))
    if change.reverted_at is not None:
        raise ApiError(409, "already_reverted", "该调整已撤销", {"reverted_at": change.reverted_at.isoformat()})
    latest = db.session.scalar(select(func.max(CameraTuningChange.id)).where(
        CameraTuningChange.camera_id == camera_id, CameraTuningChange.kind == change.kind))
    if latest != change.id:
        raise ApiError(409, "not_latest_change", "只能撤销该类告警最近的一次调整", {"latest_id": latest})
    monitor = _monitor(camera_id)
    monitor.tuning = _with_threshold(monitor.tuning, change.kind, change.old_value)
    change.reverted_at, change.reverted_by_id = now, actor.user_id
    record_audit(actor.user_id, AuditAction.CAMERA_TUNING_REVERTED, school_id=_school_of_camera(camera_id),
                 target=("camera", camera_id),
                 details={"change_id": change.id, "kind": change.kind, "setting": change.setting,
                          "from": change.new_value, "to": change.old_value})
    db.session.commit()
    return change


# -- what installers read ------------------------------------------------------------------------------------

def _share(verdicts: int, false: int) -> dict[str, Any]:
    return {"verdicts": verdicts, "false_positives": false,
            "share": round(false / verdicts, 4) if verdicts else None}


def _tally(alarms: list[tuple[datetime, bool]], start: datetime | None, end: datetime | None) -> dict[str, Any]:
    picked = [false for at, false in alarms if (start is None or at >= start) and (end is None or at < end)]
    return _share(len(picked), sum(picked))


def _change_view(change: CameraTuningChange, alarms: list[tuple[datetime, bool]], started: datetime | None,
                 ended: datetime | None) -> dict[str, Any]:
    """A change with the share of false alarms before it (since counting started) and after it (until it was
    reverted or the next change)."""
    return {"id": change.id, "setting": change.setting, "old_value": change.old_value,
            "new_value": change.new_value, "reason": change.reason, "at": change.at,
            "reverted_at": change.reverted_at, "reverted_by_id": change.reverted_by_id,
            "before": _tally(alarms, started, change.at),
            "after": _tally(alarms, change.at, change.reverted_at or ended)}


def false_alarm_view(school_id: int, policy: Policy, now: datetime) -> dict[str, Any]:
    """Per camera of a school and kind: the alarms' verdicts, the share of false ones, the threshold now and
    every change of it with the share before and after."""
    cameras = dict(db.session.execute(
        select(Camera.id, Camera.name).join(KitchenArea, Camera.area_id == KitchenArea.id)
        .join(Canteen, KitchenArea.canteen_id == Canteen.id).where(Canteen.school_id == school_id)).all())
    alarms: dict[tuple[int, str], list[tuple[datetime, bool]]] = defaultdict(list)
    for camera_id, kind, at, verdict in db.session.execute(
            select(Violation.camera_id, Violation.kind, Violation.occurred_at, AlarmReview.verdict)
            .join(AlarmReview, AlarmReview.violation_id == Violation.id)
            .where(Violation.school_id == school_id, Violation.source == ViolationSource.AI,
                   Violation.camera_id.in_(list(cameras)), Violation.kind.in_(LEARNING_KINDS))):
        alarms[(camera_id, kind)].append((at, verdict == AlarmVerdict.FALSE_POSITIVE))
    changes: dict[tuple[int, str], list[CameraTuningChange]] = defaultdict(list)
    for change in db.session.scalars(select(CameraTuningChange).where(CameraTuningChange.camera_id.in_(
            list(cameras))).order_by(CameraTuningChange.id)):
        changes[(change.camera_id, change.kind)].append(change)
    tunings = dict(db.session.execute(select(CameraMonitor.camera_id, CameraMonitor.tuning)
                                      .where(CameraMonitor.camera_id.in_(list(cameras)))).all())
    pending = pending_counts(policy.window_start(now), list(cameras))
    items = []
    for camera_id, kind in sorted(set(alarms) | set(changes)):
        seen, history = alarms[(camera_id, kind)], changes[(camera_id, kind)]
        views, started = [], None
        for index, change in enumerate(history):
            ended = history[index + 1].at if index + 1 < len(history) else None
            views.append(_change_view(change, seen, started, ended))
            started = change.reverted_at or change.at
        verdicts, false = pending.get((camera_id, kind), (0, 0))
        threshold = current_threshold(tunings.get(camera_id), kind)
        items.append({"camera_id": camera_id, "camera_name": cameras[camera_id], "kind": kind,
                      "kind_label": KIND_LABELS.get(kind), "all_time": _tally(seen, None, None),
                      "since_last_change": _share(verdicts, false), "min_confidence": threshold,
                      "default_min_confidence": default_threshold(kind),
                      "over_limit": verdicts >= policy.min_verdicts and false >= policy.limit * verdicts,
                      "changes": list(reversed(views))})
    return {"policy": policy.as_dict(), "items": items}


def revert_and_show(actor: Principal, camera_id: int, change_id: int, policy: Policy, now: datetime) -> dict[str, Any]:
    """Revert a raise (:func:`revert_change`) and answer the change as the view shows it now."""
    change = revert_change(actor, camera_id, change_id, now)
    kind = change.kind
    db.session.expire_all()
    view = false_alarm_view(_school_of_camera(camera_id), policy, now)
    item = next(i for i in view["items"] if i["camera_id"] == camera_id and i["kind"] == kind)
    return next(c for c in item["changes"] if c["id"] == change_id)
