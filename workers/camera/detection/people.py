"""Model-free people detector: OpenCV's HOG + linear SVM (Dalal-Triggs).

Weaker than a neural detector but it ships with OpenCV itself, needs no model
file and is good enough for "is anybody in the kitchen after hours".
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from .adapters import nms
from .regions import Rect, RegionDetector, crops_only, inside
from .types import LABEL_FACE, LABEL_PERSON, Box, Detection, Detector


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
        height, width = frame_bgr.shape[:2]
        return self.detect_regions(frame_bgr, [(0, 0, width, height)])

    def detect_regions(self, frame_bgr: np.ndarray, regions: Sequence[Rect]) -> list[Detection]:
        """People in the crops ``regions`` of ``frame_bgr`` (boxes in frame pixels).

        Every crop is resized by the factor the whole frame would be (so people keep the size the SVM window
        sees them at) and grown first to hold at least one detection window with its padding.
        """
        cfg = self.config
        started = time.perf_counter()
        src_h, src_w = frame_bgr.shape[:2]
        factor = cfg.process_width / src_w
        if abs(factor - 1.0) <= 1e-3:
            factor = 1.0
        win_w, win_h = self._hog.winSize
        need_w = int(np.ceil((win_w + 2 * cfg.padding[0]) / factor))
        need_h = int(np.ceil((win_h + 2 * cfg.padding[1]) / factor))
        # The SVM window holds a margin of background around the person (a 96 px walker in a 128 px window):
        # crops get that much context on every side.
        context = int(np.ceil(win_h / 8 / factor))
        all_boxes, all_margins = [], []
        for left, top, right, bottom in regions:
            if (left, top, right, bottom) != (0, 0, src_w, src_h):
                left, top = max(0, left - context), max(0, top - context)
                right, bottom = min(src_w, right + context), min(src_h, bottom + context)
            left, right = _at_least(left, right, need_w, src_w)
            top, bottom = _at_least(top, bottom, need_h, src_h)
            crop = frame_bgr[top:bottom, left:right]
            if factor != 1.0:
                interp = cv2.INTER_AREA if factor < 1 else cv2.INTER_LINEAR
                size = (max(1, round((right - left) * factor)), max(1, round((bottom - top) * factor)))
                crop = cv2.resize(crop, size, interpolation=interp)
            rects, weights = self._hog.detectMultiScale(
                crop, hitThreshold=cfg.hit_threshold, winStride=cfg.win_stride, padding=cfg.padding, scale=cfg.scale
            )
            if len(rects) == 0:
                continue
            rects = np.asarray(rects, dtype=np.float32).reshape(-1, 4)
            boxes = np.column_stack([rects[:, 0], rects[:, 1], rects[:, 0] + rects[:, 2], rects[:, 1] + rects[:, 3]])
            boxes = boxes / np.float32(factor) + np.asarray([left, top, left, top], dtype=np.float32)
            all_boxes.append(boxes)
            all_margins.append(np.asarray(weights, dtype=np.float32).ravel())
        self.last_timings = {"inference_ms": (time.perf_counter() - started) * 1000, "crops": float(len(regions))}
        if not all_boxes:
            return []
        boxes = np.concatenate(all_boxes).astype(np.float32)
        conf = 1.0 / (1.0 + np.exp(-np.concatenate(all_margins)))
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


def _at_least(start: int, end: int, size: int, limit: int) -> tuple[int, int]:
    """The span [start, end) grown around its centre to ``size`` (at most ``limit``), kept inside [0, limit)."""
    if end - start >= size:
        return start, end
    size = min(size, limit)
    start = max(0, (start + end - size) // 2)
    end = min(limit, start + size)
    return end - size, end


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


class FacesThenPeople:
    """Someone in the picture, cheaply: faces first, HOG only where no face answered the question.

    For the after-hours check a face is a person (``person_after_hours`` counts both), and CenterFace costs
    a fraction of HOG. HOG runs on the whole frame only when no face of ``face_confidence`` or more was
    found; with crops (:meth:`detect_regions`), only on the crops without such a face. ``faces`` may be the
    mask check (its faces and its mask labels are both kept).
    """

    def __init__(self, faces: Detector, people: HogPeopleDetector, face_confidence: float) -> None:
        """Combine a face detector and the people detector; faces at ``face_confidence`` spare HOG."""
        self.faces = faces
        self.people = people
        self.face_confidence = face_confidence
        self.last_timings: dict[str, float] = {}

    @property
    def name(self) -> str:
        """Both detectors' names."""
        return f"{self.faces.name}+{self.people.name}"

    @property
    def crops_supported(self) -> bool:
        """Whether :meth:`detect_regions` looks only at the crops (HOG does; the faces' detector must too)."""
        return crops_only(self.faces)

    def _answered(self, found: Sequence[Detection]) -> list[Box]:
        return [d.box for d in found if d.label == LABEL_FACE and d.confidence >= self.face_confidence]

    def detect(self, frame_bgr: np.ndarray) -> list[Detection]:
        """Faces of the whole frame, plus HOG's people when no face was confident enough."""
        height, width = frame_bgr.shape[:2]
        return self.detect_regions(frame_bgr, [(0, 0, width, height)], whole=True)

    def detect_regions(self, frame_bgr: np.ndarray, regions: Sequence[Rect], whole: bool = False) -> list[Detection]:
        """Faces in ``regions``, then people in the regions where no confident face was found."""
        started = time.perf_counter()
        if whole or not isinstance(self.faces, RegionDetector):
            found = list(self.faces.detect(frame_bgr))
        else:
            found = list(self.faces.detect_regions(frame_bgr, regions))
        faced = time.perf_counter()
        answered = self._answered(found)
        left = [r for r in regions if not any(inside(box, r) for box in answered)]
        if left:
            found.extend(self.people.detect(frame_bgr) if whole else self.people.detect_regions(frame_bgr, left))
        self.last_timings = {"faces_ms": (faced - started) * 1000,
                             "people_ms": (time.perf_counter() - faced) * 1000,
                             "people_crops": float(0 if not left else len(left))}
        return found
