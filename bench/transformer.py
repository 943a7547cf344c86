#!/usr/bin/python3
# ===- transformer.py - the char transformer: gradc against PyTorch ------===#
#
# examples/char_transformer.pbtxt trained by gradc and by the same model in
# Debian's PyTorch (tests/e2e/transformer_torch.py writes it), same batch,
# same threads, Adam, on the example's text:
#
#   throughput  tokens per second of the median training step (PyTorch in
#               float32, its OpenBLAS at full speed: OPENBLAS_CORETYPE and
#               OPENBLAS_L2_SIZE unset for it alone);
#   quality     with --quality-steps N, both take N steps from the same
#               initial weights on the same windows (no shuffle) and the
#               validation bits per character are compared.
#
# Builds nothing: run scripts/build.sh gradc first. A benchmark, not a
# test: timings are noisy, compare the figures of one run.
#
#   bench/transformer.py [--gradc PATH] [--threads T] [--steps N]
#                        [--batch B] [--quality-steps N]
#
# ===----------------------------------------------------------------------===#

import argparse
import json
import math
import os
import re
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODEL = os.path.join(ROOT, "examples", "char_transformer.pbtxt")
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
import e2e_common  # noqa: E402


def windows(s):
    """The example's windows and next-token labels, and the training count
    (gradc's validation split: the last fraction of the windows)."""
    with open(s["file"], "rb") as f:
        data = np.frombuffer(f.read(), dtype=np.uint8).astype(np.int64)
    t = s["context"]
    n = (len(data) - 1) // t
    x = data[:n * t].reshape(n, t)
    y = data[1:n * t + 1].reshape(n, t)
    split = float(re.search(r"validation_split: ([0-9.]+)",
                            open(MODEL).read()).group(1))
    return x, y, int(math.floor(n * (1 - split)))


def torch_part(args):
    """Runs in a child with OpenBLAS's variables unset: PyTorch's steps."""
    import torch
    import transformer_torch as tt
    torch.set_num_threads(args.threads)
    s = tt.settings(open(MODEL).read())
    net = tt.CharTransformer(s)
    if args.init:
        import checkpoint_pb2 as pb
        ckpt = pb.Checkpoint()
        ckpt.ParseFromString(open(args.init, "rb").read())
        for p in ckpt.param:
            tt.assign(net, p.name, np.array(p.data, dtype=np.float32)
                      .reshape(tuple(p.shape)), s["width"])
    net = net.float()
    net.mask = net.mask.float()
    x, y, train = windows(s)
    x, y = torch.from_numpy(x), torch.from_numpy(y)
    opt = torch.optim.Adam(net.parameters(), lr=s["lr"], eps=1e-7)
    times = []
    steps = args.quality_steps or args.steps
    per_epoch = -(-train // args.batch)
    for step in range(steps):
        # gradc's order without shuffling: the epoch's batches in turn, the
        # last one partial.
        i = step % per_epoch
        b = slice(i * args.batch, min((i + 1) * args.batch, train))
        start = time.perf_counter()
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(
            net(x[b]).reshape(-1, s["vocab"]), y[b].reshape(-1))
        loss.backward()
        opt.step()
        times.append(time.perf_counter() - start)
    out = {"step_ms_median": 1e3 * sorted(times[2:] or times)[len(times[2:] or
                                                                  times) // 2]}
    if args.quality_steps:
        with torch.no_grad():
            total, count = 0.0, 0
            for i in range(train, len(x), args.batch):
                logits = net(x[i:i + args.batch]).reshape(-1, s["vocab"])
                labels = y[i:i + args.batch].reshape(-1)
                total += float(torch.nn.functional.cross_entropy(
                    logits, labels, reduction="sum"))
                count += len(labels)
        out["validation_bpc"] = total / count / math.log(2)
    print(json.dumps(out))


def run_gradc(args, work, extra):
    metrics = os.path.join(work, "m%d.json" % len(os.listdir(work)))
    cmd = [args.gradc, "train", MODEL, "--threads", str(args.threads),
           "--batch-size", str(args.batch), "--metrics-json", metrics,
           "--no-shuffle"] + extra
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode:
        sys.exit("gradc train failed:\n" + p.stdout + p.stderr)
    m = [json.loads(l) for l in open(metrics)][-1]
    return m, p.stdout


def run_torch(args, init=None, quality_steps=0):
    env = dict(os.environ)
    env.pop("OPENBLAS_CORETYPE", None)
    env.pop("OPENBLAS_L2_SIZE", None)
    env["PYTHONPATH"] = args.work
    cmd = [sys.executable, os.path.abspath(__file__), "--torch-part",
           "--threads", str(args.threads), "--batch", str(args.batch),
           "--steps", str(args.steps), "--quality-steps", str(quality_steps)]
    if init:
        cmd += ["--init", init]
    p = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if p.returncode:
        sys.exit("PyTorch failed:\n" + p.stderr)
    return json.loads(p.stdout.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--gradc", default=os.path.join(ROOT, "build", "tools",
                                                    "gradc"))
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--quality-steps", type=int, default=0)
    ap.add_argument("--torch-part", action="store_true")
    ap.add_argument("--init")
    args = ap.parse_args()
    if args.torch_part:
        return torch_part(args)
    with tempfile.TemporaryDirectory() as work:
        args.work = work
        e2e_common.checkpoint_module(ROOT, work)
        context = int(re.search(r"shape: \[(\d+)\]",
                                open(MODEL).read()).group(1))
        tokens = args.batch * context
        g, _ = run_gradc(args, work, ["--max-steps", str(args.steps)])
        t = run_torch(args)
        print("char_transformer, batch %d x %d tokens, %d threads, %d steps"
              % (args.batch, context, args.threads, args.steps))
        print("| | median step | tokens/s |\n|---|---:|---:|")
        for name, ms in (("gradc", g["step_ms_median"]),
                         ("PyTorch", t["step_ms_median"])):
            print("| %s | %.1f ms | %.0f |" % (name, ms, tokens / ms * 1e3))
        print("gradc / PyTorch: %.2fx"
              % (t["step_ms_median"] / g["step_ms_median"]))
        if args.quality_steps:
            quality(args, work)


def quality(args, work):
    """Both from gradc's initial weights, the same windows, N steps."""
    import checkpoint_pb2 as pb
    template = os.path.join(work, "template.ckpt")
    run_gradc(args, work, ["--max-steps", "1", "--checkpoint", template])
    ckpt = pb.Checkpoint()
    ckpt.ParseFromString(open(template, "rb").read())
    # Fresh values of the template's scale (it took a step), as the test.
    rng = np.random.default_rng(3)
    for p in ckpt.param:
        value = rng.normal(0, 0.02, len(p.data)) + (
            1.0 if p.name.endswith("gamma") else 0.0)
        del p.data[:]
        p.data.extend(value.astype(np.float32).tolist())
    del ckpt.state[:]
    ckpt.step = ckpt.epoch = 0
    init = os.path.join(work, "init.ckpt")
    e2e_common.write_checkpoint(ckpt, init)
    _, out = run_gradc(args, work, ["--init-from", init, "--max-steps",
                                    str(args.quality_steps)])
    ours = float(re.findall(r"validation: loss [0-9.]+  bpc ([0-9.]+)",
                            out)[-1])
    theirs = run_torch(args, init, args.quality_steps)["validation_bpc"]
    print("validation bits per character after %d steps from the same "
          "weights: gradc %.4f, PyTorch %.4f (%+.2f %%)"
          % (args.quality_steps, ours, theirs, 100 * (ours / theirs - 1)))


if __name__ == "__main__":
    main()
