"""Detection jobs: find the cameras due for a sample, and sample one camera.

``dispatch_due_cameras`` (a periodic job) claims one sample slot per due camera in the database and
submits ``sample_camera(camera_id, slot)``. A slot is ``floor(unix time / sampling interval)``: the
identity of one sample. ``sample_camera`` reads the camera's memory, captures and analyses outside any
transaction, then in ONE transaction bumps the memory's version (optimistic lock), records a health
change and raises the violations of completed events. A task killed before that commit is redone from the
same memory with the same slot time, so the same event gets the same idempotency key; a task redone after
the commit finds its slot done and does nothing.
"""

from __future__ import annotations

import logging
import math
import os
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from backend.extensions import db
from backend.integrations import media
from backend.live.services import sample_source
from backend.live.settings import live_settings
from backend.monitoring.models import CameraMonitor, HealthStatus
from backend.monitoring.services import record_health_change
from backend.schools.models import Camera, KitchenArea, SourceKind
from backend.timeutil import utcnow
from backend.violations import stats_cache
from backend.violations.models import KIND_LABELS
from backend.violations.services import raise_violation
from workers.camera import detection_rules
from workers.camera.camera_runtime import get_runtime
from workers.camera.capture import SourceSpec
from workers.camera.detection import CameraState
from workers.camera.processing import SampleOutcome, process_sample
from workers.camera.tuning import CameraSettings, TuningError, camera_settings

log = logging.getLogger(__name__)

# A claimed sample that has not finished after this long is given up and the next one is claimed.
STALE_AFTER_INTERVALS = 3
STALE_AFTER_MIN_SECONDS = 60
# File sources: each camera starts the loop at its own offset so demo cameras show different moments.
FILE_OFFSET_SECONDS = 17.0

PROBLEM_LABELS = {"offline": "无法获取画面", "frozen": "画面冻结", "blurred": "画面模糊",
                  "occluded": "画面被遮挡", "too_dark": "应有照明时画面全黑"}


def ensure_monitors(camera_ids: list[int]) -> None:
    """Create the memory row of cameras that have none (INSERT … ON CONFLICT DO NOTHING)."""
    if not camera_ids:
        return
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    now = utcnow()
    rows = [{"camera_id": cid, "tuning": {}, "engine_state": {}, "rule_state": {}, "last_result": {},
             "health_status": HealthStatus.UNKNOWN, "last_done_slot": -1, "last_enqueued_slot": -1,
             "version": 0, "updated_at": now} for cid in camera_ids]
    db.session.execute(insert(CameraMonitor).values(rows).on_conflict_do_nothing(index_elements=["camera_id"]))


def claim_due_samples(now: float | None = None) -> list[tuple[int, int]]:
    """Claim the current slot of every enabled camera that is due; returns (camera_id, slot) pairs.

    A camera is due when its current slot is newer than the last one claimed and the last claim finished
    (or is stale). The UPDATE … WHERE last_enqueued_slot < slot is the claim: two dispatchers running at
    once never claim the same slot.
    """
    now = time.time() if now is None else now
    cameras = db.session.execute(select(Camera.id, Camera.sampling_interval_seconds).where(Camera.enabled)).all()
    known = set(db.session.scalars(select(CameraMonitor.camera_id)))
    ensure_monitors([cid for cid, _ in cameras if cid not in known])
    by_interval: dict[int, list[int]] = defaultdict(list)
    for camera_id, interval in cameras:
        by_interval[max(1, int(interval or 5))].append(camera_id)
    claimed: list[tuple[int, int]] = []
    moment = datetime.fromtimestamp(now, UTC)
    for interval, ids in sorted(by_interval.items()):
        slot = math.floor(now / interval)
        stale = moment - timedelta(seconds=max(STALE_AFTER_MIN_SECONDS, STALE_AFTER_INTERVALS * interval))
        statement = (
            update(CameraMonitor)
            .where(CameraMonitor.camera_id.in_(ids), CameraMonitor.last_enqueued_slot < slot,
                   or_(CameraMonitor.last_done_slot >= CameraMonitor.last_enqueued_slot,
                       CameraMonitor.last_enqueued_at.is_(None),
                       and_(CameraMonitor.last_enqueued_at < stale)))
            .values(last_enqueued_slot=slot, last_enqueued_at=moment)
            .returning(CameraMonitor.camera_id)
            .execution_options(synchronize_session=False)
        )
        claimed.extend((cid, slot) for cid in db.session.scalars(statement).all())
    db.session.commit()
    return sorted(claimed)


def dispatch_due_cameras() -> dict[str, int]:
    """Periodic job: submit one sample task per due camera."""
    from workers.infra.executor import current_executor

    executor = current_executor()
    claimed = claim_due_samples()
    for camera_id, slot in claimed:
        executor.submit("detection.sample_camera", camera_id, slot)
    return {"submitted": len(claimed)}


@dataclass(frozen=True)
class _CameraView:
    """What a sample needs from the camera row, read before the long part (no transaction held)."""

    camera_id: int
    canteen_id: int
    interval: int
    spec: SourceSpec
    settings: CameraSettings


def _fault_pause(name: str) -> None:
    """Test hook: while WORKER_FAULT_DIR/pause exists, stop here (a test kills the worker meanwhile)."""
    from workers.infra.worker_app import config_value

    folder = config_value("WORKER_FAULT_DIR")
    if not folder:
        return
    pause = Path(folder) / "pause"
    if not pause.exists():
        return
    (Path(folder) / f"{name}.{os.getpid()}").write_text(str(time.time()))
    while pause.exists():
        time.sleep(0.05)


def camera_spec(camera: Camera, timeout: float) -> SourceSpec:
    """How a worker reads a camera: its own source, or, for a camera that pushes to the media server, its stream
    there with a sample token fresh for this sample (used only when a connection opens: ``SourceSpec.connect_url``).
    """
    if camera.source_kind == SourceKind.PUSH:
        settings = live_settings()
        stream = f"{settings.publish_base.rstrip('/')}/{media.stream_name(camera.id)}"
        return SourceSpec("push", stream, timeout_seconds=timeout,
                          connect_url=sample_source(camera.id, utcnow(), settings))
    return SourceSpec(camera.source_kind, camera.source_url, camera.source_username, camera.source_password, timeout)


def sample_camera(camera_id: int, slot: int) -> str:
    """Task: take sample ``slot`` of one camera and act on it; returns what happened (for logs and tests)."""
    from workers.infra.worker_app import get_app

    config = get_app().config
    row = db.session.execute(
        select(Camera, CameraMonitor, KitchenArea.canteen_id)
        .join(CameraMonitor, CameraMonitor.camera_id == Camera.id)
        .join(KitchenArea, KitchenArea.id == Camera.area_id)
        .where(Camera.id == camera_id)).first()
    if row is None:
        return "gone"
    camera, monitor, canteen_id = row
    if not camera.enabled:
        return "disabled"
    if monitor.last_done_slot >= slot:
        return "already_done"
    try:
        settings = camera_settings(camera.id, camera.enabled_checks, camera.work_hours,
                                   camera.regions_of_interest, monitor.tuning)
    except TuningError as exc:
        log.error("camera %s has invalid settings, not sampled: %s", camera_id, exc)
        return "invalid_settings"
    interval = max(1, int(camera.sampling_interval_seconds or 5))
    timeout = float(config.get("CAPTURE_TIMEOUT_SECONDS") or 5)
    view = _CameraView(camera.id, canteen_id, interval, camera_spec(camera, timeout), settings)
    version = monitor.version
    engine_state = CameraState.from_dict(monitor.engine_state, settings.pipeline)
    rule_state: dict[str, Any] = dict(monitor.rule_state or {})
    health_status = monitor.health_status
    # Nothing is held open while the camera is read and the models run.
    db.session.rollback()

    runtime = get_runtime(config)
    at = float(slot * interval)
    read_at = at + camera_id * FILE_OFFSET_SECONDS if view.spec.kind == "file" else at
    capture = runtime.capture.read(view.spec, read_at)
    outcome = process_sample(capture.frame, at, settings, engine_state, rule_state, health_status, runtime.plan)
    evidence = {event.kind: runtime.evidence(camera_id, event, capture.frame, outcome.result.detections)
                for event in outcome.events}
    _fault_pause("before_commit")
    return _commit(view, slot, version, outcome, engine_state, rule_state, evidence, capture.error)


def _commit(view: _CameraView, slot: int, version: int, outcome: SampleOutcome, engine_state: CameraState,
            rule_state: dict[str, Any], evidence: dict[str, dict[str, str]], capture_error: str | None) -> str:
    """The one transaction of a sample: memory (version-checked), health change, violations."""
    now = utcnow()
    at = datetime.fromtimestamp(outcome.at, UTC)
    summary = outcome.summary()
    if capture_error:
        summary["capture_error"] = capture_error[:200]
    values: dict[str, Any] = dict(
        engine_state=engine_state.to_dict(), rule_state=rule_state, health_status=outcome.health_status,
        last_done_slot=slot, last_sample_at=at, last_result=summary, version=version + 1, updated_at=now)
    if outcome.health_change:
        values["health_since"] = at
    updated = db.session.execute(
        update(CameraMonitor).where(CameraMonitor.camera_id == view.camera_id, CameraMonitor.version == version,
                                    CameraMonitor.last_done_slot < slot).values(**values)
        .execution_options(synchronize_session=False))
    if updated.rowcount != 1:
        db.session.rollback()
        log.info("camera %s slot %s: memory changed meanwhile, sample dropped", view.camera_id, slot)
        return "conflict"
    change = outcome.health_change
    if change:
        stats_cache.changed(db.session, stats_cache.CAMERAS)  # the console's camera online rate moves
        record_health_change(view.camera_id, at, change.from_status, change.to_status, change.problems,
                             change.metrics)
    created = 0
    for event in outcome.events:
        raised = raise_violation(
            canteen_id=view.canteen_id, kind=event.kind, source="ai", camera_id=view.camera_id,
            idempotency_key=event.idempotency_key(view.camera_id),
            occurred_at=datetime.fromtimestamp(event.started_at, UTC),
            description=describe(event), evidence=evidence.get(event.kind) or {},
            confidence=event.confidence, details=event_details(event), commit=False)
        created += int(raised.created)
    db.session.commit()
    return f"sampled:{created}" if outcome.events else "sampled"


def describe(event: detection_rules.RuleEvent) -> str:
    """The Chinese description shown with the violation."""
    start = datetime.fromtimestamp(event.started_at, UTC).astimezone(_shanghai()).strftime("%Y-%m-%d %H:%M:%S")
    label = KIND_LABELS.get(event.kind, event.kind)
    problems = event.details.get("problems") or []
    cause = "、".join(PROBLEM_LABELS.get(p, p) for p in problems)
    text = f"AI 巡检于 {start} 发现：{label}"
    if cause:
        text += f"（{cause}）"
    if event.details.get("method") == "motion":
        text += "（非工作时间画面中出现小型移动物体）"
    return text


def _shanghai() -> Any:
    from backend.timeutil import SHANGHAI

    return SHANGHAI


def event_details(event: detection_rules.RuleEvent) -> dict[str, Any]:
    """Machine-readable details stored with the violation."""
    return {"detections": [d.to_dict() for d in event.detections[:20]],
            **{k: v for k, v in event.details.items() if k != "detections"}}
