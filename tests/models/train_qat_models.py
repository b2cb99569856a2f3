#!/usr/bin/python3
"""Fine-tunes QuantGen's Fashion CNN and MobileNetV2-style models with quantization-aware training and exports them
as QDQ ONNX models: a real third-party exporter's output for QuantGen's QDQ import (docs/interop.md).

Run from the repository root with Debian's python3-torch and python3-onnx, after train_fashion_models.py:
    /usr/bin/python3 tests/models/train_qat_models.py [fashion_cnn_qat] [fashion_mobilenet_qat]
Writes tests/models/fashion_{cnn,mobilenet}_qat.onnx and prints the accuracies docs/accuracy.md quotes.

The float models' weights (BatchNormalization already folded by their export) are read back from
tests/models/fashion_{cnn,mobilenet}.onnx into the same architectures without BN, prepared with PyTorch's FX graph
mode QAT (torch.ao.quantization.quantize_fx.prepare_qat_fx: fake-quant on every activation, per-channel symmetric
int8 weights, u8 activations on the full [0, 255] range, ReLU6/MaxPool/AdaptiveAvgPool/flatten sharing their input's
observer), fine-tuned a few epochs on the training images, observers frozen, and exported with torch.onnx.export, which
writes every fake-quant as a QuantizeLinear/DequantizeLinear pair (opset 13, per-axis for the weights).
"""
import os
import sys
import time

import numpy as np
import onnx
import onnx.numpy_helper
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.ao.quantization import FakeQuantize, MovingAverageMinMaxObserver, MovingAveragePerChannelMinMaxObserver, QConfig, QConfigMapping
from torch.ao.quantization.quantize_fx import prepare_qat_fx

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fashion_data import OUT, accuracy, test_set, train, train_set  # noqa: E402

OPSET = 13
# Fine-tuning budget: QAT from trained float weights converges in a fraction of an epoch on these small models; two
# epochs over the first 20k (CNN) or 4k (MobileNet, ~10x the compute per image) training images keep the script to
# minutes on 2 CPU cores.


class Cnn(nn.Module):
    """fashion_cnn after BN folding: conv-relu-pool twice, one Linear."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 3, padding=1)
        self.conv2 = nn.Conv2d(16, 32, 3, padding=1)
        self.fc = nn.Linear(32 * 7 * 7, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        return self.fc(torch.flatten(x, 1))


class InvertedResidual(nn.Module):
    def __init__(self, cin, cout, stride, expand):
        super().__init__()
        hidden = cin * expand
        self.use_residual = stride == 1 and cin == cout
        self.expand = nn.Sequential(nn.Conv2d(cin, hidden, 1), nn.ReLU6())
        self.depthwise = nn.Sequential(nn.Conv2d(hidden, hidden, 3, stride, 1, groups=hidden), nn.ReLU6())
        self.project = nn.Conv2d(hidden, cout, 1)

    def forward(self, x):
        y = self.project(self.depthwise(self.expand(x)))
        return x + y if self.use_residual else y


class MobileNet(nn.Module):
    """fashion_mobilenet after BN folding (train_fashion_models.py's MobileNet, biases in place of BN)."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(1, 16, 3, 2, 1), nn.ReLU6())
        self.blocks = nn.Sequential(
            InvertedResidual(16, 16, 1, 1),
            InvertedResidual(16, 24, 1, 4),
            InvertedResidual(24, 24, 1, 4),
            InvertedResidual(24, 32, 2, 4),
            InvertedResidual(32, 32, 1, 4),
            InvertedResidual(32, 48, 1, 4),
        )
        self.head = nn.Sequential(nn.Conv2d(48, 96, 1), nn.ReLU6())
        self.fc = nn.Linear(96, 10)

    def forward(self, x):
        x = self.head(self.blocks(self.stem(x)))
        x = F.adaptive_avg_pool2d(x, 1)
        return self.fc(torch.flatten(x, 1))


def load_float_weights(model, onnx_path):
    """Copies the Conv/Gemm weights and biases of the float ONNX model, in graph order, into the model's Conv2d/Linear."""
    graph = onnx.load(onnx_path).graph
    inits = {i.name: onnx.numpy_helper.to_array(i) for i in graph.initializer}
    layers = [n for n in graph.node if n.op_type in ("Conv", "Gemm")]
    modules = [m for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    assert len(layers) == len(modules), (len(layers), len(modules))
    for node, module in zip(layers, modules):
        w = inits[node.input[1]]
        if node.op_type == "Gemm":
            assert all(a.name != "transB" or a.i == 1 for a in node.attribute)
        assert tuple(w.shape) == tuple(module.weight.shape), (node.name, w.shape, module.weight.shape)
        module.weight.data = torch.from_numpy(w.copy())
        module.bias.data = torch.from_numpy(inits[node.input[2]].copy()) if len(node.input) > 2 else torch.zeros_like(module.bias)


def qat_qconfig():
    # u8 activations on [0, 255] (torch.onnx refuses other ranges than (0, 255), (-128, 127), and clamps (0, 127) to
    # (0, 255), which would change the model), per-channel symmetric int8 weights.
    activation = FakeQuantize.with_args(observer=MovingAverageMinMaxObserver, quant_min=0, quant_max=255,
                                        dtype=torch.quint8, qscheme=torch.per_tensor_affine, reduce_range=False)
    weight = FakeQuantize.with_args(observer=MovingAveragePerChannelMinMaxObserver, quant_min=-128, quant_max=127,
                                    dtype=torch.qint8, qscheme=torch.per_channel_symmetric, ch_axis=0)
    return QConfig(activation=activation, weight=weight)


def quantize_biases(path):
    """Per-tensor quantization parameters as scalars (see below), and writes each Conv/Gemm float bias as an int32 DequantizeLinear on x_scale * w_scale, as ONNX Runtime's
    quantize_static writes biases (and as ONNX Runtime itself quantizes a float bias when it fuses the group).

    torch.onnx.export leaves QAT biases float, so by ONNX's definition the accumulator gets a fractional bias that no
    integer kernel holds: QuantGen and ONNX Runtime's int8 kernels both round it onto the accumulator's grid, which
    differs from the float definition by up to half an accumulator step per layer (measured on the MobileNet: up to
    5 output LSB after 20 layers). With the int32 bias in the file, the file says what the integer kernels compute.
    """
    m = onnx.load(path)
    g = m.graph
    inits = {i.name: i for i in g.initializer}
    producers = {o: n for n in g.node for o in n.output}

    def dq_scale(value):
        n = producers[value]
        assert n.op_type == "DequantizeLinear", (value, n.op_type)
        return onnx.numpy_helper.to_array(inits[n.input[1]]).astype(np.float32)

    nodes = []
    for n in g.node:
        if n.op_type in ("Conv", "Gemm") and len(n.input) > 2 and n.input[2] in inits:
            b = onnx.numpy_helper.to_array(inits[n.input[2]]).astype(np.float32)
            sx, sw = dq_scale(n.input[0]), dq_scale(n.input[1])
            scale = (sx * sw).astype(np.float32) * np.ones_like(b)
            q = np.round(b / scale).astype(np.int32)
            name = n.input[2] + "_quantized"
            g.initializer.extend([onnx.numpy_helper.from_array(q, name), onnx.numpy_helper.from_array(scale, name + "_scale")])
            nodes.append(onnx.helper.make_node("DequantizeLinear", [name, name + "_scale"], [name + "_dq"], name=n.name + "/bias_dequantize", axis=0))
            n.input[2] = name + "_dq"
        nodes.append(n)
    del g.node[:]
    g.node.extend(nodes)
    # PyTorch writes per-tensor scales and zero points as 1-element vectors; ONNX Runtime's fused QLinearAdd refuses
    # those ("Scale and Zero-point must be a scalar"), so per-tensor ones become scalars (the same values).
    per_axis = {n.input[k] for n in g.node if n.op_type in ("QuantizeLinear", "DequantizeLinear") for k in (1, 2)
                if len(n.input) > k and n.input[k] in inits and int(np.prod(inits[n.input[k]].dims)) > 1}
    identity = {n.output[0]: n.input[0] for n in g.node if n.op_type == "Identity"}
    for n in g.node:
        if n.op_type in ("QuantizeLinear", "DequantizeLinear"):
            for k in (1, 2):
                name = identity.get(n.input[k], n.input[k]) if len(n.input) > k else None
                if name in inits and name not in per_axis and list(inits[name].dims) == [1]:
                    del inits[name].dims[:]
    used = {i for n in g.node for i in n.input}
    kept = [i for i in g.initializer if i.name in used]
    del g.initializer[:]
    g.initializer.extend(kept)
    onnx.checker.check_model(m)
    onnx.save(m, path)


def main():
    torch.manual_seed(0)
    torch.set_num_threads(2)
    (x_train, y_train), (x_test, y_test) = train_set(), test_set()
    specs = [("fashion_cnn_qat", Cnn, "fashion_cnn.onnx", 2, 2e-3, 20000), ("fashion_mobilenet_qat", MobileNet, "fashion_mobilenet.onnx", 2, 2e-3, 4000)]
    only = set(sys.argv[1:])
    for name, cls, source, epochs, lr, images in specs:
        if only and name not in only:
            continue
        torch.manual_seed(0)
        model = cls()
        load_float_weights(model, os.path.join(OUT, source))
        float_acc = accuracy(model, x_test, y_test)
        example = (torch.zeros(1, 1, 28, 28),)
        qat = prepare_qat_fx(model.train(), QConfigMapping().set_global(qat_qconfig()), example)
        print(f"{name}: float weights {float_acc:.2f}%, fake-quant before fine-tuning {accuracy(qat, x_test, y_test):.2f}%", flush=True)
        start = time.time()
        train(qat, x_train[:images], y_train[:images], epochs, torch.optim.SGD(qat.parameters(), lr=lr, momentum=0.9))
        qat.apply(torch.ao.quantization.disable_observer)
        seconds = time.time() - start
        acc = accuracy(qat, x_test, y_test)
        path = os.path.join(OUT, name + ".onnx")
        torch.onnx.export(qat.eval(), example[0], path, input_names=["image"], output_names=["logits"], opset_version=OPSET,
                          dynamic_axes={"image": {0: "batch"}, "logits": {0: "batch"}})
        quantize_biases(path)
        m = onnx.load(path)
        ops = sorted({n.op_type for n in m.graph.node})
        print(f"  {name}: QAT fake-quant top-1 {acc:.2f}% (10k test) after {epochs} epochs on {images} images, "
              f"{seconds:.0f}s; {os.path.getsize(path)} bytes; ops {', '.join(ops)}", flush=True)


if __name__ == "__main__":
    main()
