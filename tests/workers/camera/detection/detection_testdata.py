"""Real pictures and tiny ONNX models shared by the detection tests (no conftest needed)."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

VTEST_CANDIDATES = (
    Path("/usr/share/doc/opencv-doc/examples/data/vtest.avi"),
    Path("/usr/share/opencv4/samples/data/vtest.avi"),
)


def vtest_path() -> Path:
    """Path of OpenCV's pedestrian sample video (Debian package opencv-doc); skips if absent."""
    for path in VTEST_CANDIDATES:
        if path.is_file():
            return path
    pytest.skip("vtest.avi not found: install the Debian package 'opencv-doc' (apt-get install opencv-doc)")


@lru_cache(maxsize=1)
def _vtest_frames(count: int) -> tuple[np.ndarray, ...]:
    cap = cv2.VideoCapture(str(vtest_path()))
    frames = []
    try:
        while len(frames) < count:
            ok, frame = cap.read()
            if not ok:
                break
            frames.append(frame)
    finally:
        cap.release()
    assert len(frames) == count, f"could only read {len(frames)} frames from vtest.avi"
    return tuple(frames)


def vtest_frame(index: int) -> np.ndarray:
    """A copy of frame ``index`` (< 40) of vtest.avi, 768x576 BGR."""
    return _vtest_frames(40)[index].copy()


@lru_cache(maxsize=1)
def _astronaut() -> np.ndarray:
    from skimage import data

    return cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR)


def astronaut_bgr() -> np.ndarray:
    """scikit-image's 512x512 astronaut photo as BGR."""
    return _astronaut().copy()


#: Hand-checked face of the astronaut (forehead to chin, ear to ear), x1, y1, x2, y2.
ASTRONAUT_FACE = (180.0, 60.0, 268.0, 178.0)

#: Hand-checked walkers in vtest frame 0, x1, y1, x2, y2.
VTEST_FRAME0_PEOPLE = (
    (253.0, 220.0, 285.0, 308.0),
    (500.0, 157.0, 530.0, 233.0),
    (638.0, 240.0, 686.0, 322.0),
)


def constant_model(
    outputs: dict[str, np.ndarray],
    input_shape: list[int | str],
    input_name: str = "images",
    opset: int = 17,
) -> bytes:
    """An ONNX model whose outputs are fixed tensors, whatever the (validated) input."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    nodes = []
    graph_outputs = []
    for name, value in outputs.items():
        tensor = numpy_helper.from_array(np.asarray(value, dtype=np.float32), name=f"{name}_value")
        nodes.append(helper.make_node("Constant", [], [name], value=tensor))
        graph_outputs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, list(value.shape)))
    graph = helper.make_graph(
        nodes,
        "constant_head",
        [helper.make_tensor_value_info(input_name, TensorProto.FLOAT, input_shape)],
        graph_outputs,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model.SerializeToString()


def identity_model(input_shape: list[int | str]) -> bytes:
    """An ONNX model returning its input; used to check input-shape handling."""
    import onnx
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [helper.make_node("Identity", ["x"], ["y"])],
        "identity",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, input_shape)],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, input_shape)],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model.SerializeToString()


def write_model(directory: Path, stem: str, model: bytes, card: dict[str, Any]) -> Path:
    """Write ``stem.onnx`` and ``stem.json`` into ``directory``; returns the card path."""
    (directory / f"{stem}.onnx").write_bytes(model)
    card_path = directory / f"{stem}.json"
    card_path.write_text(json.dumps(card), encoding="utf-8")
    return card_path


def box_iou(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    """IoU of two x1,y1,x2,y2 boxes."""
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = w * h
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union else 0.0
