"""Read a licence or certificate photo offline: RapidOCR (PP-OCRv4 detection and recognition, ONNX models
shipped inside the ``rapidocr-onnxruntime`` wheel, nothing fetched) finds the text boxes, this module puts
them back into rows, and :mod:`backend.records.certificate_fields` finds the number, holder and validity.

One engine per process, built on first use (about a second) and shared under a lock: onnxruntime sessions
are thread-safe, but building two at once in a threaded server would only waste memory. It runs on one
intra-op thread, so a reading costs one core and an API worker's other threads keep theirs.
"""

from __future__ import annotations

import io
import threading
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image, ImageOps

from backend.records.certificate_fields import CertificateFields, Row, read_fields

# Photos are read at most this long on their longer side: phone photos are 4000 px, and the detector's
# accuracy on a certificate does not improve past this, while its time grows with the area.
MAX_SIDE = 1600

_engine: Any = None
_engine_lock = threading.Lock()


@dataclass(frozen=True)
class Reading:
    """What a photo said: the fields, the rows they were found in, and how long reading took."""

    fields: CertificateFields
    rows: list[Row]
    seconds: float


def _ocr_engine() -> Any:
    global _engine
    with _engine_lock:
        if _engine is None:
            from rapidocr_onnxruntime import RapidOCR

            _engine = RapidOCR(intra_op_num_threads=1, inter_op_num_threads=1)
        return _engine


def _pixels(photo: bytes) -> np.ndarray:
    """The photo upright (EXIF orientation applied), at most :data:`MAX_SIDE`, as a BGR array."""
    with Image.open(io.BytesIO(photo)) as image:
        image = ImageOps.exif_transpose(image).convert("RGB")
        image.thumbnail((MAX_SIDE, MAX_SIDE))
        return np.asarray(image)[:, :, ::-1].copy()


def _skew(boxes: list[np.ndarray]) -> float:
    """The page's tilt in radians: the median slope of the boxes' top edges (a phone held a little askew)."""
    angles = [np.arctan2(b[1, 1] - b[0, 1], b[1, 0] - b[0, 0]) for b in boxes if b[1, 0] - b[0, 0] > 0]
    return float(np.median(angles)) if angles else 0.0


def rows_of(boxes: list[tuple[Any, str, float]]) -> list[Row]:
    """OCR's text boxes grouped into rows: with the page's tilt undone, boxes whose vertical middles fall within
    half a text height of each other are one row, read left to right; rows top to bottom."""
    points = [np.asarray(box, dtype=float) for box, _, _ in boxes]
    angle = _skew(points)
    # Rotating every box by -angle about the origin levels the lines: a label and its value, far apart on a
    # tilted page, share a row again.
    cos, sin = np.cos(-angle), np.sin(-angle)
    items = []
    for corners, (_, text, score) in zip(points, boxes, strict=True):
        x = corners[:, 0] * cos - corners[:, 1] * sin
        y = corners[:, 0] * sin + corners[:, 1] * cos
        top, bottom = y.min(), y.max()
        items.append(((top + bottom) / 2, bottom - top, x.min(), str(text), float(score)))
    items.sort(key=lambda item: item[0])
    grouped: list[list[tuple[float, float, float, str, float]]] = []
    for item in items:
        if grouped:
            row = grouped[-1]
            middle = sum(i[0] for i in row) / len(row)
            height = max(i[1] for i in row)
            if abs(item[0] - middle) <= max(height, item[1]) / 2:
                row.append(item)
                continue
        grouped.append([item])
    return [Row(" ".join(i[3] for i in sorted(row, key=lambda i: i[2])), min(i[4] for i in row))
            for row in grouped]


def read_certificate(photo: bytes, kind: str) -> Reading:
    """Read a ``kind`` certificate (see :data:`~backend.records.certificate_fields.READABLE_KINDS`) from an
    image's bytes. What was not found is ``None`` in the fields; ``fields.found()`` says whether anything was."""
    started = time.perf_counter()
    pixels = _pixels(photo)
    rows = rows_of(_ocr_engine()(pixels)[0] or [])
    fields = read_fields(kind, rows)
    if _missing(fields):
        # Photographed upside down: each text line is read right side up, but the lines come in reverse order
        # and labels follow their values. A second reading of the turned photo decides (only for such photos).
        turned_rows = rows_of(_ocr_engine()(np.ascontiguousarray(pixels[::-1, ::-1]))[0] or [])
        turned = read_fields(kind, turned_rows)
        if _missing(turned) < _missing(fields):
            rows, fields = turned_rows, turned
    return Reading(fields, rows, time.perf_counter() - started)


def _missing(fields: CertificateFields) -> int:
    """How many of the fields a person needs most (number, holder, end of validity) were not found."""
    return sum(1 for value in (fields.number, fields.holder, fields.valid_until or fields.long_term) if not value)
