"""Evidence pictures: annotated frame for inspectors, face-blurred copy for parents."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from .types import LABEL_FACE, LABEL_PERSON, Box, Detection

# BGR colours per label; violations in warm colours, context in cool ones.
LABEL_COLOURS: dict[str, tuple[int, int, int]] = {
    "person": (255, 160, 0),
    "face": (200, 200, 200),
    "no_mask": (0, 0, 255),
    "no_hat": (0, 128, 255),
    "no_uniform": (0, 200, 255),
    "smoking": (255, 0, 255),
    "phone": (255, 0, 128),
    "rodent": (0, 0, 160),
}
DEFAULT_COLOUR = (0, 255, 0)


@dataclass(frozen=True)
class EvidenceImages:
    """JPEG bytes of both evidence variants."""

    annotated_jpeg: bytes
    parent_safe_jpeg: bytes


def draw_detections(frame_bgr: np.ndarray, detections: Iterable[Detection]) -> np.ndarray:
    """Copy of the frame with each detection's box and ``label confidence`` drawn."""
    canvas = frame_bgr.copy()
    h, w = canvas.shape[:2]
    # Line and text size follow the resolution so 1080p evidence stays legible.
    thickness = max(1, round(min(h, w) / 360))
    font_scale = max(0.4, min(h, w) / 900)
    for det in detections:
        colour = LABEL_COLOURS.get(det.label, DEFAULT_COLOUR)
        x1, y1, x2, y2 = (round(v) for v in det.box)
        cv2.rectangle(canvas, (x1, y1), (x2, y2), colour, thickness)
        text = f"{det.label} {det.confidence:.2f}"
        (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, font_scale, thickness)
        ty = y1 - 4 if y1 - th - base - 4 >= 0 else min(h - 1, y2 + th + 4)
        cv2.rectangle(canvas, (x1, ty - th - base), (x1 + tw, ty + base), colour, cv2.FILLED)
        cv2.putText(
            canvas, text, (x1, ty), cv2.FONT_HERSHEY_SIMPLEX, font_scale, (0, 0, 0), thickness, cv2.LINE_AA
        )
    return canvas


def enlarge_box(box: Box, factor: float, width: int, height: int) -> tuple[int, int, int, int]:
    """Grow a box by ``factor`` of its size on every side, clipped, as integer pixels."""
    x1, y1, x2, y2 = box
    dx, dy = (x2 - x1) * factor, (y2 - y1) * factor
    return (
        max(0, int(np.floor(x1 - dx))),
        max(0, int(np.floor(y1 - dy))),
        min(width, int(np.ceil(x2 + dx))),
        min(height, int(np.ceil(y2 + dy))),
    )


def anonymise_regions(
    frame_bgr: np.ndarray,
    boxes: Iterable[Box],
    enlarge: float = 0.15,
    method: str = "pixelate",
) -> np.ndarray:
    """Copy of the frame with each (slightly enlarged) box pixelated, then blurred.

    ``method="pixelate"`` blocks the region to ~8 cells across and smooths the
    block edges; ``"blur"`` applies a Gaussian blur whose kernel scales with
    the box, strong enough that a face is unrecognisable either way.
    """
    out = frame_bgr.copy()
    h, w = out.shape[:2]
    for box in boxes:
        x1, y1, x2, y2 = enlarge_box(box, enlarge, w, h)
        if x2 - x1 < 2 or y2 - y1 < 2:
            continue
        region = out[y1:y2, x1:x2]
        rh, rw = region.shape[:2]
        if method == "pixelate":
            cells = max(2, min(8, rw // 4))
            small = cv2.resize(region, (cells, max(2, round(cells * rh / rw))), interpolation=cv2.INTER_AREA)
            region = cv2.resize(small, (rw, rh), interpolation=cv2.INTER_NEAREST)
            k = max(3, (min(rw, rh) // 8) | 1)
            region = cv2.GaussianBlur(region, (k, k), 0)
        elif method == "blur":
            k = max(3, (max(rw, rh) // 3) | 1)
            region = cv2.GaussianBlur(region, (k, k), 0)
        else:
            raise ValueError(f"unknown anonymisation method {method!r}")
        out[y1:y2, x1:x2] = region
    return out


def head_boxes(detections: Iterable[Detection], faces: Sequence[Box], head_share: float = 0.28) -> list[Box]:
    """Head regions (top of the box) of people that contain no detected face.

    The face detector misses profiles and small or downward-looking faces; for
    a picture shown to parents, blurring a bit too much beats leaking a face.
    """
    heads: list[Box] = []
    for det in detections:
        if det.label != LABEL_PERSON:
            continue
        x1, y1, x2, y2 = det.box
        has_face = any(x1 <= (f[0] + f[2]) / 2 <= x2 and y1 <= (f[1] + f[3]) / 2 <= y2 for f in faces)
        if not has_face:
            heads.append((x1, y1, x2, y1 + (y2 - y1) * head_share))
    return heads


def parent_safe(
    frame_bgr: np.ndarray,
    detections: Sequence[Detection],
    extra_face_boxes: Iterable[Box] = (),
    blur_heads_without_face: bool = True,
    method: str = "pixelate",
) -> np.ndarray:
    """Frame with faces (``face`` detections plus ``extra_face_boxes``) anonymised."""
    faces: list[Box] = [d.box for d in detections if d.label == LABEL_FACE]
    faces.extend(extra_face_boxes)
    regions = list(faces)
    if blur_heads_without_face:
        regions.extend(head_boxes(detections, faces))
    return anonymise_regions(frame_bgr, regions, method=method)


def encode_jpeg(image_bgr: np.ndarray, quality: int = 85) -> bytes:
    """JPEG-encode a BGR image."""
    ok, buf = cv2.imencode(".jpg", image_bgr, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:
        raise ValueError("JPEG encoding failed")
    return buf.tobytes()


def make_evidence(
    frame_bgr: np.ndarray,
    detections: Sequence[Detection],
    quality: int = 85,
    blur_heads_without_face: bool = True,
) -> EvidenceImages:
    """Both evidence JPEGs: boxes drawn on the raw frame, and on the face-anonymised frame.

    Face boxes are not drawn on the parent-safe copy: the frame around the
    anonymised region is the point, not the face detector's output.
    """
    annotated = draw_detections(frame_bgr, detections)
    safe = parent_safe(frame_bgr, detections, blur_heads_without_face=blur_heads_without_face)
    safe = draw_detections(safe, [d for d in detections if d.label != LABEL_FACE])
    return EvidenceImages(encode_jpeg(annotated, quality), encode_jpeg(safe, quality))
