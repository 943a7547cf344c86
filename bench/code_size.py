#!/usr/bin/env python3
"""Machine code and compile time per layer kind, against the code budget.

For each case, compiles a model of 1 and of 3 such layers (plus a flatten
and a 10-way dense head) with `gradc compile --emit=obj` and prints what each
added layer costs: bytes of .text and seconds of compile. The difference
cancels the module's own code (loss, optimizer, entry points). The last
column is the layer's estimate in the code budget (frontend/ModelBudget.h,
printed by `gradc summary`), which must stay below the measured size: the
budget's per-layer figures are lower bounds taken from this table.

    bench/code_size.py [--gradc build/tools/gradc] [--only conv,dense]
"""
import argparse
import os
import re
import subprocess
import tempfile
import time

# (kind, spatial size, channels, layer text with {c} and {prev}, the layer
# before it).
CASES = [
    ("conv", 16, 8, 'conv2d {{ filters: {c} kernel_size: [3, 3] padding: SAME }}'),
    ("conv", 28, 32, 'conv2d {{ filters: {c} kernel_size: [3, 3] padding: SAME }}'),
    ("conv", 8, 64, 'conv2d {{ filters: {c} kernel_size: [3, 3] padding: SAME }}'),
    ("conv", 7, 128, 'conv2d {{ filters: {c} kernel_size: [3, 3] padding: SAME }}'),
    ("conv", 14, 64, 'conv2d {{ filters: {c} kernel_size: [5, 5] padding: SAME }}'),
    ("conv", 32, 3, 'conv2d {{ filters: {c} kernel_size: [3, 3] padding: SAME }}'),
    ("depthwise", 16, 32, 'conv2d {{ filters: {c} groups: {c} kernel_size: [3, 3] padding: SAME }}'),
    ("depthwise", 16, 64, 'conv2d {{ filters: {c} groups: {c} kernel_size: [3, 3] padding: SAME }}'),
    ("depthwise", 8, 128, 'conv2d {{ filters: {c} groups: {c} kernel_size: [3, 3] padding: SAME }}'),
    ("depthwise", 8, 512, 'conv2d {{ filters: {c} groups: {c} kernel_size: [3, 3] padding: SAME }}'),
    ("grouped", 16, 32, 'conv2d {{ filters: {c} groups: 4 kernel_size: [3, 3] padding: SAME }}'),
    ("dense", 0, 16, 'dense {{ units: {c} }}'),
    ("dense", 0, 128, 'dense {{ units: {c} }}'),
    ("dense", 0, 500, 'dense {{ units: {c} }}'),
    ("dense", 0, 1024, 'dense {{ units: {c} }}'),
    ("max_pool", 16, 8, 'max_pool2d {{ pool_size: [2, 2] strides: [1, 1] padding: SAME }}'),
    ("max_pool", 16, 32, 'max_pool2d {{ pool_size: [5, 5] strides: [1, 1] padding: SAME }}'),
    ("avg_pool", 16, 8, 'avg_pool2d {{ pool_size: [3, 3] strides: [1, 1] padding: SAME }}'),
    ("max_pool", 28, 8, 'max_pool2d {{ pool_size: [7, 7] strides: [1, 1] padding: SAME }}'),
    ("batch_norm", 16, 8, 'batch_norm {{ }}'),
    ("batch_norm", 7, 256, 'batch_norm {{ }}'),
    ("layer_norm", 16, 8, 'layer_norm {{ }}'),
    ("layer_norm", 7, 256, 'layer_norm {{ }}'),
    ("layer_norm", 0, 128, 'layer_norm {{ }}'),
    ("reduce", 16, 8, 'reduce {{ op: MAX axes: [3] keepdims: true }}'),
    ("reduce", 16, 32, 'reduce {{ op: MEAN axes: [1] keepdims: true }}'),
    ("relu", 16, 8, 'activation {{ kind: RELU }}'),
    ("matmul", 16, 16, 'matmul {{ transpose_b: true }} inputs: ["{prev}", "{prev}"]'),
    ("matmul", 32, 32, 'matmul {{ }} inputs: ["{prev}", "{prev}"]'),
]


def model(hw, c, layer, n):
    shape = "[%d, %d, %d]" % (hw, hw, c) if hw else "[%d]" % c
    lines = ['name: "m"', 'input { name: "x" shape: %s }' % shape]
    for i in range(n):
        prev = "l%d" % (i - 1) if i else "x"
        lines.append('layer { name: "l%d" %s }'
                     % (i, layer.format(c=c, prev=prev)))
    if hw:
        lines.append('layer { name: "flat" flatten {} }')
    lines += ['layer { name: "out" dense { units: 10 activation: SOFTMAX } }',
              'loss { categorical_crossentropy {} }',
              'optimizer { adam { learning_rate: 0.001 } }',
              'training { batch_size: 32 epochs: 1 seed: 1 }']
    return "\n".join(lines) + "\n"


def text_bytes(obj):
    out = subprocess.run(["size", "-A", obj], stdout=subprocess.PIPE,
                         universal_newlines=True, check=True).stdout
    return sum(int(f[1]) for f in (l.split() for l in out.splitlines())
               if f and f[0] in (".text", ".ltext"))


def compile_model(gradc, path):
    t = time.time()
    subprocess.run([gradc, "compile", path, "--emit=obj", "-o", path + ".o",
                    "--code-limit", "1024"], check=True)
    return text_bytes(path + ".o"), time.time() - t


def estimate(gradc, path):
    out = subprocess.run([gradc, "summary", path], stdout=subprocess.PIPE,
                         universal_newlines=True, check=True).stdout
    m = re.search(r"Compiled code: at least ([\d.]+) (bytes|KiB|MiB)", out)
    scale = {"bytes": 1, "KiB": 1024, "MiB": 1 << 20}[m.group(2)]
    return float(m.group(1)) * scale


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--gradc", default=os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "build", "tools",
        "gradc"))
    ap.add_argument("--only", default="", help="comma-separated kinds")
    args = ap.parse_args()
    only = set(filter(None, args.only.split(",")))
    print("%-11s %-14s %12s %10s %12s" % ("kind", "input", "KiB/layer",
                                          "s/layer", "budget KiB"))
    with tempfile.TemporaryDirectory() as tmp:
        for kind, hw, c, layer in CASES:
            if only and kind not in only:
                continue
            sizes = []
            for n in (1, 3):
                path = os.path.join(tmp, "m%d.pbtxt" % n)
                with open(path, "w") as f:
                    f.write(model(hw, c, layer, n))
                sizes.append(compile_model(args.gradc, path) +
                             (estimate(args.gradc, path),))
            (b1, t1, e1), (b3, t3, e3) = sizes
            shape = "%dx%dx%d" % (hw, hw, c) if hw else "%d" % c
            print("%-11s %-14s %12.1f %10.2f %12.1f" % (
                kind, shape, (b3 - b1) / 2 / 1024, (t3 - t1) / 2,
                (e3 - e1) / 2 / 1024), flush=True)


if __name__ == "__main__":
    main()
