#!/usr/bin/python3
# ===- lstm.py - the weather LSTM: gradc against PyTorch -----------------===#
#
# examples/weather_lstm.pbtxt trained by gradc and by the same model in
# Debian's PyTorch (tests/e2e/recurrent_torch.py writes it: nn.LSTM, batch
# first), same batch, same threads, Adam, on the example's CSV windows: the
# median training step and the time steps (days) per second, PyTorch in
# float32 with its OpenBLAS at full speed (OPENBLAS_CORETYPE and
# OPENBLAS_L2_SIZE unset for it alone). Prints one JSON line per framework
# and a table.
#
# Builds nothing: run scripts/build.sh gradc first. A benchmark, not a
# test: timings are noisy, compare the figures of one run.
#
#   bench/lstm.py [--gradc PATH] [--threads T] [--steps N] [--batch B]
#
# ===----------------------------------------------------------------------===#

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODEL = os.path.join(ROOT, "examples", "weather_lstm.pbtxt")
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))


def torch_part(args):
    """Runs in a child with OpenBLAS's variables unset: PyTorch's steps."""
    import torch
    import recurrent_torch as rt
    torch.set_num_threads(args.threads)
    text = open(MODEL).read()
    x, y, _ = rt.weather_windows(text)
    units = int(re.search(r"lstm \{ units: (\d+)", text).group(1))
    # (The normalization as the identity: timing only.)
    net = rt.WeatherLstm(x.shape[2], units, torch.zeros(x.shape[2]),
                         torch.ones(x.shape[2])).float()
    xs = torch.from_numpy(x).float()
    ys = torch.from_numpy(y).float()
    opt = torch.optim.Adam(net.parameters(), lr=0.005, eps=1e-7)
    per_epoch = len(x) // args.batch
    times = []
    for step in range(args.steps):
        b = slice((step % per_epoch) * args.batch,
                  (step % per_epoch + 1) * args.batch)
        start = time.perf_counter()
        opt.zero_grad()
        torch.nn.functional.mse_loss(net(xs[b]), ys[b]).backward()
        opt.step()
        times.append(time.perf_counter() - start)
    timed = sorted(times[2:] or times)
    print(json.dumps({"framework": "pytorch",
                      "step_ms_median": 1e3 * timed[len(timed) // 2]}))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--gradc", default=os.path.join(ROOT, "build", "tools",
                                                    "gradc"))
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--torch-part", action="store_true")
    args = ap.parse_args()
    if args.torch_part:
        return torch_part(args)
    length = int(re.search(r"length: (\d+)", open(MODEL).read()).group(1))
    with tempfile.TemporaryDirectory() as work:
        metrics = os.path.join(work, "m.json")
        p = subprocess.run(
            [args.gradc, "train", MODEL, "--threads", str(args.threads),
             "--batch-size", str(args.batch), "--max-steps", str(args.steps),
             "--epochs", "1000", "--metrics-json", metrics],
            capture_output=True, text=True)
        if p.returncode:
            sys.exit("gradc train failed:\n" + p.stdout + p.stderr)
        ours = [json.loads(l) for l in open(metrics)][-1]["step_ms_median"]
    env = dict(os.environ)
    env.pop("OPENBLAS_CORETYPE", None)
    env.pop("OPENBLAS_L2_SIZE", None)
    p = subprocess.run([sys.executable, os.path.abspath(__file__),
                        "--torch-part", "--threads", str(args.threads),
                        "--batch", str(args.batch), "--steps",
                        str(args.steps)], capture_output=True, text=True,
                       env=env)
    if p.returncode:
        sys.exit("PyTorch failed:\n" + p.stderr)
    theirs = json.loads(p.stdout.strip().splitlines()[-1])["step_ms_median"]
    days = args.batch * length
    for name, ms in (("gradc", ours), ("pytorch", theirs)):
        print(json.dumps({"framework": name, "model": "weather_lstm",
                          "step_ms_median": ms,
                          "examples_per_second": args.batch / ms * 1e3,
                          "tokens_per_second": days / ms * 1e3}))
    print("weather_lstm, batch %d x %d days, %d threads, %d steps"
          % (args.batch, length, args.threads, args.steps))
    print("| | median step | days/s |\n|---|---:|---:|")
    for name, ms in (("gradc", ours), ("PyTorch", theirs)):
        print("| %s | %.2f ms | %.0f |" % (name, ms, days / ms * 1e3))
    print("gradc / PyTorch: %.2fx" % (theirs / ours))


if __name__ == "__main__":
    main()
