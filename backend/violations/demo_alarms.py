"""Demo AI alarms with evidence pictures, so the review queue (告警审核) has something to judge in ``make demo``.

``flask seed-demo`` adds a few pending alarms per demo school (two of them one event of one camera, to show
the grouping); ``flask violations demo-alarm`` raises one more now (the console's end-to-end test uses it
to watch a new alarm arrive without a reload). The pictures are a frame of the demo video (or a plain
canvas when it cannot be read) with the detection box drawn; the parents' copy has the box blurred.
Everything goes through ``raise_violation`` as the detection worker does, with fixed idempotency keys, so
seeding twice adds nothing.
"""

from __future__ import annotations

import io
from datetime import datetime, timedelta

from PIL import Image, ImageDraw, ImageFilter
from sqlalchemy import select

from backend.extensions import db
from backend.files import object_store
from backend.schools.models import Camera, Canteen, KitchenArea
from backend.timeutil import utcnow
from backend.violations.services import RaisedViolation, raise_violation

# (camera index in the school, kind, minutes ago, confidence): the first two are one event of one camera.
DEMO_ALARMS = [(0, "no_mask", 14, 0.91), (0, "no_mask", 9, 0.88), (1, "no_hat", 40, 0.76),
               (2, "smoking", 95, 0.64)]
BOX = (250, 90, 390, 330)


def _frame() -> Image.Image:
    """A frame of the demo video, else a plain canvas (the picture only has to look like evidence)."""
    try:
        import cv2

        from backend.cli import demo_video_path

        capture = cv2.VideoCapture(demo_video_path())
        capture.set(cv2.CAP_PROP_POS_FRAMES, 120)
        ok, frame = capture.read()
        capture.release()
        if ok:
            return Image.fromarray(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)).resize((640, 480))
    except Exception:  # no OpenCV or no video: the canvas will do
        pass
    return Image.new("RGB", (640, 480), (96, 104, 112))


def _jpeg(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=80)
    return out.getvalue()


def _pictures(kind: str, confidence: float) -> tuple[bytes, bytes, bytes]:
    """The annotated frame (box and label), the parents' copy (the box blurred) and the frame unmarked."""
    frame = _frame()
    annotated = frame.copy()
    draw = ImageDraw.Draw(annotated)
    draw.rectangle(BOX, outline=(230, 30, 30), width=4)
    draw.rectangle((BOX[0], BOX[1] - 22, BOX[0] + 150, BOX[1]), fill=(230, 30, 30))
    draw.text((BOX[0] + 6, BOX[1] - 18), f"{kind} {confidence:.2f}", fill=(255, 255, 255))
    safe = frame.copy()
    safe.paste(frame.crop(BOX).filter(ImageFilter.GaussianBlur(12)), BOX[:2])
    return _jpeg(annotated), _jpeg(safe), _jpeg(frame)


def school_cameras(school_id: int) -> list[Camera]:
    """A school's cameras in a stable order."""
    return list(db.session.scalars(select(Camera).join(KitchenArea).join(Canteen)
                                   .where(Canteen.school_id == school_id).order_by(Camera.id)))


def raise_demo_alarm(camera: Camera, kind: str, occurred_at: datetime, confidence: float, key: str,
                     now: datetime | None = None) -> RaisedViolation:
    """One AI alarm with stored evidence pictures, committed (once per ``key``: the violation and whether this call
    made it). ``now``: when the platform registered it (the demo's history); the current time by default."""
    annotated, safe, unmarked = _pictures(kind, confidence)
    base = f"evidence/cam{camera.id}/{kind}/demo-{key}"
    keys = {"annotated": f"{base}-annotated.jpg", "parent_safe": f"{base}-parent-safe.jpg",
            "frame": f"{base}-frame.jpg"}
    object_store().put(keys["annotated"], annotated, "image/jpeg")
    object_store().put(keys["parent_safe"], safe, "image/jpeg")
    object_store().put(keys["frame"], unmarked, "image/jpeg")
    area = db.session.get(KitchenArea, camera.area_id)
    return raise_violation(canteen_id=area.canteen_id, kind=kind, source="ai", camera_id=camera.id,
                           idempotency_key=f"demo-alarm:{key}", occurred_at=occurred_at, confidence=confidence,
                           evidence=keys, details={"demo": True, "detections": [
                               {"label": kind, "confidence": confidence, "box": list(BOX), "source": "demo"}]},
                           now=now)


def seed_demo_alarms(school_id: int, now: datetime | None = None) -> int:
    """The pending demo alarms of a school (once: keyed by school and position); returns how many exist."""
    now = now or utcnow()
    cameras = school_cameras(school_id)
    if not cameras:
        return 0
    # Oldest first, as the worker raises them (the keys stay those of each alarm's place in the table).
    for index, (camera_index, kind, minutes, confidence) in sorted(enumerate(DEMO_ALARMS), key=lambda row: -row[1][2]):
        camera = cameras[camera_index % len(cameras)]
        raise_demo_alarm(camera, kind, now - timedelta(minutes=minutes), confidence, f"s{school_id}-{index}")
    return len(DEMO_ALARMS)
