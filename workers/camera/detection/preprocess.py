"""Turning a BGR frame into a model input tensor, and model boxes back into frame pixels."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

#: Ultralytics' letterbox grey; models trained with it expect that padding.
LETTERBOX_PAD = 114


@dataclass(frozen=True)
class LetterboxInfo:
    """How a source frame was placed inside the model input.

    A source pixel (x, y) lands on (x * scale_x + pad_x, y * scale_y + pad_y).
    With ``letterbox`` the two scales are equal; a plain resize stretches.
    """

    scale_x: float
    scale_y: float
    pad_x: float
    pad_y: float
    src_width: int
    src_height: int

    def to_source(self, boxes: np.ndarray) -> np.ndarray:
        """Map (N, 4) x1,y1,x2,y2 boxes from model-input to source pixels, clipped to the frame."""
        out = np.asarray(boxes, dtype=np.float32).reshape(-1, 4).copy()
        out[:, [0, 2]] = (out[:, [0, 2]] - self.pad_x) / self.scale_x
        out[:, [1, 3]] = (out[:, [1, 3]] - self.pad_y) / self.scale_y
        out[:, [0, 2]] = out[:, [0, 2]].clip(0, self.src_width)
        out[:, [1, 3]] = out[:, [1, 3]].clip(0, self.src_height)
        return out

    def points_to_source(self, points: np.ndarray) -> np.ndarray:
        """Map (..., 2) x,y points from model-input to source pixels (not clipped)."""
        out = np.asarray(points, dtype=np.float32).copy()
        out[..., 0] = (out[..., 0] - self.pad_x) / self.scale_x
        out[..., 1] = (out[..., 1] - self.pad_y) / self.scale_y
        return out


@dataclass(frozen=True)
class Normalization:
    """Per-channel ``(pixel * scale - mean) / std`` applied in model channel order."""

    scale: float = 1.0 / 255.0
    mean: tuple[float, float, float] = (0.0, 0.0, 0.0)
    std: tuple[float, float, float] = (1.0, 1.0, 1.0)

    @property
    def is_plain_scale(self) -> bool:
        """True when only the scale factor applies (the common YOLO case)."""
        return self.mean == (0.0, 0.0, 0.0) and self.std == (1.0, 1.0, 1.0)


def letterbox(
    frame: np.ndarray,
    width: int,
    height: int,
    keep_ratio: bool = True,
    pad_value: int = LETTERBOX_PAD,
) -> tuple[np.ndarray, LetterboxInfo]:
    """Resize ``frame`` into ``width`` x ``height``, padding to keep the aspect ratio.

    The resized picture is centred (as YOLOv5/v8 export pipelines do); with
    ``keep_ratio=False`` the frame is stretched instead and nothing is padded.
    """
    src_h, src_w = frame.shape[:2]
    if not keep_ratio:
        resized = cv2.resize(frame, (width, height), interpolation=cv2.INTER_LINEAR)
        return resized, LetterboxInfo(width / src_w, height / src_h, 0.0, 0.0, src_w, src_h)

    scale = min(width / src_w, height / src_h)
    new_w = max(1, round(src_w * scale))
    new_h = max(1, round(src_h * scale))
    # Area averaging against aliasing from a 2x reduction on; milder ones resize linearly (5x cheaper).
    interp = cv2.INTER_AREA if scale <= 0.5 else cv2.INTER_LINEAR
    resized = (
        cv2.resize(frame, (new_w, new_h), interpolation=interp) if (new_w, new_h) != (src_w, src_h) else frame
    )
    left = (width - new_w) // 2
    top = (height - new_h) // 2
    if (new_w, new_h) == (width, height):  # same aspect ratio: nothing to pad
        return resized, LetterboxInfo(new_w / src_w, new_h / src_h, 0.0, 0.0, src_w, src_h)
    canvas = np.full((height, width, *frame.shape[2:]), pad_value, dtype=frame.dtype)
    canvas[top : top + new_h, left : left + new_w] = resized
    # The effective scale per axis uses the rounded size, so that mapping back
    # is exact at the picture edges.
    return canvas, LetterboxInfo(new_w / src_w, new_h / src_h, float(left), float(top), src_w, src_h)


def to_input_tensor(
    image_bgr: np.ndarray,
    channel_order: str = "RGB",
    normalization: Normalization | None = None,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """HWC uint8 BGR image -> (1, 3, H, W) float32 tensor in the model's channel order.

    ``out`` is a float32 (1, 3, H, W) array to fill instead of allocating one: a detector reuses its own,
    because a fresh 4 MB array per frame costs more in page faults than the conversion itself.
    """
    norm = normalization or Normalization()
    if image_bgr.ndim == 2:
        image_bgr = cv2.cvtColor(image_bgr, cv2.COLOR_GRAY2BGR)
    height, width = image_bgr.shape[:2]
    if out is None or out.shape != (1, 3, height, width) or out.dtype != np.float32:
        out = np.empty((1, 3, height, width), dtype=np.float32)
    # The HWC -> CHW transpose, the channel swap and the conversion to float in one strided copy straight into
    # the tensor (splitting the planes first, then converting each, cost a fifth more after a model run), then
    # in-place arithmetic: no intermediate full-size arrays.
    planar = image_bgr.transpose(2, 0, 1)
    np.copyto(out[0], planar[::-1] if channel_order == "RGB" else planar, casting="unsafe")
    if norm.scale != 1.0:
        np.multiply(out, np.float32(norm.scale), out=out)
    if not norm.is_plain_scale:
        mean = np.asarray(norm.mean, dtype=np.float32).reshape(1, 3, 1, 1)
        std = np.asarray(norm.std, dtype=np.float32).reshape(1, 3, 1, 1)
        np.subtract(out, mean, out=out)
        np.divide(out, std, out=out)
    return out
