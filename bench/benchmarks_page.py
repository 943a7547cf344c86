#!/usr/bin/env python3
"""Writes docs/benchmarks.md (and the README's headline table) from one run.

Runs bench/run.sh --runs times in one sitting (each run: every example
trained with gradc, then with Debian's PyTorch, same model, batch, threads
and optimizer), then writes docs/benchmarks.md with the machine, the
commit, the settings and the median of each figure, and replaces the table
between the markers <!-- bench:begin --> and <!-- bench:end --> in
README.md. Builds nothing: run scripts/build.sh gradc first.

Usage: bench/benchmarks_page.py [--runs R] [--steps N] [--threads T]
                                [--no-write]
"""

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODELS = ["mnist_mlp", "fashion_mnist_cnn", "lenet"]
BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"


def git(*args):
    return subprocess.run(["git", "-C", ROOT, *args], capture_output=True,
                          text=True).stdout.strip()


def machine():
    cpu = "unknown CPU"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        kib = int(f.readline().split()[1])
    flags = open("/proc/cpuinfo").read()
    isa = [x for x in ("avx512f", "avx512_bf16", "avx2") if f" {x}" in flags]
    return (f"{cpu}, {os.cpu_count()} cores, {kib / 2**20:.1f} GiB, "
            f"{platform.system()} {platform.release()}, "
            f"ISA: {' '.join(isa) or 'baseline'}")


def run_once(steps, threads, out):
    cmd = [os.path.join(ROOT, "bench", "run.sh"), "--steps", str(steps),
           "--threads", str(threads), "--json", out]
    r = subprocess.run(cmd, capture_output=True, text=True)
    sys.stderr.write(r.stderr)
    print(r.stdout, end="")
    if r.returncode != 0:
        sys.exit("bench/benchmarks_page.py: bench/run.sh failed")


def per_second(row):
    for key in ("examples_per_second", "images_per_second"):
        if row.get(key) is not None:
            return float(row[key])
    return None


def collect(paths):
    figures = {m: {"gradc": [], "torch": [], "step": []} for m in MODELS}
    for path in paths:
        with open(path) as f:
            for line in f:
                row = json.loads(line)
                m = row.get("model")
                if m not in figures:
                    continue
                side = "torch" if row.get("framework") == "pytorch" else "gradc"
                figures[m][side].append(per_second(row))
                if side == "gradc" and row.get("step_ms_median") is not None:
                    figures[m]["step"].append(float(row["step_ms_median"]))
    return figures


def median(v):
    v = [x for x in v if x is not None]
    return statistics.median(v) if v else None


def table(figures):
    lines = ["| model | gradc examples/s | gradc median step | PyTorch "
             "examples/s | gradc / PyTorch |", "|---|---:|---:|---:|---:|"]
    for m in MODELS:
        g, t = median(figures[m]["gradc"]), median(figures[m]["torch"])
        s = median(figures[m]["step"])
        ratio = f"{g / t:.1f}x" if g and t else "-"
        lines.append(f"| {m} | {g:,.0f} | {s:.3f} ms | {t:,.0f} | {ratio} |"
                     if g and t and s else f"| {m} | failed | | | |")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--no-write", action="store_true",
                    help="print the page instead of writing the files")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        paths = []
        for i in range(args.runs):
            print(f"run {i + 1} of {args.runs}", file=sys.stderr)
            paths.append(os.path.join(tmp, f"run{i}.jsonl"))
            run_once(args.steps, args.threads, paths[-1])
        figures = collect(paths)
    commit = git("rev-parse", "--short", "HEAD")
    dirty = " (with uncommitted changes)" if git("status", "--porcelain",
                                                 "--untracked-files=no") else ""
    when = datetime.date.today().isoformat()
    settings = (f"batch 64, Adam, {args.threads} thread(s), {args.steps} "
                f"timed steps, median of {args.runs} runs in one sitting")
    headline = (f"{table(figures)}\n\nMeasured {when} at commit {commit}"
                f"{dirty}: {settings}; machine and method in "
                f"[benchmarks](docs/benchmarks.md).")
    page = f"""# Benchmarks

What this page is: gradc's training throughput against Debian's PyTorch,
written by [`bench/benchmarks_page.py`](../bench/benchmarks_page.py) from
one run; earlier measurements are in the [history](benchmark-history.md).
Back to the [README](../README.md).

- Commit: {commit}{dirty}, {when}
- Machine: {machine()}
- Settings: {settings}; PyTorch {torch_version()} runs the same
  models with the same initial recipe (`bench/torch_reference.py`), with
  `OPENBLAS_CORETYPE` and `OPENBLAS_L2_SIZE` unset so its matrix products
  run at full speed.

{table(figures)}

Each figure is the median over the runs; a run trains each example with
gradc (`gradc train --max-steps N --metrics-json`) and then with PyTorch.
The median step is the median over the runs of gradc's median full-batch
step time in each run (`step_ms_median` of `--metrics-json`). Timings on this machine are noisy (its cores are
shared with other virtual machines): compare the columns of one run, not
figures of different days.

## How to measure

- `bench/benchmarks_page.py [--runs R] [--steps N] [--threads T]`
  regenerates this page and the README's table.
- [`bench/run.sh`](../bench/run.sh) `[--threads T] [--steps N]` prints one
  run's table without writing anything.
- [`bench/compile.py`](../bench/compile.py) measures compile time, warm
  start and step time per example ([compile cache and
  AOT](compile-cache-and-aot.md#benchmark)).
- [`bench/data_parallel.py`](../bench/data_parallel.py) and
  [`bench/allreduce_loopback.c`](../bench/allreduce_loopback.c) measure
  data-parallel training ([distributed](distributed.md#benchmark)).
- [`bench/code_size.py`](../bench/code_size.py) measures the per-layer
  machine code behind the [code budget](limits-and-errors.md#code-budget).
- [`bench/matmul.py`](../bench/matmul.py) `[--threads T] [--steps N]`
  compares the batched matmul (attention's Q·Kᵀ, `[N, 4, 128, 64]` by its
  transpose) with the 2-D one (a dense layer 512 → 512) in GFLOP/s of a
  training step. Measured 2026-12-07 (2 threads, batch 64, 100 steps,
  median of 3 runs): dense 139.3, batched 91.8 GFLOP/s (0.66 of the
  dense layer's).
- [`bench/onnx_roundtrip.py`](../bench/onnx_roundtrip.py) `[--steps N]
  [--runs R]` trains each example and its ONNX export imported again
  (`network { onnx }`, the same loss, optimizer and training) on the same
  data. Measured 2026-12-07 (2 threads, batch 64, 150 steps, median of 3
  runs), examples per second, .pbtxt / ONNX: mnist_mlp 165130 / 164668,
  fashion_mnist_cnn 6248 / 6244, lenet 5497 / 5481 (ratio 1.00 each).

## Profiling

With `GRADC_PERF_MAP=1` the JIT writes `/tmp/perf-PID.map`, so
`perf record gradc train ...; perf report` names `train_step` and each of
its OpenMP regions (`train_step..omp_par.N`, numbered in program order).
"""
    if args.no_write:
        print(page)
        print(headline)
        return 0
    with open(os.path.join(ROOT, "docs", "benchmarks.md"), "w") as f:
        f.write(page)
    readme = os.path.join(ROOT, "README.md")
    text = open(readme).read()
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        _, tail = rest.split(END, 1)
        with open(readme, "w") as f:
            f.write(f"{head}{BEGIN}\n{headline}\n{END}{tail}")
    print("wrote docs/benchmarks.md and README.md's table", file=sys.stderr)
    return 0


def torch_version():
    r = subprocess.run(["/usr/bin/python3", "-c",
                        "import torch; print(torch.__version__)"],
                       capture_output=True, text=True)
    return r.stdout.strip() or "(not installed)"


if __name__ == "__main__":
    sys.exit(main())
