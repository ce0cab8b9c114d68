"""Evidence pictures: annotated frame for inspectors, face-blurred copy for parents."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image, ImageDraw

from backend.fonts import cjk_font

from .faces import BlurRegion, FaceSearchConfig, merge_faces
from .types import LABEL_FACE, Box, Detection

log = logging.getLogger(__name__)

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
    """JPEG bytes of the evidence variants: annotated (staff, regulators), parent-safe (parents) and the frame
    as captured, without boxes or blur (staff and regulators only: the picture a training set is made of,
    ``backend/violations/training_set.py``)."""

    annotated_jpeg: bytes
    parent_safe_jpeg: bytes
    frame_jpeg: bytes


#: The Chinese word shown on evidence for each label (evidence is read by Chinese inspectors and parents).
LABEL_TEXT: dict[str, str] = {
    "person": "人员",
    "face": "人脸",
    "no_mask": "未戴口罩",
    "no_hat": "未戴帽子",
    "no_uniform": "未穿工作服",
    "smoking": "吸烟",
    "phone": "玩手机",
    "rodent": "老鼠",
}

def label_text(det: Detection, chinese: bool = True) -> str:
    """``未戴口罩 0.91``: the label's Chinese word (or the raw label) and the confidence."""
    word = LABEL_TEXT.get(det.label, det.label) if chinese else det.label
    return f"{word} {det.confidence:.2f}"


def draw_detections(frame_bgr: np.ndarray, detections: Iterable[Detection]) -> np.ndarray:
    """Copy of the frame with each detection's box and its label (``人员 0.87``) drawn.

    Labels are drawn in Chinese with the installed CJK font; without one they fall back to the English label
    in OpenCV's own font rather than to boxes of missing glyphs.
    """
    canvas = frame_bgr.copy()
    h, w = canvas.shape[:2]
    # Line and text size follow the resolution so 1080p evidence stays legible.
    thickness = max(1, round(min(h, w) / 360))
    font = cjk_font(max(12, round(min(h, w) / 32)))
    labels: list[tuple[str, tuple[int, int, int], int, int, int]] = []
    for det in detections:
        colour = LABEL_COLOURS.get(det.label, DEFAULT_COLOUR)
        x1, y1, x2, y2 = (round(v) for v in det.box)
        cv2.rectangle(canvas, (x1, y1), (x2, y2), colour, thickness)
        labels.append((label_text(det, chinese=font is not None), colour, x1, y1, y2))
    if font is None:
        _put_hershey_labels(canvas, labels, thickness)
        return canvas
    # One conversion to Pillow for all labels: OpenCV's fonts have no CJK glyphs.
    image = Image.fromarray(cv2.cvtColor(canvas, cv2.COLOR_BGR2RGB))
    pen = ImageDraw.Draw(image)
    for text, colour, x1, y1, y2 in labels:
        left, top, right, bottom = pen.textbbox((0, 0), text, font=font)
        tw, th = right - left, bottom - top
        # Above the box when there is room, else just below its top edge.
        ty = y1 - th - 4 if y1 - th - 4 >= 0 else min(h - th - 4, y2 + 2)
        pen.rectangle((x1, ty, x1 + tw + 4, ty + th + 4), fill=colour[::-1])
        pen.text((x1 + 2 - left, ty + 2 - top), text, font=font, fill=(0, 0, 0))
    return cv2.cvtColor(np.asarray(image), cv2.COLOR_RGB2BGR)


def _put_hershey_labels(canvas: np.ndarray, labels: Sequence[tuple[str, tuple[int, int, int], int, int, int]],
                        thickness: int) -> None:
    """English labels in OpenCV's Hershey font, for a machine without a CJK font."""
    h, w = canvas.shape[:2]
    font_scale = max(0.4, min(h, w) / 900)
    for text, colour, x1, y1, y2 in labels:
        (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, font_scale, thickness)
        ty = y1 - 4 if y1 - th - base - 4 >= 0 else min(h - 1, y2 + th + 4)
        cv2.rectangle(canvas, (x1, ty - th - base), (x1 + tw, ty + base), colour, cv2.FILLED)
        cv2.putText(canvas, text, (x1, ty), cv2.FONT_HERSHEY_SIMPLEX, font_scale, (0, 0, 0), thickness,
                    cv2.LINE_AA)


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
    regions: Iterable[BlurRegion | Box],
    enlarge: float = 0.15,
    method: str = "pixelate",
) -> np.ndarray:
    """Copy of the frame with each enlarged region pixelated, then blurred.

    A :class:`BlurRegion` brings its own margin; a plain box is grown by ``enlarge``.
    ``method="pixelate"`` blocks the region to 4 cells across and smooths the
    block edges; ``"blur"`` applies a Gaussian blur whose kernel scales with
    the box, strong enough that a face is unrecognisable either way.
    """
    out = frame_bgr.copy()
    h, w = out.shape[:2]
    for item in regions:
        box, margin = (item.box, item.margin) if isinstance(item, BlurRegion) else (item, enlarge)
        x1, y1, x2, y2 = enlarge_box(box, margin, w, h)
        if x2 - x1 < 2 or y2 - y1 < 2:
            continue
        region = out[y1:y2, x1:x2]
        rh, rw = region.shape[:2]
        if method == "pixelate":
            # Four cells across: at eight, a face detector (whose features are as coarse) still finds the face.
            cells = max(2, min(4, rw // 4))
            small = cv2.resize(region, (cells, max(2, round(cells * rh / rw))), interpolation=cv2.INTER_AREA)
            region = cv2.resize(small, (rw, rh), interpolation=cv2.INTER_NEAREST)
            k = max(3, (min(rw, rh) // 4) | 1)
            region = cv2.GaussianBlur(region, (k, k), 0)
        elif method == "blur":
            k = max(3, (max(rw, rh) // 3) | 1)
            region = cv2.GaussianBlur(region, (k, k), 0)
        else:
            raise ValueError(f"unknown anonymisation method {method!r}")
        out[y1:y2, x1:x2] = region
    return out


def parent_safe(
    frame_bgr: np.ndarray,
    detections: Sequence[Detection],
    extra: Iterable[Detection] = (),
    method: str = "pixelate",
    config: FaceSearchConfig | None = None,
) -> np.ndarray:
    """Frame with every face anonymised: the faces and the heads of the people among ``detections`` + ``extra``.

    ``extra`` is what a whole-frame search for the parents' copy found (faces of several detectors, people);
    overlapping faces of different detectors are blurred as one union box, a face only one detector found
    with a wider margin, and every person's head whether a face was found in it or not.
    """
    everything = [*detections, *extra]
    faces = [d for d in everything if d.label == LABEL_FACE]
    return anonymise_regions(frame_bgr, merge_faces(faces, everything, config), method=method)


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
    extra: Iterable[Detection] = (),
) -> EvidenceImages:
    """The evidence JPEGs: boxes drawn on the raw frame, and on the face-anonymised frame; the raw frame.

    ``extra`` (what the whole-frame search for faces and people found) is only blurred, not drawn. Face
    boxes are not drawn on the parent-safe copy: the frame around the anonymised region is the point, not
    the face detector's output.
    """
    annotated = draw_detections(frame_bgr, detections)
    safe = parent_safe(frame_bgr, detections, extra)
    safe = draw_detections(safe, [d for d in detections if d.label != LABEL_FACE])
    return EvidenceImages(encode_jpeg(annotated, quality), encode_jpeg(safe, quality),
                          encode_jpeg(frame_bgr, quality))
