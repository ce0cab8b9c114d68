"""Helpers of the training-set tests: alarms with an unmarked frame in the object store, as the worker keeps them."""

from __future__ import annotations

import io
from datetime import datetime

import sqlalchemy as sa
from PIL import Image, ImageDraw

from backend.extensions import db
from backend.files import object_store
from backend.schools.models import Canteen
from backend.violations.services import raise_violation
from tests.violations.alarm_helpers import cameras_of

WIDTH, HEIGHT = 320, 240
GREY = (110, 110, 110)
RED = (220, 30, 30)


def frame_jpeg(box: tuple[int, int, int, int] | None) -> bytes:
    """A grey frame with a red block where ``box`` (pixels) is: what the tiny model of the tests sees."""
    image = Image.new("RGB", (WIDTH, HEIGHT), GREY)
    if box is not None:
        ImageDraw.Draw(image).rectangle(box, fill=RED)
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=95)
    return out.getvalue()


def framed_alarm(school_id: int, camera: int, kind: str, at: datetime, key: str,
                 box: tuple[int, int, int, int] | None = None, detector_box: tuple[int, int, int, int] | None = None,
                 with_frame: bool = True) -> int:
    """An AI alarm whose evidence keeps the unmarked frame (a red block at ``box``) and the detector's box."""
    camera_id = cameras_of(school_id)[camera]
    canteen_id = db.session.scalar(sa.select(Canteen.id).where(Canteen.school_id == school_id))
    base = f"evidence/cam{camera_id}/{kind}/{key}"
    evidence = {"annotated": f"{base}-annotated.jpg", "parent_safe": f"{base}-parent-safe.jpg"}
    if with_frame:
        evidence["frame"] = f"{base}-frame.jpg"
        object_store().put(evidence["frame"], frame_jpeg(box), "image/jpeg")
    label = "person" if kind == "person_after_hours" else kind
    detections = [{"label": label, "confidence": 0.8, "box": list(detector_box or box or (10, 10, 50, 50)),
                   "source": "test"}, {"label": "face", "confidence": 0.9, "box": [1, 1, 5, 5], "source": "test"}]
    return raise_violation(canteen_id=canteen_id, kind=kind, source="ai", camera_id=camera_id,
                           idempotency_key=f"train:{key}", occurred_at=at, confidence=0.8, evidence=evidence,
                           details={"detections": detections}).violation.id
