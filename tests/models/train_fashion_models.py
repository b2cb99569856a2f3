#!/usr/bin/python3
"""Trains QuantGen's own Fashion-MNIST test models and exports them to ONNX.

Run from the repository root with Debian's python3-torch and python3-onnx:
    /usr/bin/python3 tests/models/train_fashion_models.py
Writes tests/models/fashion_{mlp,cnn,cnn_bn,mobilenet}.onnx, tests/models/fashion_calibration.npy (512 training
images) and docs/models.md (float accuracy on the 10k test images). Deterministic for a given torch build.
Inputs are raw pixels scaled to [0, 1], shape [N, 1, 28, 28], N symbolic.
"""
import os
import sys
import time

import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fashion_data import DOCS, OUT, accuracy, adam_one_cycle, test_set, train, train_set  # noqa: E402

OPSET = 13


class Mlp(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(784, 256)
        self.fc2 = nn.Linear(256, 128)
        self.fc3 = nn.Linear(128, 10)

    def forward(self, x):
        x = torch.flatten(x, 1)
        return self.fc3(F.relu(self.fc2(F.relu(self.fc1(x)))))


class Cnn(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(16)
        self.conv2 = nn.Conv2d(16, 32, 3, padding=1)
        self.bn2 = nn.BatchNorm2d(32)
        self.fc = nn.Linear(32 * 7 * 7, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 2)
        x = F.max_pool2d(F.relu(self.bn2(self.conv2(x))), 2)
        return self.fc(torch.flatten(x, 1))


class InvertedResidual(nn.Module):
    def __init__(self, cin, cout, stride, expand):
        super().__init__()
        hidden = cin * expand
        self.use_residual = stride == 1 and cin == cout
        self.expand = nn.Sequential(nn.Conv2d(cin, hidden, 1, bias=False), nn.BatchNorm2d(hidden), nn.ReLU6())
        self.depthwise = nn.Sequential(nn.Conv2d(hidden, hidden, 3, stride, 1, groups=hidden, bias=False), nn.BatchNorm2d(hidden), nn.ReLU6())
        self.project = nn.Sequential(nn.Conv2d(hidden, cout, 1, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        y = self.project(self.depthwise(self.expand(x)))
        return x + y if self.use_residual else y


class MobileNet(nn.Module):
    def __init__(self):
        super().__init__()
        # Stride 2 in the stem keeps training on 2 CPU cores to minutes; the blocks are MobileNetV2's.
        self.stem = nn.Sequential(nn.Conv2d(1, 16, 3, 2, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU6())
        self.blocks = nn.Sequential(
            InvertedResidual(16, 16, 1, 1),
            InvertedResidual(16, 24, 1, 4),
            InvertedResidual(24, 24, 1, 4),
            InvertedResidual(24, 32, 2, 4),
            InvertedResidual(32, 32, 1, 4),
            InvertedResidual(32, 48, 1, 4),
        )
        self.head = nn.Sequential(nn.Conv2d(48, 96, 1, bias=False), nn.BatchNorm2d(96), nn.ReLU6())
        self.fc = nn.Linear(96, 10)

    def forward(self, x):
        x = self.head(self.blocks(self.stem(x)))
        x = F.adaptive_avg_pool2d(x, 1)
        return self.fc(torch.flatten(x, 1))


def export(model, path, keep_bn=False):
    model.eval()
    dummy = torch.zeros(1, 1, 28, 28)
    kwargs = dict(input_names=["image"], output_names=["logits"], opset_version=OPSET,
                  dynamic_axes={"image": {0: "batch"}, "logits": {0: "batch"}})
    if keep_bn:
        # Eval-mode export folds BatchNormalization into Conv; PRESERVE with the model in eval mode keeps BN
        # nodes (inference form) so the importer's own BN folding is exercised.
        kwargs.update(training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=False)
    torch.onnx.export(model, dummy, path, **kwargs)
    m = onnx.load(path)
    onnx.checker.check_model(m)
    ops = sorted({n.op_type for n in m.graph.node})
    if keep_bn:
        assert "BatchNormalization" in ops, ops
        assert all(len(n.output) == 1 for n in m.graph.node if n.op_type == "BatchNormalization")
    return ops


def main():
    torch.manual_seed(0)
    torch.set_num_threads(2)
    (x_train, y_train), (x_test, y_test) = train_set(), test_set()
    np.save(os.path.join(OUT, "fashion_calibration.npy"), x_train[:512])

    specs = [("fashion_mlp", Mlp, 8, 2e-3), ("fashion_cnn", Cnn, 6, 3e-3), ("fashion_mobilenet", MobileNet, 5, 4e-3)]
    only = set(sys.argv[1:])
    rows = []
    for name, cls, epochs, lr in specs:
        if only and name not in only:
            continue
        print(f"training {name}", flush=True)
        torch.manual_seed(0)
        model = cls()
        start = time.time()
        train(model, x_train, y_train, epochs, *adam_one_cycle(model, lr, epochs, len(x_train)))
        seconds = time.time() - start
        acc = accuracy(model, x_test, y_test)
        params = sum(p.numel() for p in model.parameters())
        path = os.path.join(OUT, name + ".onnx")
        ops = export(model, path)
        rows.append((name, params, ops, os.path.getsize(path), acc, seconds, epochs))
        print(f"  {name}: {acc:.2f}% in {seconds:.0f}s", flush=True)
        if name == "fashion_cnn":
            bn_path = os.path.join(OUT, "fashion_cnn_bn.onnx")
            ops_bn = export(model, bn_path, keep_bn=True)
            rows.append(("fashion_cnn_bn", params, ops_bn, os.path.getsize(bn_path), acc, seconds, epochs))

    # The table is this script's; the sections after it (the sample, train_edge_models.py's) are kept.
    docs = os.path.join(DOCS, "models.md")
    with open(docs) as f:
        text = f.read()
    rest = text[text.index("\n## "):] if "\n## " in text else "\n"
    with open(docs, "w") as f:
        f.write("# QuantGen's own test models\n\n")
        f.write("Trained on the 60k Fashion-MNIST training images (Debian `dataset-fashion-mnist`) and evaluated on the\n")
        f.write("10k test images by PyTorch (float32), with\n\n")
        f.write("    /usr/bin/python3 tests/models/train_fashion_models.py\n\n")
        f.write(f"(Debian python3-torch {torch.__version__}, python3-onnx {onnx.__version__}, 2 threads, seeds fixed). ")
        f.write("Input: `image` float32 [N,1,28,28], pixels / 255; output: `logits` [N,10]. ")
        f.write("`fashion_cnn_bn` is the same trained CNN exported with its BatchNormalization nodes kept.\n\n")
        f.write("| model | parameters | ONNX ops | file bytes | float top-1 (10k test) | epochs | training s |\n")
        f.write("|---|---|---|---|---|---|---|\n")
        for name, params, ops, size, acc, seconds, epochs in rows:
            f.write(f"| {name} | {params} | {', '.join(ops)} | {size} | {acc:.2f}% | {epochs} | {seconds:.0f} |\n")
        f.write(rest)
    print("wrote docs/models.md")


if __name__ == "__main__":
    main()
