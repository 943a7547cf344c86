#===- mpi_data_parallel.py - mpirun -np 2 gradc train ----------*- python -*-===#
"""Data-parallel training over OpenMPI (Debian's /usr/bin/python3 with onnx).

- 2 ranks x 32 examples give the weights of 1 process x 64 after 4 steps
  (within 1e-5 relative; compared through --export-onnx), and after 2
  epochs (10 steps) within 1e-4.
- Every rank holds the same weights at every epoch end (gradc compares their
  hashes and says so with --timing).
- A checkpoint written by 2 ranks resumes in 1 process and the reverse,
  giving the weights of an uninterrupted run.
- Killing one rank ends the job with an error naming it, within seconds.
- A batch that does not divide among the ranks is refused.
"""

import os
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import onnx
from onnx import numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2e_common as c  # noqa: E402

GRADC, WORK = sys.argv[1], sys.argv[2]
shutil.rmtree(WORK, ignore_errors=True)
os.makedirs(WORK)
ck = c.Checker()
MPIRUN = ["mpirun", "--allow-run-as-root", "--oversubscribe", "-np", "2",
          "--mca", "btl_vader_single_copy_mechanism", "none"]


def path(name):
    return os.path.join(WORK, name)


data = c.make_dataset(path("data"), n_train=320, n_test=100)
# SGD: Adam's m / sqrt(v) magnifies the rounding of near-zero gradients,
# which differs between one sum of 64 rows and two of 32.
model = c.write_model(
    path("model.pbtxt"), name="parallel", batch_size=64, epochs=2,
    optimizer="momentum { learning_rate: 0.05 }",
    layers="""\
layer { name: "conv1" conv2d { filters: 8 kernel_size: [3, 3] activation: RELU } }
layer { name: "pool1" max_pool2d { pool_size: [2, 2] } }
layer { name: "flat"  flatten {} }
layer { name: "fc"    dense { units: 16 activation: RELU } }
layer { name: "out"   dense { units: 4 activation: SOFTMAX } }
""")


def train(tag, ranks, *args, timeout=120):
    cmd = (MPIRUN if ranks > 1 else []) + [
        GRADC, "train", model, "--data", data, "--threads", "1",
        "--export-onnx", path(tag + ".onnx"), *args]
    code, out, err = c.run(cmd, timeout=timeout)
    ck.check(code == 0, "%s: %s exits 0" % (tag, " ".join(cmd)), out + err)
    return out, err


def weights(tag):
    try:
        graph = onnx.load(path(tag + ".onnx")).graph
    except Exception as e:  # noqa: BLE001
        ck.check(False, "%s.onnx: %s" % (tag, e))
        return {}
    return {t.name: numpy_helper.to_array(t) for t in graph.initializer}


def compare(a, b, what, rtol=1e-5):
    wa, wb = weights(a), weights(b)
    if not ck.check(wa and sorted(wa) == sorted(wb), what + ": same tensors"):
        return
    worst = max(float(np.max(np.abs(wa[k] - wb[k]) /
                             np.maximum(np.abs(wb[k]), 1e-3))) for k in wa)
    ck.check(worst < rtol, "%s: largest relative difference %.3g" % (what, worst))
    return worst


# 1 process x 64 and 2 ranks x 32, 4 steps (whole batches only).
train("single", 1, "--max-steps", "4")
out, err = train("two", 2, "--max-steps", "4", "--timing")
ck.check("data parallel over 2 ranks: each steps 32 examples" in out,
         "rank 0 announces the data parallelism", out)
ck.check(out.count("gradc: training parallel") == 1,
         "only rank 0 prints progress", out)
compare("single", "two", "2 ranks x 32 vs 1 x 64 after 4 steps")

# Whole epochs (320 = 5 batches of 64): the ranks' weights agree at every
# epoch end, and equal one process's.
train("single-2ep", 1)
out, err = train("two-2ep", 2, "--timing", "--checkpoint", path("two.ckpt"))
ck.check(out.count("weights identical on all 2 ranks") == 2,
         "the ranks' weights are compared at both epoch ends", out)
# Over 10 steps the rounding of two 32-row sums against one 64-row sum
# drifts (ReLU's kinks), so the longer runs compare within 1e-4.
compare("single-2ep", "two-2ep", "2 epochs, 2 ranks vs 1 process", 1e-4)

# Resume across P: 1 epoch on 2 ranks, the second in 1 process, and the
# reverse, against the uninterrupted runs.
train("two-1ep", 2, "--epochs", "1", "--checkpoint", path("p2.ckpt"))
train("resumed-on-1", 1, "--resume", path("p2.ckpt"))
compare("resumed-on-1", "single-2ep", "2 ranks then 1 process", 1e-4)
train("one-1ep", 1, "--epochs", "1", "--checkpoint", path("p1.ckpt"))
train("resumed-on-2", 2, "--resume", path("p1.ckpt"))
compare("resumed-on-2", "two-2ep", "1 process then 2 ranks", 1e-4)

# A batch that does not divide among the ranks.
code, out, err = c.run(MPIRUN + [GRADC, "train", model, "--data", data,
                                 "--batch-size", "63"], timeout=60)
ck.check(code != 0 and "does not divide among 2 ranks" in err,
         "batch 63 on 2 ranks is refused", out + err)

# Kill rank 1 mid-run: the job ends within seconds, naming the rank.
long_run = MPIRUN + [GRADC, "train", model, "--data", data, "--epochs",
                     "10000", "--checkpoint", path("killed.ckpt")]
p = subprocess.Popen(long_run, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                     universal_newlines=True)
ranks = []
deadline = time.time() + 60
while time.time() < deadline and len(ranks) < 2:
    ranks = subprocess.run(["pgrep", "-P", str(p.pid), "-f", "gradc train"],
                           stdout=subprocess.PIPE,
                           universal_newlines=True).stdout.split()
    time.sleep(0.2)
time.sleep(4)  # past compilation, into training
killed_at = time.time()
if ck.check(len(ranks) == 2, "mpirun started 2 ranks: %s" % ranks):
    os.kill(int(ranks[-1]), signal.SIGKILL)
try:
    out, err = p.communicate(timeout=30)
    ck.check(p.returncode != 0, "the job fails when a rank dies")
    ck.check(time.time() - killed_at < 20,
             "the job ended %.1f s after the kill" % (time.time() - killed_at))
    ck.check("rank" in err and ("signal 9" in err or "Killed" in err or
                                "exited" in err),
             "the error names the rank that died", err[-2000:])
except subprocess.TimeoutExpired:
    p.kill()
    ck.check(False, "the job hangs after a rank was killed")

ck.finish()
