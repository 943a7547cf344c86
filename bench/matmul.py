#!/usr/bin/python3
# ===- matmul.py - batched matmul against the 2-D matmul, in GFLOP/s -----===#
#
# Trains two models with gradc on random data and prints the throughput of
# their matrix products in GFLOP/s (3 products per step: the forward one and
# the gradients of both operands):
#
#   dense    a dense layer [N, K] x [K, M] (the 2-D matmul, nn.dense)
#   batched  a matmul layer of an activation with itself, [N, h, T, d] x
#            [N, h, d, T] (nn.batch_matmul, attention's Q Kᵀ over h heads)
#
# Each model ends in a small dense layer to 10 classes (the batched one
# after a mean over the heads) so that it trains; those FLOPs are counted
# out of the figure and are under 5 % of the step. Builds nothing: run
# scripts/build.sh gradc first. A benchmark, not a test: timings are noisy,
# compare the two figures of one run.
#
#   bench/matmul.py [--gradc PATH] [--threads T] [--steps N] [--batch B]
#
# ===----------------------------------------------------------------------===#

import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# name, per-example input shape, layers, FLOPs of the timed product per
# example (forward; a step does 3 times as many)
K = M = 512
H, T, D = 4, 128, 64
MODELS = (
    ("dense", [K],
     'layer { name: "mm" dense { units: %d use_bias: false } }\n' % M,
     2 * K * M),
    ("batched", [H, T, D],
     'layer { name: "mm" matmul { transpose_b: true } '
     'inputs: ["x", "x"] }\n'
     'layer { name: "heads" reduce { op: MEAN axes: [1] } }\n'
     'layer { name: "flat" flatten {} }\n',
     2 * H * T * T * D),
)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--gradc", default=os.path.join(ROOT, "build/tools/gradc"))
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--batch", type=int, default=64)
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="gradc-matmul.")
    rng = np.random.default_rng(1)
    rows = []
    for name, shape, layers, flops in MODELS:
        n = args.batch * args.steps
        x = os.path.join(work, name + "_x.npy")
        y = os.path.join(work, name + "_y.npy")
        np.save(x, rng.standard_normal([n] + shape).astype(np.float32))
        np.save(y, rng.integers(0, 10, n).astype(np.int64))
        model = os.path.join(work, name + ".pbtxt")
        with open(model, "w") as f:
            f.write('name: "%s"\ninput { name: "x" shape: %s }\n%s'
                    'layer { name: "out" dense { units: 10 activation: '
                    'SOFTMAX } }\n'
                    "loss { sparse_categorical_crossentropy {} }\n"
                    "optimizer { sgd { learning_rate: 0.001 } }\n"
                    'training { batch_size: %d }\n'
                    'data { numpy { x: "%s" y: "%s" } }\n'
                    % (name, shape, layers, args.batch, x, y))
        metrics = os.path.join(work, name + ".jsonl")
        run = subprocess.run(
            [args.gradc, "train", model, "--threads", str(args.threads),
             "--max-steps", str(args.steps), "--epochs", "1",
             "--metrics-json", metrics], capture_output=True, text=True)
        if run.returncode != 0:
            sys.exit("bench/matmul.py: %s: gradc failed:\n%s"
                     % (name, run.stderr[-2000:]))
        with open(metrics) as f:
            ips = json.loads(f.read().splitlines()[-1])["images_per_second"]
        rows.append((name, shape, 3 * flops, ips, 3 * flops * ips / 1e9))
    print("gradc matmul throughput: batch %d, %d thread(s), %d steps"
          % (args.batch, args.threads, args.steps))
    print("%-8s %-14s %14s %12s %9s" % ("model", "per example", "MFLOP/example",
                                        "examples/s", "GFLOP/s"))
    for name, shape, flops, ips, gflops in rows:
        print("%-8s %-14s %14.2f %12.0f %9.1f"
              % (name, "x".join(map(str, shape)), flops / 1e6, ips, gflops))
    print("batched / dense: %.2f" % (rows[1][4] / rows[0][4]))


if __name__ == "__main__":
    main()
