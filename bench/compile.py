#!/usr/bin/env python3
# ===- compile.py - compile time, warm start and step time ---------------===#
"""Compile time and start-up of `gradc train`, next to a baseline build.

For each example model, with gradc (default build/tools/gradc) and, when
given, a baseline gradc binary (an older build, e.g. a git worktree of the
commit before the compile cache), in the same run and interleaved:

- cold: every compilation a one-epoch `gradc train` run needs, with an
  empty compile cache (the sum of the MLIR and LLVM times --timing prints),
  and how many modules were compiled;
- warm: seconds from process start to the end of the first training step
  when the cache holds the model (gradc --timing prints it); the baseline
  has no cache, so its start always pays the cold compile;
- step: the median milliseconds of a full-batch training step over
  --steps steps (from --metrics-json).

Medians of --runs runs. Builds nothing.

  bench/compile.py [--gradc PATH] [--baseline PATH] [--runs N]
                   [--steps N] [--models "m1 m2"]
"""

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def train(gradc, model, cache, steps, metrics=None):
    env = dict(os.environ, XDG_CACHE_HOME=cache)
    args = [gradc, "train", os.path.join(ROOT, "examples", model + ".pbtxt"),
            "--epochs", "1", "--max-steps", str(steps), "--timing"]
    if metrics:
        args += ["--metrics-json", metrics]
    p = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       universal_newlines=True, env=env, timeout=1800)
    if p.returncode != 0:
        sys.exit("bench/compile.py: %s failed:\n%s" % (" ".join(args),
                                                       p.stderr[-2000:]))
    err = p.stderr
    compile_s, modules = 0.0, 0
    for m in re.finditer(r"compiled for batch \d+.*?: MLIR pipeline "
                         r"([0-9.]+) s, LLVM(?: JIT)? ([0-9.]+) s"
                         r"(?:, linking ([0-9.]+) s)?", err):
        compile_s += sum(float(g) for g in m.groups() if g)
        modules += 1
    first = re.search(r"first training step done ([0-9.]+) s", err)
    hit = re.search(r"compile cache hit for batch \d+: loaded .* in "
                    r"([0-9.]+) s", err)
    step = None
    if metrics:
        with open(metrics) as f:
            step = json.loads(f.readline())["step_ms_median"]
    return {"compile": compile_s, "modules": modules,
            "first": float(first.group(1)) if first else None,
            "hit": float(hit.group(1)) if hit else None, "step": step}


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def fmt(v, spec="%.2f"):
    return "-" if v is None else spec % v


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--gradc", default=os.path.join(ROOT, "build", "tools",
                                                    "gradc"))
    ap.add_argument("--baseline")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--models",
                    default="fashion_mnist_cnn mnist_mlp lenet "
                            "fashion_mnist_resnet")
    a = ap.parse_args()
    binaries = [("gradc", a.gradc)]
    if a.baseline:
        binaries.insert(0, ("baseline", a.baseline))
    rows = []
    for model in a.models.split():
        results = {name: [] for name, _ in binaries}
        for _ in range(a.runs):
            for name, binary in binaries:
                with tempfile.TemporaryDirectory() as tmp:
                    cold = train(binary, model, tmp, 1)
                    warm = train(binary, model, tmp, a.steps,
                                 os.path.join(tmp, "m.json"))
                results[name].append((cold, warm))
        for name, _ in binaries:
            runs = results[name]
            rows.append((model, name,
                         median([c["compile"] for c, _ in runs]),
                         median([c["modules"] for c, _ in runs]),
                         median([w["first"] for _, w in runs]),
                         median([w["hit"] for _, w in runs]),
                         median([w["step"] for _, w in runs])))
    print("| model | build | cold compile (s) | modules | warm start: "
          "first step after (s) | cache load (s) | step (ms, median) |")
    print("|---|---|---|---|---|---|---|")
    for model, name, comp, mods, first, hit, step in rows:
        print("| %s | %s | %s | %s | %s | %s | %s |" % (
            model, name, fmt(comp), fmt(mods, "%d"), fmt(first), fmt(hit),
            fmt(step)))


if __name__ == "__main__":
    main()
