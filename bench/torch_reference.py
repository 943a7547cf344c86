#!/usr/bin/python3
# ===- torch_reference.py - PyTorch baseline for the throughput benchmark -===#
#
# Trains the example models of examples/ (mnist_mlp, fashion_mnist_cnn,
# lenet) in PyTorch on the CPU, the way gradc trains them: NHWC 28x28x1
# input, 'VALID' convolutions, 2x2 max-pooling, dropout, dense layers,
# Keras's glorot-uniform kernels and zero biases, softmax cross-entropy, and
# Adam (lr 0.001, eps 1e-7) for every model -- the benchmark compares the same
# model, batch size, thread count and optimizer, so LeNet's momentum SGD is
# replaced by Adam here and in bench/run.sh alike. It runs a few untimed
# warm-up steps, then times a fixed number of training steps and prints one
# JSON object per model with images per second.
#
# Run it with Debian's interpreter (python3-torch): /usr/bin/python3.
#
#   /usr/bin/python3 bench/torch_reference.py --model fashion_mnist_cnn \
#       --threads 2 --steps 200 --data /usr/share/datasets/fashion-mnist
#
# ===----------------------------------------------------------------------===#

import argparse
import gzip
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

MODELS = ("mnist_mlp", "fashion_mnist_cnn", "lenet")


class NhwcFlatten(nn.Module):
    """Flattens like Keras: in (H, W, C) order, whatever PyTorch's layout.

    With channels_last memory the permute is free; the dense layer then has
    the same weights, in the same order, as the Keras/gradc model."""

    def forward(self, x):
        return x.permute(0, 2, 3, 1).flatten(1)


def build_model(name):
    """The network of examples/<name>.pbtxt; it returns logits (the softmax
    is folded into the loss, as gradc's fusion pass does)."""
    if name == "mnist_mlp":
        # flatten, dense 128 relu, dense 64 relu, dense 10 softmax
        return nn.Sequential(
            NhwcFlatten(),
            nn.Linear(784, 128), nn.ReLU(),
            nn.Linear(128, 64), nn.ReLU(),
            nn.Linear(64, 10))
    if name == "fashion_mnist_cnn":
        # conv 32@3x3 relu, pool 2, conv 64@3x3 relu, pool 2, flatten,
        # dropout 0.5, dense 10 softmax: 28 -> 26 -> 13 -> 11 -> 5
        return nn.Sequential(
            nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
            NhwcFlatten(), nn.Dropout(0.5),
            nn.Linear(5 * 5 * 64, 10))
    if name == "lenet":
        # conv 20@5x5 (linear), pool 2, conv 50@5x5 (linear), pool 2,
        # flatten, dense 500 relu, dense 10 softmax: 28 -> 24 -> 12 -> 8 -> 4
        return nn.Sequential(
            nn.Conv2d(1, 20, 5), nn.MaxPool2d(2, 2),
            nn.Conv2d(20, 50, 5), nn.MaxPool2d(2, 2),
            NhwcFlatten(),
            nn.Linear(4 * 4 * 50, 500), nn.ReLU(),
            nn.Linear(500, 10))
    raise ValueError(f"unknown model {name!r}; expected one of {MODELS}")


def keras_init(model):
    """glorot_uniform kernels, zero biases (Keras's defaults). PyTorch's
    fan computation for [out, in, kh, kw] and [out, in] weights matches
    Keras's for HWIO and [in, out]."""
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            nn.init.xavier_uniform_(m.weight)
            nn.init.zeros_(m.bias)


def read_idx(path, magic):
    """An IDX unsigned-byte file, raw or gzip (detected by its magic)."""
    with open(path, "rb") as f:
        head = f.read(2)
    opener = gzip.open if head == b"\x1f\x8b" else open
    with opener(path, "rb") as f:
        data = f.read()
    got = int.from_bytes(data[:4], "big")
    if got != magic:
        sys.exit(f"{path}: wrong magic number 0x{got:08X}, "
                 f"expected 0x{magic:08X}")
    rank = magic & 0xFF
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big")
            for i in range(rank)]
    body = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * rank)
    if body.size != int(np.prod(dims)):
        sys.exit(f"{path}: expected {int(np.prod(dims))} bytes of data, "
                 f"got {body.size}")
    return body.reshape(dims)


def find_idx(directory, name):
    for candidate in (name, name + ".gz"):
        path = os.path.join(directory, candidate)
        if os.path.isfile(path):
            return path
    sys.exit(f"cannot find {name} in {directory!r}: tried "
             f"{os.path.join(directory, name)}, "
             f"{os.path.join(directory, name)}.gz")


def load_training_set(args):
    """(images N x 1 x 28 x 28 float in [0, 1], labels N int64)."""
    if args.random:
        gen = torch.Generator().manual_seed(args.seed)
        n = max(args.batch_size * 16, 1024)
        x = torch.rand(n, 1, 28, 28, generator=gen)
        y = torch.randint(0, 10, (n,), generator=gen)
        return x, y
    images = read_idx(find_idx(args.data, "train-images-idx3-ubyte"), 0x803)
    labels = read_idx(find_idx(args.data, "train-labels-idx1-ubyte"), 0x801)
    if images.shape[1:] != (28, 28):
        sys.exit(f"images are {images.shape[1]}x{images.shape[2]}, "
                 "the models expect 28x28")
    x = torch.from_numpy(images.astype(np.float32) / 255.0).unsqueeze(1)
    y = torch.from_numpy(labels.astype(np.int64))
    return x, y


def use_channels_last(args, model_name):
    if args.channels_last == "on":
        return True
    if args.channels_last == "off":
        return False
    # auto: the convolutional models (oneDNN's NHWC kernels).
    return model_name != "mnist_mlp"


def run(args, model_name, x_all, y_all):
    torch.manual_seed(args.seed)
    model = build_model(model_name)
    keras_init(model)
    channels_last = use_channels_last(args, model_name)
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
        x_all = x_all.contiguous(memory_format=torch.channels_last)
    model.train()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7,
                                 foreach=args.foreach)
    n = x_all.shape[0]
    b = args.batch_size
    steps_per_epoch = n // b if args.drop_remainder else (n + b - 1) // b
    gen = torch.Generator().manual_seed(args.seed)
    state = {"perm": torch.randperm(n, generator=gen), "step": 0}

    def next_batch():
        if state["step"] >= steps_per_epoch:
            state["perm"] = torch.randperm(n, generator=gen)
            state["step"] = 0
        idx = state["perm"][state["step"] * b:(state["step"] + 1) * b]
        state["step"] += 1
        return x_all[idx], y_all[idx]

    def train_step():
        x, y = next_batch()
        optimizer.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
        return loss, x.shape[0]

    for _ in range(args.warmup):
        train_step()

    images = 0
    losses = []
    start = time.perf_counter()
    for _ in range(args.steps):
        loss, count = train_step()
        images += count
        losses.append(loss.detach())
    seconds = time.perf_counter() - start
    mean_loss = float(torch.stack(losses).mean()) if losses else float("nan")
    return {
        "framework": "pytorch",
        "torch_version": torch.__version__,
        "model": model_name,
        "batch_size": b,
        "threads": torch.get_num_threads(),
        "steps": args.steps,
        "warmup_steps": args.warmup,
        "channels_last": channels_last,
        "data": "random" if args.random else args.data,
        "images": images,
        "seconds": round(seconds, 4),
        "images_per_second": round(images / seconds, 1) if seconds else None,
        "mean_train_loss": round(mean_loss, 4),
    }


def main():
    parser = argparse.ArgumentParser(
        description="PyTorch baseline for gradc's throughput benchmark")
    parser.add_argument("--model", action="append", choices=MODELS + ("all",),
                        help="model to train (repeatable; default: all)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--steps", type=int, default=200,
                        help="timed training steps")
    parser.add_argument("--warmup", type=int, default=20,
                        help="untimed steps first")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--data", default="/usr/share/datasets/fashion-mnist",
                        help="directory of IDX files (MNIST layout)")
    parser.add_argument("--random", action="store_true",
                        help="random images and labels instead of --data")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--channels-last", choices=("auto", "on", "off"),
                        default="auto")
    parser.add_argument("--foreach", action=argparse.BooleanOptionalAction,
                        default=None,
                        help="multi-tensor Adam (default: PyTorch's choice)")
    parser.add_argument("--drop-remainder", action="store_true",
                        help="drop the partial last batch of an epoch")
    args = parser.parse_args()
    if args.threads < 1 or args.steps < 1 or args.batch_size < 1:
        parser.error("--threads, --steps and --batch-size must be positive")

    torch.set_num_threads(args.threads)
    models = args.model or ["all"]
    if "all" in models:
        models = list(MODELS)
    x_all, y_all = load_training_set(args)
    for name in models:
        print(json.dumps(run(args, name, x_all, y_all)), flush=True)


if __name__ == "__main__":
    main()
