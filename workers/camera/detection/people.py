"""Model-free people detector: OpenCV's HOG + linear SVM (Dalal-Triggs).

Weaker than a neural detector but it ships with OpenCV itself, needs no model
file and is good enough for "is anybody in the kitchen after hours".
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import cv2
import numpy as np

from .adapters import nms
from .types import LABEL_PERSON, Detection


@dataclass(frozen=True)
class HogConfig:
    """Parameters of :class:`HogPeopleDetector`."""

    # Frames are resized to this width before detection. The HOG window is
    # 64x128 px, so people must be at least ~128 px tall after resizing: wide
    # streams are shrunk for speed, small ones may be enlarged to find people.
    process_width: int = 960
    win_stride: tuple[int, int] = (8, 8)
    padding: tuple[int, int] = (8, 8)
    # Pyramid step. On vtest.avi (20 frames, 960 px) 1.15 finds 87 people in 103 ms a frame where 1.05 finds 94
    # in 337 ms: a person missed in one sample is still seen in the next ones that persistence asks for.
    scale: float = 1.15
    # SVM margin a window must exceed; 0 is OpenCV's default.
    hit_threshold: float = 0.0
    # Detections whose confidence (see HogPeopleDetector) falls below this are dropped.
    min_confidence: float = 0.6
    nms_iou: float = 0.45
    # HOG often also fires on a larger window around a person it already
    # found; drop a box when this share of the smaller box lies in a
    # better-scored one.
    containment: float = 0.8


class HogPeopleDetector:
    """Finds upright people; implements the ``Detector`` protocol with label ``person``.

    ``confidence`` is the logistic of the SVM margin, so 0.5 means "exactly on
    the decision boundary" and values grow towards 1 with stronger evidence.
    """

    def __init__(self, config: HogConfig | None = None) -> None:
        """Create the HOG descriptor with OpenCV's default people SVM."""
        self.config = config or HogConfig()
        self._hog = cv2.HOGDescriptor()
        self._hog.setSVMDetector(cv2.HOGDescriptor_getDefaultPeopleDetector())
        self.last_timings: dict[str, float] = {}

    @property
    def name(self) -> str:
        """Detector identifier used in ``Detection.source``."""
        return "hog"

    def detect(self, frame_bgr: np.ndarray) -> list[Detection]:
        """People in ``frame_bgr`` with boxes in its pixels."""
        cfg = self.config
        started = time.perf_counter()
        src_h, src_w = frame_bgr.shape[:2]
        factor = cfg.process_width / src_w
        if abs(factor - 1.0) > 1e-3:
            interp = cv2.INTER_AREA if factor < 1 else cv2.INTER_LINEAR
            image = cv2.resize(
                frame_bgr, (cfg.process_width, max(1, round(src_h * factor))), interpolation=interp
            )
        else:
            factor = 1.0
            image = frame_bgr
        rects, weights = self._hog.detectMultiScale(
            image,
            hitThreshold=cfg.hit_threshold,
            winStride=cfg.win_stride,
            padding=cfg.padding,
            scale=cfg.scale,
        )
        self.last_timings = {"inference_ms": (time.perf_counter() - started) * 1000}
        if len(rects) == 0:
            return []
        rects = np.asarray(rects, dtype=np.float32).reshape(-1, 4)
        margins = np.asarray(weights, dtype=np.float32).ravel()
        conf = 1.0 / (1.0 + np.exp(-margins))
        boxes = np.column_stack(
            [rects[:, 0], rects[:, 1], rects[:, 0] + rects[:, 2], rects[:, 1] + rects[:, 3]]
        )
        boxes /= np.float32(factor)
        keep = [int(i) for i in nms(boxes, conf, cfg.nms_iou) if conf[i] >= cfg.min_confidence]
        keep = _drop_contained(boxes, keep, cfg.containment)
        detections: list[Detection] = []
        for i in keep:
            x1, y1, x2, y2 = (float(v) for v in boxes[i])
            detections.append(
                Detection(
                    label=LABEL_PERSON,
                    confidence=float(conf[i]),
                    box=(max(0.0, x1), max(0.0, y1), min(float(src_w), x2), min(float(src_h), y2)),
                    source=self.name,
                )
            )
        return detections


def _drop_contained(boxes: np.ndarray, order: list[int], containment: float) -> list[int]:
    """Filter ``order`` (best first) so no kept box mostly overlaps a better one."""
    kept: list[int] = []
    for i in order:
        bx = boxes[i]
        area_i = float((bx[2] - bx[0]) * (bx[3] - bx[1]))
        duplicate = False
        for j in kept:
            by = boxes[j]
            w = min(bx[2], by[2]) - max(bx[0], by[0])
            h = min(bx[3], by[3]) - max(bx[1], by[1])
            if w <= 0 or h <= 0:
                continue
            area_j = float((by[2] - by[0]) * (by[3] - by[1]))
            if float(w * h) / max(1e-6, min(area_i, area_j)) >= containment:
                duplicate = True
                break
        if not duplicate:
            kept.append(i)
    return kept
