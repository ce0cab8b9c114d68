"""Flask CLI commands of the detection workers: ``flask detect-video`` and ``flask camera-tuning``.

Heavy imports (OpenCV, ONNX Runtime) happen inside the commands, so registering them costs the api nothing.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import click
from flask import current_app
from flask.cli import AppGroup

from backend.cli import SHANGHAI_TIME
from backend.timeutil import shanghai_iso, utcnow


def _settings(camera_id: int | None, checks: str | None) -> tuple[Any, int]:
    from backend.extensions import db
    from backend.monitoring.models import CameraMonitor
    from backend.schools.models import Camera
    from workers.camera.tuning import ALL_KINDS, TuningError, camera_settings

    if camera_id is None:
        kinds = [k.strip() for k in checks.split(",")] if checks else list(ALL_KINDS)
        unknown = sorted(set(kinds) - set(ALL_KINDS))
        if unknown:
            raise click.BadParameter(f"unknown kind(s) {', '.join(unknown)}; known: {', '.join(ALL_KINDS)}",
                                     param_hint="--checks")
        return camera_settings(0, kinds, [], [], {}), 5
    camera = db.session.get(Camera, camera_id)
    if camera is None:
        raise click.ClickException(f"no camera {camera_id}")
    monitor = db.session.get(CameraMonitor, camera_id)
    try:
        settings = camera_settings(camera.id, camera.enabled_checks, camera.work_hours, camera.regions_of_interest,
                                   monitor.tuning if monitor else {})
    except TuningError as exc:
        raise click.ClickException(f"camera {camera_id} has invalid settings: {exc}") from exc
    return settings, int(camera.sampling_interval_seconds or 5)


def detect_video(path: str, camera_id: int | None, every: float | None, start: datetime | None,
                 checks: str | None) -> list[dict[str, Any]]:
    """Run the whole pipeline over a video file; print and return the events it would raise."""
    import cv2

    from workers.camera.camera_runtime import get_runtime
    from workers.camera.detection import CameraState
    from workers.camera.processing import process_sample

    settings, interval = _settings(camera_id, checks)
    step = every or float(interval)
    capture = cv2.VideoCapture(path)
    if not capture.isOpened():
        raise click.ClickException(f"cannot read video {path}")
    fps = capture.get(cv2.CAP_PROP_FPS) or 25.0
    frames = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
    duration = frames / fps
    times = [i * step for i in range(max(1, int(duration // step) + (1 if duration % step else 0)))]
    start_at = (start or utcnow()).timestamp()
    runtime = get_runtime(current_app.config)
    engine_state = CameraState.new(settings.pipeline)
    rule_state: dict[str, Any] = {}
    health = "unknown"
    events: list[dict[str, Any]] = []
    changes: list[str] = []
    stats = {"samples": 0, "model_runs": 0, "no_motion": 0, "quality_skips": 0}
    models: dict[str, dict[str, int]] = {}
    with click.progressbar(times, label=f"分析 {len(times)} 个采样", show_pos=True) as bar:
        for offset in bar:
            capture.set(cv2.CAP_PROP_POS_FRAMES, min(frames - 1, round(offset * fps)))
            ok, frame = capture.read()
            outcome = process_sample(frame if ok else None, start_at + offset, settings, engine_state, rule_state,
                                     health, runtime.plan)
            health = outcome.health_status
            stats["samples"] += 1
            stats["model_runs"] += int(outcome.result.ran_models)
            stats["no_motion"] += int(outcome.result.skip_reason == "no_motion")
            stats["quality_skips"] += int((outcome.result.skip_reason or "").startswith("quality:"))
            _count_models(models, outcome.result)
            if outcome.health_change:
                changes.append(f"{offset:7.1f}s  画面状态 {outcome.health_change.from_status} -> "
                               f"{outcome.health_change.to_status}")
            for event in outcome.events:
                events.append({"video_seconds": round(offset, 1), "kind": event.kind,
                               "event_start": shanghai_iso(datetime.fromtimestamp(event.started_at, UTC)),
                               "confidence": None if event.confidence is None else round(event.confidence, 3),
                               "detections": [d.to_dict() for d in event.detections[:5]],
                               "idempotency_key": event.idempotency_key(settings.camera_id)})
    capture.release()
    from backend.violations.models import KIND_LABELS

    for line in changes:
        click.echo(line)
    for event in events:
        confidence = "" if event["confidence"] is None else f"  置信度 {event['confidence']:.2f}"
        click.echo(f"{event['video_seconds']:7.1f}s  将产生违规 {event['kind']} ({KIND_LABELS.get(event['kind'], '')})"
                   f"  事件开始 {event['event_start']}{confidence}  检测框 {len(event['detections'])}")
    for line in _model_lines(models):
        click.echo(line)
    click.echo(f"{stats['samples']} samples, models ran on {stats['model_runs']}, motion gate skipped "
               f"{stats['no_motion']}, unusable pictures {stats['quality_skips']}; {len(events)} event(s) would raise "
               "a violation")
    return events


def _count_models(models: dict[str, dict[str, int]], result: Any) -> None:
    """Add one sample's model runs and, per model, the labels it gave (a two-stage model: faces and verdicts)."""
    for key in result.timings_ms:
        if key.startswith("model:"):
            counts = models.setdefault(key[len("model:"):], {})
            counts["runs"] = counts.get("runs", 0) + 1
    for detection in result.detections:
        counts = models.setdefault(detection.source, {})
        counts[detection.label] = counts.get(detection.label, 0) + 1


def _model_lines(models: dict[str, dict[str, int]]) -> list[str]:
    """One line per model that ran or gave a detection: its runs and what it found, by label."""
    lines = []
    for name in sorted(models):
        counts = dict(models[name])
        runs = counts.pop("runs", None)
        found = ", ".join(f"{label} {count}" for label, count in sorted(counts.items())) or "nothing"
        lines.append(f"model {name}: " + (f"ran on {runs} sample(s), " if runs else "") + f"found {found}")
    return lines


def _served_by(card: Any, registry: Any) -> str:
    """A card's name, and for a two-stage card where its crops come from."""
    if card.crops is None:
        return str(card.source)
    return f"{card.source} on the {card.crops.label}s of {registry.card(card.crops.detector).source}"


def check_lines(settings: Any, registry: Any) -> list[str]:
    """What serves each enabled check of a camera, and its rule (persistence, clear, cooldown, confidence)."""
    from backend.violations.models import KIND_LABELS
    from workers.camera.camera_runtime import FACE_MODEL
    from workers.camera.tuning import HEALTH_KINDS, PPE_KINDS

    lines = []
    for kind in sorted(settings.enabled_kinds):
        if kind in PPE_KINDS or kind == "rodent":
            cards = [registry.card(n) for n in registry.names() if kind in registry.card(n).classes.values()]
            served = "; ".join(_served_by(card, registry) for card in cards)
            served = served or "no model installed" + (" (motion blobs after hours)" if kind == "rodent" else "")
        elif kind == "person_after_hours":
            served = f"hog + {registry.card(FACE_MODEL).source} outside work hours"
        else:
            served = "picture diagnosis" if kind in HEALTH_KINDS else "?"
        rule = settings.rule(kind)
        lines.append(f"{kind} ({KIND_LABELS.get(kind, '')}): {served}; persistence {rule.persistence}, "
                     f"clear_after {rule.clear_after}, cooldown {rule.cooldown_seconds:g} s, "
                     f"min_confidence {rule.min_confidence:.2f}")
    return lines


commands = AppGroup("camera", help="Detection over a video file; per-camera tuning.")


@commands.command("detect-video")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--camera", "camera_id", type=int, help="use this camera's checks, work hours, ROI and tuning")
@click.option("--every", type=click.FloatRange(0.1, 3600), help="video seconds between samples "
              "(default: the camera's sampling interval, else 5)")
@click.option("--start", type=SHANGHAI_TIME,
              help="wall-clock time of the first frame, Asia/Shanghai, e.g. 2025-03-03T22:00")
@click.option("--checks", help="comma-separated kinds without --camera (default: all)")
@click.option("--json", "as_json", is_flag=True, help="print the events as JSON lines at the end")
def detect_video_command(path: str, camera_id: int | None, every: float | None, start: datetime | None,
                         checks: str | None, as_json: bool) -> None:
    """Run the detection pipeline over a video file and print the events it would raise (nothing stored)."""
    events = detect_video(path, camera_id, every, start, checks)
    if as_json:
        for event in events:
            click.echo(json.dumps(event, ensure_ascii=False))


@commands.command("camera-tuning")
@click.argument("camera_id", type=int)
@click.option("--set", "new", help='tuning JSON, e.g. {"rules": {"no_mask": {"persistence": 4}}}')
@click.option("--checks", "show_checks", is_flag=True,
              help="after the tuning, one line per enabled check: the model serving it and its rule")
def camera_tuning_command(camera_id: int, new: str | None, show_checks: bool) -> None:
    """Show or replace a camera's detection tuning (persistence, cooldown, motion masks, quality limits)."""
    from backend.extensions import db
    from backend.monitoring.models import CameraMonitor
    from backend.schools.models import Camera
    from workers.camera.tuning import TuningError, validate_tuning
    from workers.jobs.detection import ensure_monitors

    if db.session.get(Camera, camera_id) is None:
        raise click.ClickException(f"no camera {camera_id}")
    ensure_monitors([camera_id])
    monitor = db.session.get(CameraMonitor, camera_id)
    if new is not None:
        try:
            monitor.tuning = validate_tuning(json.loads(new))
        except (json.JSONDecodeError, TuningError) as exc:
            raise click.ClickException(f"invalid tuning: {exc}") from exc
    db.session.commit()
    click.echo(json.dumps(monitor.tuning, ensure_ascii=False, sort_keys=True))
    if show_checks:
        from workers.camera.camera_runtime import load_registry

        settings, _ = _settings(camera_id, None)
        for line in check_lines(settings, load_registry(current_app.config.get("MODEL_CARDS_DIR"))):
            click.echo(line)
