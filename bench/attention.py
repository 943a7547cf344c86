#!/usr/bin/python3
# ===- attention.py - fused attention against its unfused form -----------===#
#
# One causal transformer block (examples/char_transformer.pbtxt's: width
# 128, 4 heads, pre-norm, GELU MLP) trained by gradc on the example's text
# at context T, with attention fused (nn.attention, tiles of 64 keys with an
# online softmax) and with --unfused-attention (batch_matmul, causal_mask,
# softmax, batch_matmul: a T x T score matrix per head):
#
#   step    the median training step of --metrics-json;
#   memory  the process's peak resident memory in a second run, whose
#           compiled code comes from the compile cache, so that LLVM's
#           own memory is not counted: data, weights and the step's
#           buffers.
#
# Builds nothing: run scripts/build.sh gradc first. A benchmark, not a
# test: timings are noisy, compare the figures of one run.
#
#   bench/attention.py [--gradc PATH] [--threads T] [--steps N]
#                      [--batch B] [--contexts 128,512,1024]
#
# ===----------------------------------------------------------------------===#

import argparse
import json
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TEXT = "/usr/share/games/fortunes/cookie"

BLOCK = """name: "attention_block"
input {{ name: "ids" shape: [{t}] dtype: INT64 }}
layer {{ name: "embed" embedding {{ input_dim: 256 output_dim: 128 }} }}
layer {{ name: "positions" weight {{ shape: [{t}, 128] }} }}
layer {{ name: "x0" add {{}} inputs: ["embed", "positions"] }}
layer {{ name: "ln1" layer_norm {{}} }}
layer {{ name: "attn" multi_head_attention {{ heads: 4 causal: true }} }}
layer {{ name: "res1" add {{}} inputs: ["x0", "attn"] }}
layer {{ name: "ln2" layer_norm {{}} }}
layer {{ name: "ff1" dense {{ units: 512 activation: GELU }} }}
layer {{ name: "ff2" dense {{ units: 128 }} }}
layer {{ name: "res2" add {{}} inputs: ["res1", "ff2"] }}
layer {{ name: "logits" dense {{ units: 256 activation: SOFTMAX }} }}
loss {{ sparse_categorical_crossentropy {{}} }}
optimizer {{ adam {{ learning_rate: 0.001 }} }}
training {{ batch_size: {batch} epochs: 1 seed: 1 }}
data {{ text {{ file: "{text}" vocabulary: BYTES }} }}
"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--gradc", default=os.path.join(ROOT, "build", "tools",
                                                    "gradc"))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--contexts", default="128,512,1024")
    args = ap.parse_args()
    print("one causal block, width 128, 4 heads, batch %d, %d threads, "
          "%d steps" % (args.batch, args.threads, args.steps))
    print("| T | unfused step | fused step | speed-up | unfused peak | "
          "fused peak | smaller |\n|---:|---:|---:|---:|---:|---:|---:|")
    for t in [int(c) for c in args.contexts.split(",")]:
        with tempfile.TemporaryDirectory() as work:
            model = os.path.join(work, "block.pbtxt")
            with open(model, "w") as f:
                f.write(BLOCK.format(t=t, batch=args.batch, text=TEXT))
            row = {}
            for unfused in (True, False):
                peak, m = measure(args, model, work, unfused)
                row[unfused] = (m["step_ms_median"], peak)
        (us, up), (fs, fp) = row[True], row[False]
        print("| %d | %.1f ms | %.1f ms | %.2fx | %.0f MiB | %.0f MiB | "
              "%.1fx |" % (t, us, fs, us / fs, up / 1024, fp / 1024,
                           up / fp))


def measure(args, model, work, unfused):
    """The median step (ms) and peak resident KiB of the cached run."""
    metrics = os.path.join(work, "m.json")
    cmd = [args.gradc, "train", model, "--threads", str(args.threads),
           "--max-steps", str(args.steps), "--metrics-json", metrics]
    if unfused:
        cmd.append("--unfused-attention")
    env = dict(os.environ, XDG_CACHE_HOME=os.path.join(work, "cache"))
    peak = 0
    for _ in ("compile", "cached"):
        if os.path.exists(metrics):
            os.remove(metrics)
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, env=env)
        out = p.stdout.read()
        _, status, usage = os.wait4(p.pid, 0)
        if status:
            sys.exit("gradc train failed:\n" + out.decode())
        peak = usage.ru_maxrss
    return peak, [json.loads(l) for l in open(metrics)][-1]


if __name__ == "__main__":
    main()
