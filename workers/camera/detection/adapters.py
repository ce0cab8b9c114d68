"""Decoding raw model outputs (YOLOv5, YOLOv8, CenterFace) into detections."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from .preprocess import LetterboxInfo
from .types import Detection


@dataclass(frozen=True)
class DecodeParams:
    """What a decoder needs besides the tensors: labels, thresholds, provenance.

    ``labels`` maps class index -> label; classes missing from it are dropped,
    which lets a card use only a few classes of a generic model.
    ``class_thresholds`` overrides ``confidence`` per class index.
    """

    labels: Mapping[int, str]
    confidence: float = 0.25
    iou: float = 0.45
    class_thresholds: Mapping[int, float] = field(default_factory=dict)
    max_detections: int = 300
    source: str = "model"

    def threshold_vector(self, num_classes: int) -> np.ndarray:
        """Per-class confidence thresholds; unmapped classes get +inf (never kept)."""
        vec = np.full(num_classes, np.inf, dtype=np.float32)
        for idx in self.labels:
            if 0 <= idx < num_classes:
                vec[idx] = self.class_thresholds.get(idx, self.confidence)
        return vec


def nms(boxes: np.ndarray, scores: np.ndarray, iou_threshold: float) -> np.ndarray:
    """Greedy non-maximum suppression; returns kept indices, best score first."""
    boxes = np.asarray(boxes, dtype=np.float32).reshape(-1, 4)
    if len(boxes) == 0:
        return np.empty(0, dtype=np.int64)
    x1, y1, x2, y2 = boxes.T
    areas = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    order = np.argsort(-np.asarray(scores), kind="stable")
    keep: list[int] = []
    while order.size:
        i = int(order[0])
        keep.append(i)
        rest = order[1:]
        w = np.clip(np.minimum(x2[i], x2[rest]) - np.maximum(x1[i], x1[rest]), 0, None)
        h = np.clip(np.minimum(y2[i], y2[rest]) - np.maximum(y1[i], y1[rest]), 0, None)
        inter = w * h
        union = areas[i] + areas[rest] - inter
        overlap = np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)
        order = rest[overlap <= iou_threshold]
    return np.asarray(keep, dtype=np.int64)


def batched_nms(
    boxes: np.ndarray, scores: np.ndarray, class_ids: np.ndarray, iou_threshold: float
) -> np.ndarray:
    """Class-aware NMS: boxes of different classes never suppress each other."""
    boxes = np.asarray(boxes, dtype=np.float32).reshape(-1, 4)
    if len(boxes) == 0:
        return np.empty(0, dtype=np.int64)
    # Shift each class into its own far-apart region so one NMS pass suffices.
    offset = (float(boxes.max()) + 1.0) * np.asarray(class_ids, dtype=np.float32)[:, None]
    return nms(boxes + offset, scores, iou_threshold)


def _xywh_to_xyxy(xywh: np.ndarray) -> np.ndarray:
    cx, cy, w, h = xywh[:, 0], xywh[:, 1], xywh[:, 2], xywh[:, 3]
    return np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=1)


def _finish(
    boxes_xyxy: np.ndarray,
    scores: np.ndarray,
    class_ids: np.ndarray,
    params: DecodeParams,
    info: LetterboxInfo,
    keypoints: np.ndarray | None = None,
) -> list[Detection]:
    """Threshold per class, class-aware NMS, map to source pixels, build detections."""
    num_classes = int(class_ids.max()) + 1 if len(class_ids) else 0
    thresholds = params.threshold_vector(num_classes)
    keep = scores >= thresholds[class_ids] if len(class_ids) else np.zeros(0, dtype=bool)
    boxes_xyxy, scores, class_ids = boxes_xyxy[keep], scores[keep], class_ids[keep]
    if keypoints is not None:
        keypoints = keypoints[keep]
    if len(scores) == 0:
        return []

    kept = batched_nms(boxes_xyxy, scores, class_ids, params.iou)[: params.max_detections]
    src_boxes = info.to_source(boxes_xyxy[kept])
    src_points = info.points_to_source(keypoints[kept]) if keypoints is not None else None

    detections: list[Detection] = []
    for row, idx in enumerate(kept):
        x1, y1, x2, y2 = (float(v) for v in src_boxes[row])
        # A box that lies entirely in the letterbox padding collapses to zero
        # size once clipped: it is not a real object.
        if x2 - x1 < 1.0 or y2 - y1 < 1.0:
            continue
        points: tuple[tuple[float, float], ...] = ()
        if src_points is not None:
            points = tuple((float(px), float(py)) for px, py in src_points[row])
        detections.append(
            Detection(
                label=params.labels[int(class_ids[idx])],
                confidence=float(scores[idx]),
                box=(x1, y1, x2, y2),
                source=params.source,
                keypoints=points,
            )
        )
    return detections


def _as_rows(
    output: np.ndarray, num_classes: int | None, extra: int, fmt: str, transposed: bool
) -> np.ndarray:
    """Return the head as (N, extra + C) rows.

    Accepts (1, N, K), (N, K) and the transposed (1, K, N). Without an explicit
    ``num_classes`` the layout follows the format's convention (``transposed``
    for YOLOv8); with it, whichever axis has ``extra + C`` values wins.
    """
    arr = np.asarray(output, dtype=np.float32)
    if arr.ndim == 3:
        if arr.shape[0] != 1:
            raise ValueError(f"{fmt}: expected batch size 1, got output shape {arr.shape}")
        arr = arr[0]
    if arr.ndim != 2:
        raise ValueError(f"{fmt}: expected a 2-D or 3-D output, got shape {np.shape(output)}")
    if num_classes is None:
        rows = arr.T if transposed else arr
        if rows.shape[1] <= extra:
            raise ValueError(f"{fmt}: output shape {np.shape(output)} has no class scores")
        return rows
    row_len = extra + num_classes
    if arr.shape[1] == row_len and not (transposed and arr.shape[0] == row_len):
        return arr
    if arr.shape[0] == row_len:
        return arr.T
    raise ValueError(f"{fmt}: output shape {np.shape(output)} does not fit {row_len} values per box")


def _check_labels(params: DecodeParams, num_classes: int, fmt: str) -> None:
    too_high = [idx for idx in params.labels if idx >= num_classes]
    if too_high:
        raise ValueError(f"{fmt}: classes {too_high} mapped but the model only has {num_classes} classes")


def decode_yolov5(
    output: np.ndarray, params: DecodeParams, info: LetterboxInfo, num_classes: int | None = None
) -> list[Detection]:
    """Decode a YOLOv5 head ``[1, N, 5 + C]``: cx, cy, w, h, objectness, class scores.

    Confidence is objectness x class score of the best class, as in YOLOv5's
    own ``non_max_suppression`` (single label per box). ``num_classes``
    defaults to what the output shape says.
    """
    rows = _as_rows(output, num_classes, 5, "yolov5", transposed=False)
    _check_labels(params, rows.shape[1] - 5, "yolov5")
    if len(rows) == 0:
        return []
    obj = rows[:, 4]
    cls_scores = rows[:, 5:] * obj[:, None]
    class_ids = cls_scores.argmax(axis=1)
    scores = cls_scores[np.arange(len(rows)), class_ids]
    return _finish(_xywh_to_xyxy(rows[:, :4]), scores, class_ids, params, info)


def decode_yolov8(
    output: np.ndarray, params: DecodeParams, info: LetterboxInfo, num_classes: int | None = None
) -> list[Detection]:
    """Decode a YOLOv8 head ``[1, 4 + C, N]`` (no objectness).

    The untransposed ``[1, N, 4 + C]`` is accepted when ``num_classes`` is given.
    """
    rows = _as_rows(output, num_classes, 4, "yolov8", transposed=True)
    _check_labels(params, rows.shape[1] - 4, "yolov8")
    if len(rows) == 0:
        return []
    cls_scores = rows[:, 4:]
    class_ids = cls_scores.argmax(axis=1)
    scores = cls_scores[np.arange(len(rows)), class_ids]
    return _finish(_xywh_to_xyxy(rows[:, :4]), scores, class_ids, params, info)


def decode_centerface(
    heatmap: np.ndarray,
    scale: np.ndarray,
    offset: np.ndarray,
    landmarks: np.ndarray | None,
    input_size: tuple[int, int],
    params: DecodeParams,
    info: LetterboxInfo,
) -> list[Detection]:
    """Decode CenterFace's four maps into face boxes (class 0) with 5 landmarks.

    ``heatmap`` is (1, 1, h, w) face-centre probability, ``scale`` (1, 2, h, w)
    log height/width in stride units, ``offset`` (1, 2, h, w) sub-cell y/x
    shift of the centre, ``landmarks`` (1, 10, h, w) (y, x) pairs relative to
    the box. The stride is derived from ``input_size`` (width, height) vs the
    map size instead of assuming 4.
    """
    hm = np.asarray(heatmap, dtype=np.float32)[0, 0]
    map_h, map_w = hm.shape
    stride_y = input_size[1] / map_h
    stride_x = input_size[0] / map_w
    threshold = min(params.class_thresholds.get(0, params.confidence), params.confidence)
    ys, xs = np.nonzero(hm >= threshold)
    if len(ys) == 0:
        return []
    sc = np.asarray(scale, dtype=np.float32)[0]
    off = np.asarray(offset, dtype=np.float32)[0]
    box_h = np.exp(sc[0, ys, xs]) * stride_y
    box_w = np.exp(sc[1, ys, xs]) * stride_x
    cy = (ys + off[0, ys, xs] + 0.5) * stride_y
    cx = (xs + off[1, ys, xs] + 0.5) * stride_x
    x1 = cx - box_w / 2
    y1 = cy - box_h / 2
    boxes = np.stack([x1, y1, x1 + box_w, y1 + box_h], axis=1)
    scores = hm[ys, xs]

    points = None
    if landmarks is not None:
        lm = np.asarray(landmarks, dtype=np.float32)[0]
        n_points = lm.shape[0] // 2
        points = np.empty((len(ys), n_points, 2), dtype=np.float32)
        for j in range(n_points):
            points[:, j, 0] = lm[2 * j + 1, ys, xs] * box_w + x1
            points[:, j, 1] = lm[2 * j, ys, xs] * box_h + y1
    class_ids = np.zeros(len(ys), dtype=np.int64)
    return _finish(boxes, scores, class_ids, params, info, keypoints=points)
