"""Shared value types of the detection engine."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np

#: (x1, y1, x2, y2) in source-frame pixels, x2 > x1 and y2 > y1.
Box = tuple[float, float, float, float]

#: Labels the violation rules understand. Models may emit other labels; the
#: rules simply ignore those.
LABEL_PERSON = "person"
LABEL_FACE = "face"
LABEL_NO_MASK = "no_mask"
LABEL_NO_HAT = "no_hat"
LABEL_NO_UNIFORM = "no_uniform"
LABEL_SMOKING = "smoking"
LABEL_PHONE = "phone"
LABEL_RODENT = "rodent"

KNOWN_LABELS: frozenset[str] = frozenset(
    {
        LABEL_PERSON,
        LABEL_FACE,
        LABEL_NO_MASK,
        LABEL_NO_HAT,
        LABEL_NO_UNIFORM,
        LABEL_SMOKING,
        LABEL_PHONE,
        LABEL_RODENT,
    }
)


@dataclass(frozen=True)
class Detection:
    """One object found in a frame.

    ``box`` is (x1, y1, x2, y2) in pixels of the frame that was passed to the
    detector (not the model input), ``source`` names the detector that produced
    it (e.g. ``"kitchen-ppe@1.2.0"`` or ``"hog"``), ``keypoints`` holds optional
    landmarks (CenterFace: eyes, nose, mouth corners) in the same pixel space.
    """

    label: str
    confidence: float
    box: Box
    source: str
    keypoints: tuple[tuple[float, float], ...] = field(default=(), compare=False)

    @property
    def width(self) -> float:
        """Box width in pixels."""
        return self.box[2] - self.box[0]

    @property
    def height(self) -> float:
        """Box height in pixels."""
        return self.box[3] - self.box[1]

    @property
    def area(self) -> float:
        """Box area in square pixels."""
        return max(0.0, self.width) * max(0.0, self.height)

    def to_dict(self) -> dict[str, object]:
        """JSON-friendly representation (for logs, violation evidence records)."""
        data: dict[str, object] = {
            "label": self.label,
            "confidence": round(float(self.confidence), 4),
            "box": [round(float(v), 1) for v in self.box],
            "source": self.source,
        }
        if self.keypoints:
            data["keypoints"] = [[round(float(x), 1), round(float(y), 1)] for x, y in self.keypoints]
        return data


@runtime_checkable
class Detector(Protocol):
    """Anything that turns a BGR frame into detections (ONNX model, HOG, ...)."""

    @property
    def name(self) -> str:
        """Stable identifier used in timings and ``Detection.source``."""
        ...

    def detect(self, frame_bgr: np.ndarray) -> list[Detection]:
        """Return detections with boxes in ``frame_bgr`` pixel coordinates."""
        ...


def iou(a: Box, b: Box) -> float:
    """Intersection over union of two boxes (0.0 when either is empty)."""
    ix1, iy1 = max(a[0], b[0]), max(a[1], b[1])
    ix2, iy2 = min(a[2], b[2]), min(a[3], b[3])
    inter = max(0.0, ix2 - ix1) * max(0.0, iy2 - iy1)
    area_a = max(0.0, a[2] - a[0]) * max(0.0, a[3] - a[1])
    area_b = max(0.0, b[2] - b[0]) * max(0.0, b[3] - b[1])
    union = area_a + area_b - inter
    return inter / union if union > 0 else 0.0
