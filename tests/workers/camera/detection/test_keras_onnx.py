"""The Keras HDF5 -> ONNX converter on a small model written here, against a NumPy forward pass.

The real model's exactness is shown against TensorFlow in test_face_mask.py; this one reaches the corners
MobileNetV2 does not: 'same' padding of a strided convolution (one pixel, after), a batch normalisation that
cannot be folded (its input has a second reader), a depthwise multiplier of 2, Flatten over 3 x 3 pixels.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort
import pytest

from workers.camera.detection.keras_onnx import ConversionError, convert, convert_file

RNG = np.random.default_rng(7)


def layer(name: str, kind: str, inbound: list[str], **config: Any) -> dict[str, Any]:
    return {"name": name, "class_name": kind, "config": {"name": name, **config},
            "inbound_nodes": [[[source, 0, 0, {}] for source in inbound]] if inbound else []}


def weights() -> dict[str, dict[str, np.ndarray]]:
    def bn(channels: int) -> dict[str, np.ndarray]:
        return {"gamma": RNG.uniform(0.5, 1.5, channels), "beta": RNG.normal(0, 0.2, channels),
                "moving_mean": RNG.normal(0, 0.3, channels), "moving_variance": RNG.uniform(0.2, 2.0, channels)}

    return {
        "conv": {"kernel": RNG.normal(0, 0.4, (3, 3, 3, 4)), "bias": RNG.normal(0, 0.1, 4)},
        "conv_bn": bn(4),
        "dw": {"depthwise_kernel": RNG.normal(0, 0.4, (3, 3, 4, 2))},
        "dw_bn": bn(8),
        "dense": {"kernel": RNG.normal(0, 0.3, (3 * 3 * 8, 3)), "bias": RNG.normal(0, 0.1, 3)},
    }


LAYERS = [
    layer("in", "InputLayer", [], batch_input_shape=[None, 8, 8, 3]),
    layer("conv", "Conv2D", ["in"], filters=4, kernel_size=[3, 3], strides=[2, 2], padding="same",
          activation="linear", use_bias=True),  # 8 -> 4: TensorFlow pads 0 before, 1 after
    layer("conv_bn", "BatchNormalization", ["conv"], axis=[3], epsilon=0.001),
    layer("relu6", "ReLU", ["conv_bn"], max_value=6.0, negative_slope=0.0, threshold=0.0),
    layer("pad", "ZeroPadding2D", ["relu6"], padding=[[0, 1], [1, 0]]),
    layer("dw", "DepthwiseConv2D", ["pad"], kernel_size=[3, 3], strides=[1, 1], padding="valid",
          depth_multiplier=2, activation="linear", use_bias=False),  # padded 5 x 5 -> 3 x 3
    layer("dw_bn", "BatchNormalization", ["dw"], axis=[3], epsilon=0.001),
    layer("add", "Add", ["dw", "dw_bn"]),  # dw has two readers: its batch norm cannot be folded
    layer("flat", "Flatten", ["add"]),
    layer("drop", "Dropout", ["flat"], rate=0.5),
    layer("dense", "Dense", ["drop"], units=3, activation="softmax", use_bias=True),
]


def write_h5(path: Path, layers: list[dict[str, Any]], values: dict[str, dict[str, np.ndarray]]) -> Path:
    """An HDF5 file laid out as Keras 2 saves a whole model (model_config + model_weights)."""
    import h5py

    with h5py.File(path, "w") as h5:
        h5.attrs["model_config"] = json.dumps({"class_name": "Model", "config": {
            "layers": layers, "output_layers": [[layers[-1]["name"], 0, 0]]}})
        h5.attrs["keras_version"] = "2.2.4-tf"
        group = h5.create_group("model_weights")
        for name, arrays in values.items():
            sub = group.create_group(name)
            sub.attrs["weight_names"] = [f"{name}/{key}:0".encode() for key in arrays]
            for key, array in arrays.items():
                sub[f"{name}/{key}:0"] = array.astype(np.float32)
    return path


def same_pads(size: int, kernel: int, stride: int) -> tuple[int, int]:
    total = max(kernel - stride, 0) if size % stride == 0 else max(kernel - size % stride, 0)
    return total // 2, total - total // 2


def conv_nhwc(x: np.ndarray, kernel: np.ndarray, stride: int) -> np.ndarray:
    """Plain 'valid' convolution, NHWC, kernel (kh, kw, in, out)."""
    kh, kw = kernel.shape[:2]
    out_h, out_w = (x.shape[1] - kh) // stride + 1, (x.shape[2] - kw) // stride + 1
    out = np.zeros((x.shape[0], out_h, out_w, kernel.shape[3]))
    for i in range(out_h):
        for j in range(out_w):
            patch = x[:, i * stride : i * stride + kh, j * stride : j * stride + kw, :]
            out[:, i, j, :] = np.tensordot(patch, kernel, axes=([1, 2, 3], [0, 1, 2]))
    return out


def keras_forward(x: np.ndarray, w: dict[str, dict[str, np.ndarray]]) -> np.ndarray:
    """What Keras computes for LAYERS, written out in NumPy (float64)."""
    def bn(t: np.ndarray, p: dict[str, np.ndarray]) -> np.ndarray:
        return p["gamma"] * (t - p["moving_mean"]) / np.sqrt(p["moving_variance"] + 0.001) + p["beta"]

    top, bottom = same_pads(8, 3, 2)
    t = np.pad(x, ((0, 0), (top, bottom), (top, bottom), (0, 0)))
    t = conv_nhwc(t, w["conv"]["kernel"], 2) + w["conv"]["bias"]
    t = np.clip(bn(t, w["conv_bn"]), 0, 6)
    t = np.pad(t, ((0, 0), (0, 1), (1, 0), (0, 0)))
    kernel = w["dw"]["depthwise_kernel"]  # (3, 3, 4, 2): output channel c * 2 + m reads input c
    dw = np.concatenate([conv_nhwc(t[..., c : c + 1], kernel[:, :, c : c + 1, m : m + 1], 1)
                         for c in range(4) for m in range(2)], axis=3)
    t = dw + bn(dw, w["dw_bn"])
    logits = t.reshape(t.shape[0], -1) @ w["dense"]["kernel"] + w["dense"]["bias"]
    exp = np.exp(logits - logits.max(axis=1, keepdims=True))
    return exp / exp.sum(axis=1, keepdims=True)


def test_converted_graph_computes_what_keras_does(tmp_path: Path) -> None:
    w = weights()
    path = write_h5(tmp_path / "small.h5", LAYERS, w)
    model = convert(path)
    ops = [node.op_type for node in model.graph.node]
    assert ops.count("BatchNormalization") == 1  # conv_bn folded into conv; dw_bn kept
    assert "Dropout" not in ops
    target = convert_file(path, tmp_path / "small.onnx")
    assert oct(target.stat().st_mode & 0o777) == "0o644"
    session = ort.InferenceSession(str(target), providers=["CPUExecutionProvider"])
    x = RNG.uniform(-1, 1, (3, 8, 8, 3))
    got = session.run(["output"], {"input": x.transpose(0, 3, 1, 2).astype(np.float32)})[0]
    expected = keras_forward(x, w)
    assert got.shape == (3, 3) and np.abs(got - expected).max() < 1e-5
    assert np.abs(expected - expected.mean(axis=0)).max() > 0.01  # the inputs really give different answers


def test_layers_it_does_not_translate_are_refused_by_name(tmp_path: Path) -> None:
    layers = [LAYERS[0], layer("lstm", "LSTM", ["in"], units=4)]
    with pytest.raises(ConversionError, match="layer 'lstm' of type LSTM is not supported"):
        convert(write_h5(tmp_path / "lstm.h5", layers, {}))
    leaky = [LAYERS[0], layer("leaky", "ReLU", ["in"], max_value=None, negative_slope=0.1, threshold=0.0)]
    with pytest.raises(ConversionError, match="leaky or thresholded ReLU"):
        convert(write_h5(tmp_path / "leaky.h5", leaky, {}))


def test_a_card_with_convert_makes_its_onnx_file_at_first_use(tmp_path: Path) -> None:
    from workers.camera.detection.onnx_models import ModelCard, ModelCardError

    write_h5(tmp_path / "tiny.h5", LAYERS, weights())
    card = {"name": "tiny", "version": "1", "format": "classifier", "file": "tiny.onnx",
            "convert": {"from": "tiny.h5", "with": "keras_hdf5"}, "crops": {"detector": "centerface"},
            "input": {"width": 8, "height": 8, "letterbox": False}, "classes": {"0": "a", "1": "b", "2": "c"}}
    loaded = ModelCard.from_dict(card, card_path=tmp_path / "tiny.json")
    assert not (tmp_path / "tiny.onnx").exists()
    assert loaded.resolve_file() == tmp_path / "tiny.onnx" and (tmp_path / "tiny.onnx").is_file()
    assert loaded.crops is not None and (loaded.crops.detector, loaded.crops.label) == ("centerface", "face")
    broken = {**card, "file": "other.onnx", "convert": {"from": "missing.h5", "with": "keras_hdf5"}}
    with pytest.raises(ModelCardError, match="model to convert not found"):
        ModelCard.from_dict(broken, card_path=tmp_path / "broken.json").resolve_file()
    for bad, message in (({**card, "crops": None}, "a classifier card needs 'crops'"),
                         ({**card, "format": "yolov8"}, "'crops' belongs to classifier cards only"),
                         ({**card, "convert": {"from": "tiny.h5", "with": "tflite"}}, "'convert' must be"),
                         ({**card, "crops": {"detector": "centerface", "min_size": 0}}, "'crops.min_size'")):
        with pytest.raises(ModelCardError, match=message):
            ModelCard.from_dict(bad, card_path=tmp_path / "bad.json")
