#!/usr/bin/env python3
"""1 process x 2 threads against mpirun -np 2 x 1 thread, same global batch.

Usage: bench/data_parallel.py [GRADC] [MODEL] [STEPS] [REPEATS]

Trains MODEL (default: the Fashion-MNIST CNN) for STEPS steps (default 200)
each way, REPEATS times (default 3), and prints the median step time (the
training step alone, from --metrics-json's step_ms_median), the throughput,
and for the MPI runs the gradient allreduce: its size and its mean time per
step (waiting for the other rank included), as `--timing` reports it.
Timings on a shared 2-core machine are noisy: compare the two in one run.
"""

import json
import os
import re
import statistics
import subprocess
import sys
import tempfile

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
gradc = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "build/tools/gradc")
model = sys.argv[2] if len(sys.argv) > 2 else os.path.join(
    root, "examples/fashion_mnist_cnn.pbtxt")
steps = int(sys.argv[3]) if len(sys.argv) > 3 else 200
repeats = int(sys.argv[4]) if len(sys.argv) > 4 else 3
MPIRUN = ["mpirun", "--allow-run-as-root", "--oversubscribe", "-np", "2",
          "--bind-to", "core", "--mca", "btl_vader_single_copy_mechanism", "none"]


def run(prefix, threads):
    with tempfile.TemporaryDirectory() as tmp:
        metrics = os.path.join(tmp, "m.json")
        p = subprocess.run(prefix + [gradc, "train", model, "--epochs", "1",
                                     "--max-steps", str(steps), "--threads",
                                     str(threads), "--timing",
                                     "--metrics-json", metrics],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           universal_newlines=True, check=True)
        with open(metrics) as f:
            m = json.loads(f.readline())
    ar = re.search(r"rank 0: \d+ gradient allreduces of (\d+) floats "
                   r"\(([\d.]+) MB\), ([\d.]+) ms", p.stderr)
    return m["step_ms_median"], m["images_per_second"], ar


results = {"1 process x 2 threads": [], "2 ranks x 1 thread (mpirun)": []}
allreduce = []
for _ in range(repeats):
    results["1 process x 2 threads"].append(run([], 2)[:2])
    step, ips, ar = run(MPIRUN, 1)
    results["2 ranks x 1 thread (mpirun)"].append((step, ips))
    if ar:
        allreduce.append((int(ar.group(1)), float(ar.group(3))))
print("%s, %d steps, %d repeats (medians)" % (os.path.basename(model), steps,
                                              repeats))
print("| run | step ms | img/s |")
print("|---|---|---|")
for name, rows in results.items():
    print("| %s | %.2f | %.0f |" % (name, statistics.median(r[0] for r in rows),
                                    statistics.median(r[1] for r in rows)))
if allreduce:
    floats = allreduce[0][0]
    ms = statistics.median(a[1] for a in allreduce)
    print("allreduce: %d floats (%.3f MB) per step, %.3f ms per step "
          "(%.2f GB/s effective)" % (floats, floats * 4e-6, ms,
                                     floats * 4e-6 / ms))
