"""Where in a frame the models look: rectangles around what moved and what was seen last time.

A sample that passed the motion gate usually changed in a small part of the picture (a cook walking, a
door). The detectors that can (``detect_regions``: CenterFace, HOG, the mask check) run only on crops
around the motion boxes, grown by a margin, plus the boxes of the people and faces of the camera's last
analysed sample (so that someone standing still next to a mover is still looked at). Overlapping
rectangles are merged where their bounding box costs no more than looking at them apart
(``RegionConfig.merge_slack``); the detectors report what two crops both saw once. The whole frame is
analysed instead on a camera's first sample, on keep-alive runs, when nearly everything changed (lights, a
moved camera) and when the crops would cover most of the picture anyway.

A detection of the last analysed sample that no crop reaches (nothing moved around it) is carried, not
looked for again, for at most ``RegionConfig.still_seconds`` after the detectors found it
(:func:`plan_regions`): a cook standing still at a station costs no detector run between two looks.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np

from .types import Box, Detection

#: (left, top, right, bottom) in integer frame pixels.
Rect = tuple[int, int, int, int]


@dataclass(frozen=True)
class RegionConfig:
    """How the crops around motion are drawn."""

    # Each box grows by this share of its own size on every side (a moving arm's box holds only part of
    # the person), and by at least ``min_pad`` pixels. On vtest.avi after hours, 0.2 / 16 keeps 98 % of the
    # person boxes HOG finds on whole frames (306 of 312) and every sample's answer, at a quarter of the cost.
    margin: float = 0.2
    min_pad: int = 16
    # Above this share of the frame, crops cost about what the whole frame costs: run on the frame.
    max_share: float = 0.55
    # Two overlapping crops are analysed as their bounding box only when it is at most this share of the frame
    # larger than the two apart: a detector's call costs about that much beyond its pixels (CenterFace: 0.4 ms
    # for a 32 x 32 input, the work of ~2,000 of its input pixels, ~0.6 % of the frame at its 640 x 480 scale;
    # 0 and 1.5 % measured alike). Merging every overlapping pair made the crops of a busy kitchen a quarter
    # larger than the boxes they hold.
    merge_slack: float = 0.006
    # A detection of the last analysed sample in a part of the picture where nothing moved (no crop reaches
    # its grown box) is carried to this sample instead of being looked for again, for at most this long after
    # the detectors last found it; then it is looked for again (0: always). As the mask verdicts
    # (``two_stage.VerdictReuse``), so a face standing still is detected and classified at least every 10 s.
    still_seconds: float = 10.0


@runtime_checkable
class RegionDetector(Protocol):
    """A detector that can look at parts of a frame only (boxes still in frame pixels)."""

    def detect_regions(self, frame_bgr: np.ndarray, regions: Sequence[Rect]) -> list[Detection]:
        """Detections inside ``regions`` of ``frame_bgr``, boxes in frame pixels."""
        ...


def crops_only(detector: object) -> bool:
    """Whether ``detector`` looks at nothing but the crops it is given (``crops_supported`` where it says, else
    whether it takes crops at all)."""
    return bool(getattr(detector, "crops_supported", isinstance(detector, RegionDetector)))


def grow(box: Box, width: int, height: int, margin: float, min_pad: int) -> Rect:
    """``box`` grown by ``margin`` of its size (at least ``min_pad`` px) on every side, clipped to the frame."""
    x1, y1, x2, y2 = box
    dx = max((x2 - x1) * margin, min_pad)
    dy = max((y2 - y1) * margin, min_pad)
    return (max(0, int(x1 - dx)), max(0, int(y1 - dy)), min(width, int(np.ceil(x2 + dx))),
            min(height, int(np.ceil(y2 + dy))))


def merge(rects: Iterable[Rect], slack: float = math.inf) -> list[Rect]:
    """Crops from rectangles: two that overlap become their bounding box when it is at most ``slack`` pixels
    larger than the two apart (default: always); repeated until no pair merges.

    Two crops that stay apart may overlap: a detector looking at both reports what lies in the overlap once
    (its non-maximum suppression runs over all its crops).
    """
    pending = [r for r in rects if r[2] > r[0] and r[3] > r[1]]
    merged = True
    while merged:
        merged = False
        out: list[Rect] = []
        for rect in pending:
            for index, other in enumerate(out):
                union = (min(rect[0], other[0]), min(rect[1], other[1]), max(rect[2], other[2]),
                         max(rect[3], other[3]))
                if _touch(rect, other) and _area(union) <= _area(rect) + _area(other) + slack:
                    out[index] = union
                    merged = True
                    break
            else:
                out.append(rect)
        pending = out
    return sorted(pending)


def _area(rect: Rect) -> int:
    return (rect[2] - rect[0]) * (rect[3] - rect[1])


def motion_regions(frame_shape: tuple[int, ...], motion_boxes: Sequence[Box], tracked: Sequence[Box],
                   config: RegionConfig | None = None) -> list[Rect] | None:
    """The rectangles to analyse, or None for the whole frame (no motion box, or crops covering most of it)."""
    cfg = config or RegionConfig()
    if not motion_boxes:
        return None
    height, width = frame_shape[:2]
    rects = merge((grow(box, width, height, cfg.margin, cfg.min_pad) for box in [*motion_boxes, *tracked]),
                  cfg.merge_slack * width * height)
    if sum(_area(r) for r in rects) > cfg.max_share * width * height:
        return None
    return rects


@dataclass(frozen=True)
class Sighting:
    """A detection of a camera's last analysed sample, with the time the detectors found it (None: unknown,
    from an older state: never carried)."""

    detection: Detection
    at: float | None

    def to_dict(self) -> dict[str, object]:
        """JSON-compatible form (the detection's own, plus ``at``)."""
        return {**self.detection.to_dict(), "at": self.at}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Sighting:
        """Rebuild from :meth:`to_dict` output."""
        box = data["box"]
        detection = Detection(str(data["label"]), float(data["confidence"]),
                              (float(box[0]), float(box[1]), float(box[2]), float(box[3])), str(data["source"]),
                              tuple((float(x), float(y)) for x, y in data.get("keypoints") or ()))
        at = data.get("at")
        return cls(detection, None if at is None else float(at))


def plan_regions(frame_shape: tuple[int, ...], motion_boxes: Sequence[Box], sightings: Sequence[Sighting],
                 now: float, config: RegionConfig | None = None) -> tuple[list[Rect] | None, list[Sighting]]:
    """The rectangles to analyse (None: the whole frame) and the sightings carried without a look.

    A sighting younger than ``still_seconds`` whose grown box no rectangle reaches is carried: nothing moved
    around it since the detectors found it, so they would find it again. The others are looked at again
    (their boxes join the crops, as in :func:`motion_regions`); a rectangle that grows over a carried
    sighting while they merge makes it looked at too.
    """
    cfg = config or RegionConfig()
    height, width = frame_shape[:2]

    def grown(box: Box) -> Rect:
        return grow(box, width, height, cfg.margin, cfg.min_pad)

    carried = [s for s in sightings if s.at is not None and 0.0 <= now - s.at <= cfg.still_seconds]
    looked = [s.detection.box for s in sightings if s not in carried]
    while True:
        rects = motion_regions(frame_shape, motion_boxes, looked, cfg)
        if rects is None:
            return None, []
        reached = [s for s in carried if any(_touch(grown(s.detection.box), r) for r in rects)]
        if not reached:
            return rects, carried
        carried = [s for s in carried if s not in reached]
        looked.extend(s.detection.box for s in reached)


def _touch(a: Rect, b: Rect) -> bool:
    """Whether two rectangles overlap."""
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def shifted(detection: Detection, dx: float, dy: float) -> Detection:
    """``detection`` moved by (dx, dy): from crop pixels to frame pixels."""
    x1, y1, x2, y2 = detection.box
    points = tuple((x + dx, y + dy) for x, y in detection.keypoints)
    return Detection(detection.label, detection.confidence, (x1 + dx, y1 + dy, x2 + dx, y2 + dy),
                     detection.source, points)


def inside(box: Box, rect: Rect) -> bool:
    """Whether the centre of ``box`` lies in ``rect``."""
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    return rect[0] <= cx < rect[2] and rect[1] <= cy < rect[3]
