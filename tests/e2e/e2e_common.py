#===- e2e_common.py - helpers of gradc's end-to-end tests -----*- python -*-===#
"""Shared helpers of gradc's end-to-end tests.

Writes a small synthetic IDX dataset (four classes of clearly different
12x12 patterns with noise) and model files, runs the gradc binary with a
time limit, and reads the per-epoch metrics file. Standard library only.
"""

import json
import os
import random
import struct
import subprocess
import sys

SIZE = 12
CLASSES = 4


def write_idx_images(path, images, height, width):
    """Writes IDX3 unsigned-byte images (each a bytes of height*width)."""
    with open(path, "wb") as f:
        f.write(struct.pack(">IIII", 0x00000803, len(images), height, width))
        for image in images:
            f.write(image)


def write_idx_labels(path, labels):
    """Writes IDX1 unsigned-byte labels."""
    with open(path, "wb") as f:
        f.write(struct.pack(">II", 0x00000801, len(labels)))
        f.write(bytes(labels))


def pattern(label, rng, size=SIZE):
    """One image of class `label`: a horizontal bar, a vertical bar, a
    diagonal or an anti-diagonal, at a random offset, over noise."""
    pixels = [[rng.randint(0, 60) for _ in range(size)] for _ in range(size)]
    offset = rng.randint(2, size - 3)
    shift = rng.randint(-2, 2)
    for i in range(size):
        for t in (0, 1):
            if label == 0:
                y, x = offset + t, i
            elif label == 1:
                y, x = i, offset + t
            elif label == 2:
                y, x = i, i + shift + t
            else:
                y, x = i, size - 1 - i + shift + t
            if 0 <= y < size and 0 <= x < size:
                pixels[y][x] = rng.randint(200, 255)
    return bytes(v for row in pixels for v in row)


def make_dataset(directory, n_train=300, n_test=100, seed=1, size=SIZE):
    """Writes train-* and t10k-* IDX files of balanced synthetic classes."""
    os.makedirs(directory, exist_ok=True)
    rng = random.Random(seed)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        labels = [i % CLASSES for i in range(n)]
        rng.shuffle(labels)
        images = [pattern(label, rng, size) for label in labels]
        write_idx_images(os.path.join(directory, prefix + "-images-idx3-ubyte"),
                         images, size, size)
        write_idx_labels(os.path.join(directory, prefix + "-labels-idx1-ubyte"),
                         labels)
    return directory


CNN_LAYERS = """\
layer { name: "conv1" conv2d { filters: 8 kernel_size: [3, 3] activation: RELU } }
layer { name: "pool1" max_pool2d { pool_size: [2, 2] } }
layer { name: "flat"  flatten {} }
layer { name: "out"   dense { units: 4 activation: SOFTMAX } }
"""

MLP_LAYERS = """\
layer { name: "flat" flatten {} }
layer { name: "fc1"  dense { units: 32 activation: RELU } }
layer { name: "out"  dense { units: 4 activation: SOFTMAX } }
"""


def write_model(path, layers=CNN_LAYERS, name="synthetic",
                optimizer="adam { learning_rate: 0.01 }", batch_size=20,
                epochs=8, seed=3, size=SIZE, training=""):
    """Writes a model file for SIZExSIZEx1 images and 4 classes; `training`
    adds fields to training { }."""
    with open(path, "w") as f:
        f.write('name: "%s"\n' % name)
        f.write('input { name: "image" shape: [%d, %d, 1] }\n' % (size, size))
        f.write(layers)
        f.write("loss { sparse_categorical_crossentropy {} }\n")
        f.write("optimizer { %s }\n" % optimizer)
        f.write("training { batch_size: %d epochs: %d seed: %d %s}\n"
                % (batch_size, epochs, seed, training))
    return path


def run(args, timeout=50):
    """Runs a command; returns (exit code, stdout, stderr)."""
    p = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       universal_newlines=True, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def checkpoint_module(source, scratch):
    """checkpoint_pb2, compiled by protoc from the source tree's
    runtime/params/checkpoint.proto into `scratch`."""
    subprocess.run(["protoc", "-I", os.path.join(source, "runtime", "params"),
                    "--python_out", scratch, "checkpoint.proto"], check=True)
    sys.path.insert(0, scratch)
    import checkpoint_pb2  # noqa: E402
    return checkpoint_pb2


def write_checkpoint(ckpt, path):
    """Writes a Checkpoint message with its CRC-32 (field 12) recomputed."""
    import zlib
    ckpt.crc32 = 0
    ckpt.crc32 = zlib.crc32(ckpt.SerializeToString()) & 0xffffffff
    with open(path, "wb") as f:
        f.write(ckpt.SerializeToString())


def read_metrics(path):
    """The per-epoch JSON objects of --metrics-json, in order."""
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def checkpoint_fields(path):
    """The scalar fields of a checkpoint (runtime/params/checkpoint.proto) by
    field number, read with a minimal protobuf wire-format parser."""
    data = read_bytes(path)
    fields, i = {}, 0

    def varint(i):
        value, shift = 0, 0
        while True:
            b = data[i]
            i += 1
            value |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                return value, i

    while i < len(data):
        key, i = varint(i)
        number, wire = key >> 3, key & 7
        if wire == 0:
            fields[number], i = varint(i)
        elif wire == 2:
            length, i = varint(i)
            fields.setdefault(number, [])
            if isinstance(fields[number], list):
                fields[number].append(data[i:i + length])
            i += length
        elif wire == 1:
            i += 8
        elif wire == 5:
            i += 4
        else:
            raise ValueError("%s: bad wire type %d" % (path, wire))
    return fields


def read_bytes(path):
    with open(path, "rb") as f:
        return f.read()


class Checker:
    """Collects failures so that one run reports all of them."""

    def __init__(self):
        self.failures = []

    def check(self, condition, message, output=""):
        if not condition:
            self.failures.append(message + (("\n" + output) if output else ""))
        return condition

    def finish(self):
        for f in self.failures:
            print("FAIL: " + f, file=sys.stderr)
        if self.failures:
            sys.exit(1)
        print("ok")
