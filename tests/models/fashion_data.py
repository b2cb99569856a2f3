"""What QuantGen's model training scripts share: Debian's Fashion-MNIST, one training loop, top-1 accuracy.

Used by train_fashion_models.py, train_qat_models.py and train_edge_models.py (run with Debian's /usr/bin/python3).
"""
import gzip
import os
import struct

import numpy as np
import torch
import torch.nn.functional as F

DATA = "/usr/share/datasets/fashion-mnist"
OUT = os.path.dirname(os.path.abspath(__file__))
DOCS = os.path.join(OUT, "..", "..", "docs")


def read_images(name):
    """[N, 1, 28, 28] float32, pixels / 255."""
    with gzip.open(os.path.join(DATA, name), "rb") as f:
        magic, n, rows, cols = struct.unpack(">IIII", f.read(16))
        assert magic == 2051, name
        return np.frombuffer(f.read(), dtype=np.uint8).reshape(n, 1, rows, cols).astype(np.float32) / 255.0


def read_labels(name):
    with gzip.open(os.path.join(DATA, name), "rb") as f:
        magic, n = struct.unpack(">II", f.read(8))
        assert magic == 2049, name
        return np.frombuffer(f.read(), dtype=np.uint8).astype(np.int64)


def train_set():
    return read_images("train-images-idx3-ubyte.gz"), read_labels("train-labels-idx1-ubyte.gz")


def test_set():
    return read_images("t10k-images-idx3-ubyte.gz"), read_labels("t10k-labels-idx1-ubyte.gz")


def adam_one_cycle(model, lr, epochs, count, batch=128):
    """Adam under a one-cycle schedule peaking at lr, stepped once per batch."""
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    return opt, torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=epochs * ((count + batch - 1) // batch))


def train(model, x, y, epochs, opt, sched=None, loss_fn=F.cross_entropy, batch=128):
    """Mini-batches of `batch` in an order drawn from a generator seeded 1; `y` is whatever `loss_fn` compares the output with."""
    g = torch.Generator().manual_seed(1)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    for epoch in range(epochs):
        model.train()
        perm = torch.randperm(len(x), generator=g)
        total = 0.0
        for i in range(0, len(x), batch):
            idx = perm[i:i + batch]
            opt.zero_grad()
            loss = loss_fn(model(xt[idx]), yt[idx])
            loss.backward()
            opt.step()
            if sched is not None:
                sched.step()
            total += loss.item() * len(idx)
        print(f"  epoch {epoch + 1}/{epochs} loss {total / len(x):.4f}", flush=True)


def predict(model, x, batch=1000):
    """The model's outputs on x in eval mode, concatenated along axis 0."""
    model.eval()
    with torch.no_grad():
        return torch.cat([model(torch.from_numpy(x[i:i + batch])) for i in range(0, len(x), batch)])


def accuracy(model, x, y):
    """Top-1 accuracy in percent of [N, classes] outputs."""
    return float((predict(model, x).argmax(1).numpy() == y).mean() * 100)
