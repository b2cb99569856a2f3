#!/usr/bin/python3
"""Trains the Fashion-MNIST models shaped like the edge networks of issue 17 and exports them to ONNX.

Run from the repository root with Debian's python3-torch and python3-onnx:
    /usr/bin/python3 tests/models/train_edge_models.py [fashion_mobilenetv3] [fashion_segmenter] ...
Writes tests/models/fashion_{mobilenetv3,mobilenetv3_constants,segmenter,transformer,audio1d}.onnx and the
"Edge-style test models" section of docs/models.md (float metrics on the 10k test images, ops per model).
Deterministic for a given torch build. Each model keeps to what the exporters of third-party models write:

- fashion_mobilenetv3: hard-swish written as x * clamp(x + 3, 0, 6) / 6 (exported as Add, Clip, Mul, Div),
  squeeze-excitation GlobalAveragePool -> Conv -> Relu -> Conv -> HardSigmoid -> Mul broadcast over H, W,
  depthwise convolutions, residual Adds. fashion_mobilenetv3_constants is the same trained network with every
  weight in a Constant node (paddle2onnx's and tf2onnx's style) and symbolic height and width.
- fashion_segmenter: a DB-style head predicting the foreground mask (pixel > 0.5) at 28x28: strided convs down,
  Resize nearest and bilinear and ConvTranspose up, Concat of skip features, a Sigmoid map.
- fashion_transformer: 7x7 patches as 16 tokens, two pre-norm attention blocks (two heads, Q.K^T and
  attention.V as MatMuls of computed tensors, Softmax), LayerNorm written out (ReduceMean, Sub, Pow, Sqrt, Div),
  a tanh-GELU MLP written out (Pow, Tanh), mean over the tokens, a linear classifier.
- fashion_audio1d: the image as a sequence of 28 rows (steps) of 28 features, [N, 28, T] with T symbolic,
  dilated Conv1d layers and a per-step 10-class output [N, 10, T] (the sequence's label at every step).
"""
import math
import os
import sys
import time

import numpy as np
import onnx
import onnx.numpy_helper
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fashion_data import DOCS, OUT, accuracy, adam_one_cycle, predict, test_set, train, train_set  # noqa: E402

OPSET = 13
MASK_THRESHOLD = 0.5
SECTION = "## Edge-style test models"


def hard_swish(x):
    # clamp, not F.relu6: torch 1.13 exports relu6 as Relu → Clip; paddle2onnx and tf2onnx write x · Clip(x + 3, 0, 6) / 6.
    return x * torch.clamp(x + 3, 0, 6) / 6


class SqueezeExcite(nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.reduce = nn.Conv2d(channels, channels // 4, 1)
        self.expand = nn.Conv2d(channels // 4, channels, 1)

    def forward(self, x):
        s = F.adaptive_avg_pool2d(x, 1)
        return x * F.hardsigmoid(self.expand(F.relu(self.reduce(s))))


class Bneck(nn.Module):
    """MobileNetV3's bottleneck: 1x1 expansion, depthwise k x k, optional SE, 1x1 projection, residual."""

    def __init__(self, cin, hidden, cout, kernel, stride, se, hswish):
        super().__init__()
        self.act = hard_swish if hswish else F.relu
        self.expand = nn.Sequential(nn.Conv2d(cin, hidden, 1, bias=False), nn.BatchNorm2d(hidden))
        self.depthwise = nn.Sequential(nn.Conv2d(hidden, hidden, kernel, stride, kernel // 2, groups=hidden, bias=False), nn.BatchNorm2d(hidden))
        self.se = SqueezeExcite(hidden) if se else None
        self.project = nn.Sequential(nn.Conv2d(hidden, cout, 1, bias=False), nn.BatchNorm2d(cout))
        self.residual = stride == 1 and cin == cout

    def forward(self, x):
        y = self.act(self.depthwise(self.act(self.expand(x))))
        if self.se is not None:
            y = self.se(y)
        y = self.project(y)
        return x + y if self.residual else y


class MobileNetV3(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(1, 16, 3, 2, 1, bias=False), nn.BatchNorm2d(16))
        self.blocks = nn.Sequential(
            Bneck(16, 16, 16, 3, 1, se=True, hswish=False),
            Bneck(16, 48, 24, 3, 2, se=False, hswish=False),
            Bneck(24, 72, 24, 3, 1, se=True, hswish=True),
            Bneck(24, 96, 32, 5, 1, se=True, hswish=True),
        )
        self.head = nn.Sequential(nn.Conv2d(32, 96, 1, bias=False), nn.BatchNorm2d(96))
        self.fc = nn.Linear(96, 10)

    def forward(self, x):
        x = hard_swish(self.head(self.blocks(hard_swish(self.stem(x)))))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


def conv_bn_relu(cin, cout, stride=1):
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU())


class Segmenter(nn.Module):
    """A DB-style (differentiable binarization) head: an FPN-like neck fused at full resolution, one probability map."""

    def __init__(self):
        super().__init__()
        self.e1 = conv_bn_relu(1, 8)          # 28x28
        self.e2 = conv_bn_relu(8, 16, 2)      # 14x14
        self.e3 = conv_bn_relu(16, 32, 2)     # 7x7
        self.lateral3 = nn.Conv2d(32, 16, 1)
        self.lateral2 = nn.Conv2d(16, 16, 1)
        self.fuse2 = conv_bn_relu(32, 16)
        self.up = nn.ConvTranspose2d(16, 8, 2, 2)
        self.side3 = nn.Conv2d(16, 4, 1)
        self.out = nn.Conv2d(8 + 4 + 8, 1, 3, 1, 1)

    def forward(self, x):
        e1 = self.e1(x)
        e2 = self.e2(e1)
        p3 = self.lateral3(self.e3(e2))
        d2 = self.fuse2(torch.cat([F.interpolate(p3, scale_factor=2.0, mode="nearest"), self.lateral2(e2)], 1))
        u1 = F.relu(self.up(d2))
        s3 = F.interpolate(self.side3(p3), scale_factor=4.0, mode="bilinear", align_corners=False)
        return torch.sigmoid(self.out(torch.cat([u1, s3, e1], 1)))


class LayerNorm(nn.Module):
    """LayerNorm over the last axis, written out as third-party exporters decompose it."""

    def __init__(self, dim, eps=1e-5):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))
        self.bias = nn.Parameter(torch.zeros(dim))
        self.eps = eps

    def forward(self, x):
        d = x - x.mean(-1, keepdim=True)
        return d / torch.sqrt(d.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight + self.bias


def gelu_tanh(x):
    return 0.5 * x * (1 + torch.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x.pow(3))))


class AttentionBlock(nn.Module):
    def __init__(self, dim, heads, tokens):
        super().__init__()
        self.heads, self.tokens, self.head_dim = heads, tokens, dim // heads
        self.norm1 = LayerNorm(dim)
        self.q, self.k, self.v = nn.Linear(dim, dim), nn.Linear(dim, dim), nn.Linear(dim, dim)
        self.proj = nn.Linear(dim, dim)
        self.norm2 = LayerNorm(dim)
        self.fc1 = nn.Linear(dim, 2 * dim)
        self.fc2 = nn.Linear(2 * dim, dim)

    def split(self, x):
        return x.reshape(-1, self.tokens, self.heads, self.head_dim).transpose(1, 2)

    def forward(self, x):
        h = self.norm1(x)
        q, k, v = self.split(self.q(h)), self.split(self.k(h)), self.split(self.v(h))
        attention = torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(self.head_dim), dim=-1)
        y = (attention @ v).transpose(1, 2).reshape(-1, self.tokens, self.heads * self.head_dim)
        x = x + self.proj(y)
        return x + self.fc2(gelu_tanh(self.fc1(self.norm2(x))))


class Transformer(nn.Module):
    def __init__(self, dim=32, heads=2, depth=2):
        super().__init__()
        self.patch = nn.Conv2d(1, dim, 7, 7)   # 16 patches of 7x7
        self.position = nn.Parameter(torch.zeros(1, 16, dim))
        self.blocks = nn.Sequential(*[AttentionBlock(dim, heads, 16) for _ in range(depth)])
        self.norm = LayerNorm(dim)
        self.fc = nn.Linear(dim, 10)

    def forward(self, x):
        x = self.patch(x).flatten(2).transpose(1, 2) + self.position
        return self.fc(self.norm(self.blocks(x)).mean(1))


class Audio1d(nn.Module):
    """A keyword-spotting-style 1-D CNN over [N, features, steps]; per-step class logits [N, 10, steps]."""

    def __init__(self):
        super().__init__()
        self.layers = nn.Sequential(
            nn.Conv1d(28, 48, 5, padding=2, bias=False), nn.BatchNorm1d(48), nn.ReLU(),
            nn.Conv1d(48, 48, 3, padding=2, dilation=2, bias=False), nn.BatchNorm1d(48), nn.ReLU(),
            nn.Conv1d(48, 48, 3, padding=4, dilation=4, bias=False), nn.BatchNorm1d(48), nn.ReLU(),
            nn.Conv1d(48, 48, 3, padding=8, dilation=8, bias=False), nn.BatchNorm1d(48), nn.ReLU(),
        )
        self.head = nn.Conv1d(48, 10, 1)

    def forward(self, x):
        return self.head(self.layers(x))


def as_sequence(images):
    """[N, 1, 28, 28] images → [N, 28 features (columns), 28 steps (rows)]."""
    return np.ascontiguousarray(images[:, 0].transpose(0, 2, 1))


def per_step_loss(logits, labels):
    return F.cross_entropy(logits, labels[:, None].expand(-1, logits.shape[2]))


def mask_of(images):
    return (images > MASK_THRESHOLD).astype(np.float32)


def weights_to_constants(path, out_path):
    """Rewrites every initializer as a Constant node at the front of the graph (paddle2onnx's and tf2onnx's style)."""
    m = onnx.load(path)
    g = m.graph
    constants = [onnx.helper.make_node("Constant", [], [i.name], name=f"Constant_{k}", value=i) for k, i in enumerate(g.initializer)]
    nodes = constants + list(g.node)
    del g.node[:]
    g.node.extend(nodes)
    del g.initializer[:]
    onnx.checker.check_model(m)
    onnx.save(m, out_path)


def export(model, path, example, input_name, output_name, dynamic):
    model.eval()
    torch.onnx.export(model, example, path, input_names=[input_name], output_names=[output_name], opset_version=OPSET,
                      dynamic_axes={input_name: dynamic[0], output_name: dynamic[1]})
    m = onnx.load(path)
    onnx.checker.check_model(m)


def op_list(path):
    m = onnx.load(path)
    return sorted({n.op_type for n in m.graph.node})


def main():
    torch.manual_seed(0)
    # One thread: these models are too small to gain from two, and on a shared machine two spin-waiting threads were
    # several times slower. Results are deterministic for a given torch build and thread count.
    torch.set_num_threads(1)
    (x_train, y_train), (x_test, y_test) = train_set(), test_set()
    only = set(sys.argv[1:])
    rows = []

    def run(name, model, x, y, epochs, lr, loss_fn=F.cross_entropy):
        print(f"training {name} on {len(x)} images, {epochs} epochs", flush=True)
        start = time.time()
        train(model, x, y, epochs, *adam_one_cycle(model, lr, epochs, len(x)), loss_fn=loss_fn)
        return time.time() - start

    def record(name, model, metric, seconds, epochs, images, shapes):
        path = os.path.join(OUT, name + ".onnx")
        size = os.path.getsize(path)
        assert size < 2_000_000, (name, size)
        params = sum(p.numel() for p in model.parameters())
        rows.append((name, params, op_list(path), size, metric, epochs, images, seconds, shapes))
        print(f"  {name}: {metric}, {size} bytes, {seconds:.0f}s", flush=True)

    image = torch.zeros(1, 1, 28, 28)
    batch = {0: "batch"}

    if not only or "fashion_mobilenetv3" in only:
        torch.manual_seed(0)
        model = MobileNetV3()
        images, epochs = 40000, 2
        seconds = run("fashion_mobilenetv3", model, x_train[:images], y_train[:images], epochs, 5e-3)
        metric = f"top-1 {accuracy(model, x_test, y_test):.2f}%"
        export(model, os.path.join(OUT, "fashion_mobilenetv3.onnx"), image, "image", "logits", (batch, batch))
        record("fashion_mobilenetv3", model, metric, seconds, epochs, images, "image [N,1,28,28] → logits [N,10]")
        # The same weights, as Constant nodes, with symbolic height and width (a paddle2onnx-style export).
        dynamic = os.path.join(OUT, "fashion_mobilenetv3_dynamic.onnx")
        export(model, dynamic, image, "image", "logits", ({0: "batch", 2: "height", 3: "width"}, batch))
        weights_to_constants(dynamic, os.path.join(OUT, "fashion_mobilenetv3_constants.onnx"))
        os.remove(dynamic)
        record("fashion_mobilenetv3_constants", model, metric, seconds, epochs, images, "image [N,1,height,width] → logits [N,10]")

    if not only or "fashion_segmenter" in only:
        torch.manual_seed(0)
        model = Segmenter()
        images, epochs = 10000, 1
        seconds = run("fashion_segmenter", model, x_train[:images], mask_of(x_train[:images]), epochs, 1e-2, F.binary_cross_entropy)
        predicted = predict(model, x_test).numpy() > 0.5
        truth = mask_of(x_test) > 0.5
        iou = (predicted & truth).sum() / (predicted | truth).sum()
        metric = f"pixel accuracy {(predicted == truth).mean() * 100:.2f}%, IoU {iou * 100:.2f}%"
        export(model, os.path.join(OUT, "fashion_segmenter.onnx"), image, "image", "map", (batch, batch))
        record("fashion_segmenter", model, metric, seconds, epochs, images, f"image [N,1,28,28] → map [N,1,28,28] (P(pixel > {MASK_THRESHOLD}))")

    if not only or "fashion_transformer" in only:
        torch.manual_seed(0)
        model = Transformer()
        images, epochs = 60000, 2
        seconds = run("fashion_transformer", model, x_train[:images], y_train[:images], epochs, 3e-3)
        metric = f"top-1 {accuracy(model, x_test, y_test):.2f}%"
        export(model, os.path.join(OUT, "fashion_transformer.onnx"), image, "image", "logits", (batch, batch))
        record("fashion_transformer", model, metric, seconds, epochs, images, "image [N,1,28,28] → logits [N,10]")

    if not only or "fashion_audio1d" in only:
        torch.manual_seed(0)
        model = Audio1d()
        images, epochs = 60000, 3
        seconds = run("fashion_audio1d", model, as_sequence(x_train[:images]), y_train[:images], epochs, 5e-3, per_step_loss)
        logits = predict(model, as_sequence(x_test)).numpy()
        steps = (logits.argmax(1) == y_test[:, None]).mean() * 100
        whole = (logits.mean(2).argmax(1) == y_test).mean() * 100
        metric = f"per-step top-1 {steps:.2f}%, mean over steps top-1 {whole:.2f}%"
        export(model, os.path.join(OUT, "fashion_audio1d.onnx"), torch.zeros(1, 28, 28), "features", "logits",
               ({0: "batch", 2: "steps"}, {0: "batch", 2: "steps"}))
        record("fashion_audio1d", model, metric, seconds, epochs, images, "features [N,28,steps] (image rows as steps) → logits [N,10,steps]")

    if only:
        print("a subset was trained: docs/models.md left as it is")
        return
    write_docs(rows)


def write_docs(rows):
    """Replaces the section of docs/models.md from SECTION to the next '## ' heading (or appends it)."""
    lines = [SECTION, "",
             "Models shaped like the third-party edge networks of issue 17, trained by",
             "",
             "    /usr/bin/python3 tests/models/train_edge_models.py",
             "",
             f"(Debian python3-torch {torch.__version__}, python3-onnx {onnx.__version__}, opset {OPSET}, one thread on a shared "
             "AMD EPYC Zen 3, seeds fixed; the times are wall clock with other jobs running). Float metrics on the 10k test images; "
             "the script's docstring describes each architecture.",
             "",
             "| model | inputs → outputs | parameters | ONNX ops | file bytes | float metric (10k test) | training images × epochs | training s |",
             "|---|---|---|---|---|---|---|---|"]
    for name, params, ops, size, metric, epochs, images, seconds, shapes in rows:
        lines.append(f"| {name} | {shapes} | {params} | {', '.join(ops)} | {size} | {metric} | {images} × {epochs} | {seconds:.0f} |")
    section = "\n".join(lines) + "\n"
    docs = os.path.join(DOCS, "models.md")
    with open(docs) as f:
        text = f.read()
    if SECTION in text:
        start = text.index(SECTION)
        end = text.find("\n## ", start + len(SECTION))
        text = text[:start] + section + (text[end:] if end >= 0 else "")
    else:
        text = text.rstrip("\n") + "\n\n" + section
    with open(docs, "w") as f:
        f.write(text)
    print("wrote docs/models.md")


if __name__ == "__main__":
    main()
