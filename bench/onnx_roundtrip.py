#!/usr/bin/python3
# ===- onnx_roundtrip.py - the examples' step time from .pbtxt and from ONNX -===#
#
# Exports each example model to ONNX (gradc export) and trains the export,
# imported again (a .pbtxt naming the .onnx, with the example's loss,
# optimizer and training blocks), for the same steps on the same data as
# the example itself; prints the examples per second of both and their
# ratio (the median of --runs runs each, alternating). The import keeps
# ONNX's layout and converts only around convolutions and pooling, so the
# ratio should be close to 1. Builds nothing: run scripts/build.sh gradc
# first. A benchmark, not a test: timings are noisy.
#
#   bench/onnx_roundtrip.py [--gradc PATH] [--threads T] [--steps N]
#                           [--runs R] [--data DIR] [--models "m1 m2"]
#
# ===----------------------------------------------------------------------===#

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def block(text, name):
    """The top-level block `name { ... }` of a .pbtxt, braces matched."""
    m = re.search(r"(?m)^%s\s*\{" % name, text)
    if not m:
        return ""
    depth, i = 0, m.end() - 1
    while i < len(text):
        depth += {"{": 1, "}": -1}.get(text[i], 0)
        if depth == 0:
            return text[m.start():i + 1] + "\n"
        i += 1
    return ""


def train(gradc, model, args, work, tag):
    metrics = os.path.join(work, tag + ".jsonl")
    run = subprocess.run(
        [gradc, "train", model, "--data", args.data, "--threads",
         str(args.threads), "--max-steps", str(args.steps), "--epochs", "1",
         "--batch-size", "64", "--metrics-json", metrics],
        capture_output=True, text=True)
    if run.returncode != 0:
        sys.exit("bench/onnx_roundtrip.py: %s: gradc failed:\n%s"
                 % (tag, run.stderr[-2000:]))
    with open(metrics) as f:
        return json.loads(f.read().splitlines()[-1])["images_per_second"]


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--gradc", default=os.path.join(ROOT, "build/tools/gradc"))
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    ap.add_argument("--models", default="mnist_mlp fashion_mnist_cnn lenet")
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="gradc-onnx-roundtrip.")
    rows = []
    for name in args.models.split():
        source = os.path.join(ROOT, "examples", name + ".pbtxt")
        text = open(source).read()
        exported = os.path.join(work, name + ".onnx")
        # One step gives the weights to export.
        run = subprocess.run([args.gradc, "train", source, "--data", args.data,
                              "--max-steps", "1", "--export-onnx", exported],
                             capture_output=True, text=True)
        if run.returncode != 0:
            sys.exit("bench/onnx_roundtrip.py: %s: export failed:\n%s"
                     % (name, run.stderr[-2000:]))
        imported = os.path.join(work, name + "_onnx.pbtxt")
        with open(imported, "w") as f:
            f.write('name: "%s_onnx"\nnetwork { onnx: "%s" }\n'
                    % (name, exported))
            for b in ("loss", "optimizer", "training"):
                f.write(block(text, b))
        native, onnx = [], []
        for r in range(args.runs):
            native.append(train(args.gradc, source, args, work, name))
            onnx.append(train(args.gradc, imported, args, work,
                              name + "_onnx"))
        rows.append((name, statistics.median(native),
                     statistics.median(onnx)))
    print("step throughput, .pbtxt against its ONNX export imported again: "
          "batch 64, %d thread(s), %d steps, median of %d runs"
          % (args.threads, args.steps, args.runs))
    print("%-18s %14s %14s %7s" % ("model", ".pbtxt ex/s", "ONNX ex/s",
                                   "ratio"))
    for name, a, b in rows:
        print("%-18s %14.0f %14.0f %7.2f" % (name, a, b, b / a))


if __name__ == "__main__":
    main()
