"""A YOLO training set made of the reviewed AI alarms of a school or a region (docs/training.md).

Every reviewed alarm whose evidence keeps the frame as captured (``evidence["frame"]``: no boxes drawn, no
blur; staff and regulators see that picture, never parents) becomes one image:

- confirmed or escalated: a label file with one ``class cx cy w h`` line (fractions of the picture) per box:
  the reviewer's corrected boxes when the verdict gave them, else the detector's boxes of the alarm's label;
- false positive: an empty label file, a negative (what the model must learn *not* to see).

Images are split by camera, so that frames of one camera never sit in both ``train`` and ``val`` (frames of
one camera look alike; a split by frame would measure memory, not detection). ``data.yaml`` names the classes
in the fixed order of :data:`TRAINING_CLASSES`, so models trained on successive exports agree on class indices.
A model trained on it comes back through a model card (``workers/camera/detection/onnx_models.py``) whose
``classes`` are these names.
"""

from __future__ import annotations

import io
import json
import tempfile
import zipfile
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from PIL import Image, UnidentifiedImageError
from sqlalchemy import select

from backend.audit.actions import AuditAction
from backend.audit.services import record_audit
from backend.extensions import db
from backend.files import object_store
from backend.integrations.storage import StorageError
from backend.violations.alarm_queue import region_schools
from backend.violations.models import AlarmReview, AlarmVerdict, Violation, ViolationSource

#: The classes of every exported set, in this order (a model card's ``classes`` maps index → these labels; the
#: labels are the detection labels of ``workers/camera/detection/types.py``).
TRAINING_CLASSES: tuple[str, ...] = ("person", "no_mask", "no_hat", "no_uniform", "smoking", "phone", "rodent")
#: The detection label of each alarm kind a model can raise.
KIND_LABELS: dict[str, str] = {**{label: label for label in TRAINING_CLASSES[1:]}, "person_after_hours": "person"}
#: The share of images (by camera) that go to ``val``.
VAL_SHARE = 0.2
POSITIVE_VERDICTS = frozenset({AlarmVerdict.CONFIRMED, AlarmVerdict.ESCALATED})


@dataclass(frozen=True)
class Sample:
    """One reviewed alarm as a training image: its picture's key and its boxes (fractions of the picture)."""

    violation_id: int
    camera_id: int
    kind: str
    verdict: str
    frame_key: str
    # (label, x1, y1, x2, y2) in fractions; empty for a negative. Pixel boxes of the detector are kept as such
    # until the picture's size is known (``pixel_boxes``).
    boxes: tuple[tuple[str, float, float, float, float], ...] = ()
    pixel_boxes: tuple[tuple[str, float, float, float, float], ...] = ()


@dataclass
class ExportSummary:
    """What an export wrote and what it left out, and why."""

    images: dict[str, int] = field(default_factory=lambda: {"train": 0, "val": 0})
    negatives: int = 0
    boxes: int = 0
    cameras: dict[str, list[int]] = field(default_factory=lambda: {"train": [], "val": []})
    skipped: dict[str, int] = field(default_factory=lambda: {"no_frame": 0, "no_boxes": 0, "unreadable": 0})

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly (``manifest.json`` and the CLI's output)."""
        return {"images": dict(self.images), "negatives": self.negatives, "boxes": self.boxes,
                "cameras": {k: sorted(v) for k, v in self.cameras.items()}, "skipped": dict(self.skipped),
                "classes": list(TRAINING_CLASSES)}


def _reviewer_boxes(review: AlarmReview) -> tuple[tuple[str, float, float, float, float], ...]:
    return tuple((b["label"], float(b["x1"]), float(b["y1"]), float(b["x2"]), float(b["y2"]))
                 for b in review.boxes or ())


def _detector_boxes(violation: Violation) -> tuple[tuple[str, float, float, float, float], ...]:
    label = KIND_LABELS.get(violation.kind)
    found = []
    for detection in (violation.details or {}).get("detections") or ():
        box = detection.get("box") if isinstance(detection, dict) else None
        if detection.get("label") == label and isinstance(box, list) and len(box) == 4:
            found.append((label, *(float(v) for v in box)))
    return tuple(found)


def collect(*, school_id: int | None = None, region_path: str | None = None) -> tuple[list[Sample], ExportSummary]:
    """The reviewed AI alarms of a school or region that can become training images (oldest first)."""
    query = (select(Violation, AlarmReview).join(AlarmReview, AlarmReview.violation_id == Violation.id)
             .where(Violation.source == ViolationSource.AI, Violation.camera_id.is_not(None),
                    Violation.kind.in_(list(KIND_LABELS))))
    if school_id is not None:
        query = query.where(Violation.school_id == school_id)
    if region_path is not None:
        query = query.where(Violation.school_id.in_(region_schools(region_path)))
    summary, samples = ExportSummary(), []
    for violation, review in db.session.execute(query.order_by(Violation.id)).all():
        frame_key = (violation.evidence or {}).get("frame")
        if not frame_key:
            summary.skipped["no_frame"] += 1
            continue
        sample = Sample(violation.id, violation.camera_id, violation.kind, review.verdict, frame_key)
        if review.verdict in POSITIVE_VERDICTS:
            boxes = _reviewer_boxes(review)
            pixel_boxes = () if boxes else _detector_boxes(violation)
            if not boxes and not pixel_boxes:
                summary.skipped["no_boxes"] += 1
                continue
            sample = Sample(violation.id, violation.camera_id, violation.kind, review.verdict, frame_key,
                            boxes, pixel_boxes)
        samples.append(sample)
    return samples, summary


def split_by_camera(samples: Sequence[Sample], val_share: float = VAL_SHARE) -> dict[int, str]:
    """``train`` or ``val`` for each camera: whole cameras go to ``val``, the last ones by id, until it holds
    ``val_share`` of the images; at least one camera stays in ``train`` (one camera: everything is ``train``)."""
    per_camera: dict[int, int] = defaultdict(int)
    for sample in samples:
        per_camera[sample.camera_id] += 1
    cameras = sorted(per_camera)
    split = dict.fromkeys(cameras, "train")
    in_val, total = 0, sum(per_camera.values())
    for camera_id in reversed(cameras[1:]):
        if in_val >= val_share * total:
            break
        split[camera_id] = "val"
        in_val += per_camera[camera_id]
    return split


def yolo_line(label: str, x1: float, y1: float, x2: float, y2: float) -> str:
    """``class cx cy w h`` of a box in fractions of the picture (clipped to it)."""
    x1, x2 = sorted((min(max(x1, 0.0), 1.0), min(max(x2, 0.0), 1.0)))
    y1, y2 = sorted((min(max(y1, 0.0), 1.0), min(max(y2, 0.0), 1.0)))
    return (f"{TRAINING_CLASSES.index(label)} {(x1 + x2) / 2:.6f} {(y1 + y2) / 2:.6f} "
            f"{x2 - x1:.6f} {y2 - y1:.6f}")


def data_yaml(root: Path | None = None) -> str:
    """The set's ``data.yaml`` (Ultralytics' dataset file): the class names, and the splits relative to ``root``
    (the folder the set was written to); without a root, relative to the folder of the file itself, which
    Ultralytics takes when ``path`` is absent (give it the file by an absolute path)."""
    names = "\n".join(f"  {index}: {name}" for index, name in enumerate(TRAINING_CLASSES))
    where = f"path: {json.dumps(str(root))}\n" if root is not None else ""
    return f"{where}train: images/train\nval: images/val\nnc: {len(TRAINING_CLASSES)}\nnames:\n{names}\n"


def _label_lines(sample: Sample, width: int, height: int) -> list[str]:
    boxes = list(sample.boxes) + [(label, x1 / width, y1 / height, x2 / width, y2 / height)
                                  for label, x1, y1, x2, y2 in sample.pixel_boxes]
    return [yolo_line(*box) for box in boxes]


def write_training_set(samples: Iterable[Sample], summary: ExportSummary, out: zipfile.ZipFile) -> ExportSummary:
    """Write the images, label files, ``data.yaml`` and ``manifest.json`` into ``out``."""
    samples = list(samples)
    split = split_by_camera(samples)
    store = object_store()
    for folder in ("images/train/", "images/val/", "labels/train/", "labels/val/"):
        out.writestr(folder, b"")
    for sample in samples:
        try:
            data = store.get(sample.frame_key)
            with Image.open(io.BytesIO(data)) as image:
                width, height = image.size
        except (StorageError, UnidentifiedImageError, OSError):
            summary.skipped["unreadable"] += 1
            continue
        part = split[sample.camera_id]
        lines = _label_lines(sample, width, height)
        name = f"alarm{sample.violation_id}"
        out.writestr(f"images/{part}/{name}.jpg", data)
        out.writestr(f"labels/{part}/{name}.txt", "".join(f"{line}\n" for line in lines))
        summary.images[part] += 1
        summary.boxes += len(lines)
        summary.negatives += int(not lines)
        if sample.camera_id not in summary.cameras[part]:
            summary.cameras[part].append(sample.camera_id)
    out.writestr("data.yaml", data_yaml())
    out.writestr("manifest.json", json.dumps(summary.as_dict(), ensure_ascii=False, indent=1))
    return summary


def export_zip(target: IO[bytes], *, school_id: int | None = None,
               region_path: str | None = None) -> ExportSummary:
    """The training set of a school or region as a zip written to ``target``."""
    samples, summary = collect(school_id=school_id, region_path=region_path)
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_STORED) as out:  # JPEGs do not compress
        return write_training_set(samples, summary, out)


def export_directory(directory: Path, *, school_id: int | None = None,
                     region_path: str | None = None) -> ExportSummary:
    """The training set unpacked into ``directory`` (the CLI's ``--out``), ready for ``yolo train data=…``:
    its ``data.yaml`` names the folder by its absolute path."""
    with tempfile.TemporaryFile() as buffer:  # a region's set may be large: on disk, not in memory
        summary = export_zip(buffer, school_id=school_id, region_path=region_path)
        directory.mkdir(parents=True, exist_ok=True)
        buffer.seek(0)
        with zipfile.ZipFile(buffer) as archive:
            archive.extractall(directory)
    (directory / "data.yaml").write_text(data_yaml(directory.resolve()), encoding="utf-8")
    return summary


def export_for(actor_id: int, target: IO[bytes], *, school_id: int | None = None, region_id: int | None = None,
               region_path: str | None = None) -> ExportSummary:
    """The console's download: the zip of a school's or a region's set, audited (who exported how much)."""
    summary = export_zip(target, school_id=school_id, region_path=region_path)
    record_audit(actor_id, AuditAction.ALARMS_TRAINING_EXPORT, school_id=school_id,
                 target=("region", region_id) if region_id is not None else None, details=summary.as_dict())
    db.session.commit()
    return summary
