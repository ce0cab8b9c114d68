"""Talking to a kitchen through its cameras' speakers (F19): push-to-talk to one camera, broadcasts of a canned
prompt or a typed text to every camera of a canteen or a school (一键喊话).

The audio goes out through the ONVIF RTSP back-channel (backend/live/backchannel.py), to every camera at once
(one thread each: a broadcast lasts as long as its clip, not the clip times the cameras). Every talk is
audited (``live.talk``, ``live.broadcast``: who, which cameras, the result per camera) and its clip kept in the
object store as WAV under ``talk/<school>/<day>/``, for as long as recordings are kept
(LIVE_RECORDING_RETENTION_DAYS; :func:`purge_expired`, run by the recordings' purge job).
"""

from __future__ import annotations

import subprocess
import tempfile
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from backend.audit.actions import AuditAction
from backend.audit.models import AuditLog
from backend.audit.services import record_audit
from backend.errors import ApiError, not_found
from backend.extensions import db
from backend.files import object_store
from backend.live import backchannel, speech
from backend.live.recordings import MediaToolError
from backend.live.settings import live_settings
from backend.permissions import Action, Principal, require
from backend.schools.models import Camera, Canteen, KitchenArea, School, SourceKind
from backend.timeutil import to_shanghai
from backend.violations.models import KIND_LABELS, KIND_PROMPTS

TALK_ACTIONS = (AuditAction.LIVE_TALK, AuditAction.LIVE_BROADCAST)
MAX_BROADCAST_CAMERAS = 64
# The purge looks this far behind the retention cut-off: the job runs hourly, so a week covers any outage
# short of a week without re-reading every talk ever audited.
PURGE_WINDOW = timedelta(days=7)
# How a refusal of a single camera's talk is answered (a broadcast lists them per camera instead).
REFUSAL_STATUS = {"backchannel_unsupported": 409}


@dataclass(frozen=True)
class Delivery:
    """The outcome of one camera's talk."""

    camera_id: int
    camera_name: str
    reason: str | None = None
    message: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """The per-camera result as the API answers it."""
        return {"camera_id": self.camera_id, "camera_name": self.camera_name,
                "status": "refused" if self.reason else "delivered", "reason": self.reason, "message": self.message}


def prompts() -> list[dict[str, str]]:
    """The canned prompts: per violation kind, its label and what the kitchen hears."""
    return [{"kind": str(kind), "label": KIND_LABELS[kind], "text": text} for kind, text in KIND_PROMPTS.items()]


def _send(target: tuple[int, str, str, str | None, str | None, str], pcmu: bytes) -> Delivery:
    camera_id, name, url, username, password, kind = target
    if kind != SourceKind.RTSP:
        error = backchannel.unsupported("not an RTSP camera")
        return Delivery(camera_id, name, error.code, error.message)
    try:
        backchannel.send_clip(url, username, password, pcmu)
    except backchannel.BackchannelError as exc:
        return Delivery(camera_id, name, exc.code, exc.message)
    return Delivery(camera_id, name)


def deliver(cameras: list[Camera], clip: speech.Clip) -> list[Delivery]:
    """Play the clip on every camera at once; one result per camera, in the cameras' order."""
    # Plain values only cross into the threads: no ORM object is touched outside the request's session.
    targets = [(c.id, c.name, c.source_url, c.source_username, c.source_password, c.source_kind) for c in cameras]
    with ThreadPoolExecutor(max_workers=min(16, len(targets)), thread_name_prefix="talk") as pool:
        return list(pool.map(lambda target: _send(target, clip.pcmu), targets))


def _keep_clip(school_id: int, clip: speech.Clip, now: datetime) -> str:
    key = f"talk/{school_id}/{to_shanghai(now):%Y/%m/%d}/{uuid.uuid4().hex}.wav"
    with tempfile.TemporaryDirectory(prefix="talk-") as folder:
        wav = Path(folder) / "talk.wav"
        try:
            speech.pcmu_to_wav(clip.pcmu, wav)
        except (MediaToolError, subprocess.TimeoutExpired, OSError) as exc:
            raise ApiError(503, "speech_failed", "语音处理失败，请稍后重试") from exc
        object_store().put(key, wav.read_bytes(), "audio/wav")
    return key


def _audit(principal: Principal, action: AuditAction, school_id: int, target: tuple[str, int], clip: speech.Clip,
           key: str, results: list[Delivery], extra: dict[str, Any]) -> AuditLog:
    entry = record_audit(principal.user_id, action, school_id=school_id, target=target, details={
        **extra, "cameras": [r.camera_id for r in results], "clip_key": key, "seconds": round(clip.seconds, 3),
        "results": {str(r.camera_id): r.reason or "delivered" for r in results}})
    db.session.commit()
    return entry


def _answer(entry: AuditLog, kind: str, clip: speech.Clip, results: list[Delivery], now: datetime,
            text: str | None = None) -> dict[str, Any]:
    return {"id": entry.id, "kind": kind, "at": now, "seconds": round(clip.seconds, 3), "text": text,
            "delivered": sum(1 for r in results if not r.reason), "refused": sum(1 for r in results if r.reason),
            "results": [r.as_dict() for r in results]}


def talk_to_camera(principal: Principal, camera: Camera, recording: bytes, now: datetime) -> dict[str, Any]:
    """Play a browser recording on one camera's speaker; audited whatever the camera answers.

    A camera that refuses answers with its reason (409 ``backchannel_unsupported``, 502 ``camera_unreachable``,
    ``camera_auth_failed`` or ``backchannel_failed``) after the attempt is audited.
    """
    clip = speech.recorded_clip(recording)
    school_id = camera.area.canteen.school_id
    key = _keep_clip(school_id, clip, now)
    results = deliver([camera], clip)
    entry = _audit(principal, AuditAction.LIVE_TALK, school_id, ("camera", camera.id), clip, key, results, {})
    refused = results[0]
    if refused.reason:
        raise ApiError(REFUSAL_STATUS.get(refused.reason, 502), refused.reason, refused.message or "",
                       {"camera_id": camera.id, "audit_id": entry.id})
    return _answer(entry, "talk", clip, results, now)


def _broadcast_scope(canteen_id: int | None, school_id: int | None) -> tuple[School, Canteen | None]:
    if (canteen_id is None) == (school_id is None):
        raise ApiError(422, "broadcast_target_invalid", "请指定一个食堂或一所学校（二选一）")
    if canteen_id is not None:
        canteen = db.session.get(Canteen, canteen_id)
        if canteen is None:
            raise not_found("食堂")
        return canteen.school, canteen
    school = db.session.get(School, school_id)
    if school is None:
        raise not_found("学校")
    return school, None


def _prompt_text(kind: str | None, text: str | None) -> str:
    if (kind is None) == (text is None):
        raise ApiError(422, "broadcast_prompt_invalid", "请选择一条预设喊话或填写喊话内容（二选一）")
    if kind is not None:
        if kind not in KIND_PROMPTS:
            raise ApiError(422, "broadcast_prompt_invalid", "没有该类问题的预设喊话",
                           {"kinds": [str(k) for k in KIND_PROMPTS]})
        return KIND_PROMPTS[kind]
    return text or ""


def broadcast(principal: Principal, *, kind: str | None, text: str | None, canteen_id: int | None,
              school_id: int | None, now: datetime) -> dict[str, Any]:
    """Speak a canned prompt (by violation kind) or a text on every enabled camera of a canteen or a school."""
    school, canteen = _broadcast_scope(canteen_id, school_id)
    require(principal, Action.LIVE_TALK, school)
    words = _prompt_text(kind, text)
    query = sa.select(Camera).join(KitchenArea).join(Canteen).where(Camera.enabled.is_(True))
    query = query.where(Canteen.id == canteen.id) if canteen else query.where(Canteen.school_id == school.id)
    cameras = list(db.session.scalars(query.order_by(Camera.id).limit(MAX_BROADCAST_CAMERAS)))
    if not cameras:
        raise ApiError(422, "broadcast_no_cameras", "该范围内没有可用的摄像头")
    clip = speech.synthesise(words)
    key = _keep_clip(school.id, clip, now)
    results = deliver(cameras, clip)
    target = ("canteen", canteen.id) if canteen else ("school", school.id)
    entry = _audit(principal, AuditAction.LIVE_BROADCAST, school.id, target, clip, key, results,
                   {"kind": kind, "text": words})
    return _answer(entry, "broadcast", clip, results, now, words)


def purge_expired(now: datetime) -> int:
    """Remove the kept clips of talks older than the recordings' retention; the number of clips removed.

    The audit rows stay (the audit log is never pruned here); only their clips go.
    """
    cutoff = now - timedelta(days=live_settings().retention_days)
    rows = db.session.scalars(sa.select(AuditLog).where(
        AuditLog.action.in_(TALK_ACTIONS), AuditLog.at < cutoff, AuditLog.at >= cutoff - PURGE_WINDOW))
    store, removed = object_store(), 0
    for row in rows:
        key = (row.details or {}).get("clip_key")
        if key and store.exists(key):
            store.delete(key)
            removed += 1
    return removed
