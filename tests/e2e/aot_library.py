#!/usr/bin/env python3
#===- aot_library.py - gradc compile --emit=lib ----------------*- python -*-===#
"""The ahead-of-time library end to end, on synthetic data.

A small CNN is trained (checkpoint), compiled with `gradc compile --emit=lib
-o libsynth.so` (which writes synth.h), and examples/aot/classify.c is
built against it with the system C compiler. Its predictions for the 100
test images (a partial last batch of 4 at batch 32) must equal `gradc
predict`'s, line by line. A C program of the test's own calls the eval and
train steps: eval_step over the test set (padded with label -1) must give
`gradc eval`'s loss and accuracy, and one train_step from the checkpoint's
weights `gradc train --init-from`'s first loss. Bad uses fail with one line:
-o without lib*.so, a missing checkpoint.

Usage: aot_library.py GRADC TMPDIR
"""

import os
import re
import shutil
import subprocess
import sys

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2e_common as c  # noqa: E402

EXAMPLE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                       "examples", "aot", "classify.c")

STEPS_C = r"""
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
/* classify.c's readers (and its M(x) for synth_x) */
#define main classify_main
#include "CLASSIFY"
#undef main

static unsigned char *idx(const char *path, size_t *n) {
  return read_file(path, n);
}

int main(int argc, char **argv) {
  /* argv: checkpoint, test images, test labels, train images, train labels */
  size_t ckSize, n;
  unsigned char *ck = read_file(argv[1], &ckSize);
  float *w[M(NUM_WEIGHTS)], *s[M(NUM_STATE) + 1];
  for (int i = 0; i < M(NUM_WEIGHTS); ++i) {
    w[i] = malloc(4 * M(weight_sizes)[i]);
    if (!find_tensor(ck, ckSize, M(weight_names)[i], w[i],
                     M(weight_sizes)[i], argv[1]))
      return 1;
  }
  for (int i = 0; i < M(NUM_STATE); ++i)
    s[i] = calloc(M(state_sizes)[i], 4);
  static float x[M(BATCH) * M(INPUT_SIZE)];
  static int32_t y[M(BATCH)];
  unsigned char *im = idx(argv[2], &n), *lb = idx(argv[3], &n);
  int count = (int)be32(im + 4);
  double lossSum = 0;
  long correctSum = 0;
  for (int start = 0; start < count; start += M(BATCH)) {
    int rows = count - start < M(BATCH) ? count - start : M(BATCH);
    for (int i = 0; i < M(BATCH); ++i) {
      y[i] = i < rows ? lb[8 + start + i] : -1;
      for (int j = 0; j < M(INPUT_SIZE); ++j)
        x[i * M(INPUT_SIZE) + j] =
            i < rows ? im[16 + (start + i) * M(INPUT_SIZE) + j] / 255.0f : 0;
    }
    float loss;
    int64_t correct;
    M(eval_step)(w, x, y, &loss, &correct);
    lossSum += (double)loss * rows;
    correctSum += correct;
  }
  printf("eval loss %.6f accuracy %.4f\n", lossSum / count,
         100.0 * correctSum / count);
  im = idx(argv[4], &n);
  lb = idx(argv[5], &n);
  for (int i = 0; i < M(BATCH); ++i) {
    y[i] = lb[8 + i];
    for (int j = 0; j < M(INPUT_SIZE); ++j)
      x[i * M(INPUT_SIZE) + j] = im[16 + i * M(INPUT_SIZE) + j] / 255.0f;
  }
  float loss;
  int64_t correct;
  M(train_step)(w, s, 0, 0.01f, x, y, &loss, &correct);
  printf("train loss %.6f\n", loss);
  return 0;
}
"""


def main():
    gradc, tmp = sys.argv[1], sys.argv[2]
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    ck = c.Checker()
    cc = shutil.which("cc")
    if not ck.check(cc is not None, "no C compiler (cc) on the PATH"):
        ck.finish()
    data = c.make_dataset(os.path.join(tmp, "data"), n_train=300, n_test=100)
    model = c.write_model(os.path.join(tmp, "model.pbtxt"), c.CNN_LAYERS,
                          name="synth", batch_size=32, epochs=2)
    path = lambda name: os.path.join(tmp, name)  # noqa: E731

    def run(args, expect=0, what=None):
        code, out, err = c.run(args, timeout=50)
        ck.check(code == expect, "%s exited %d" % (what or " ".join(args), code),
                 out + err)
        return out, err

    run([gradc, "train", model, "--data", data, "--checkpoint",
         path("w.ckpt")])
    run([gradc, "compile", model, "--emit=lib", "-o", path("libsynth.so")])
    ck.check(os.path.exists(path("synth.h")), "synth.h should be written "
             "next to the library")
    run([cc, "-O2", "-Wall", "-Werror", "-DMODEL=synth", "-include",
         path("synth.h"), EXAMPLE, "-L" + tmp, "-lsynth",
         "-Wl,-rpath," + tmp, "-o", path("classify")], what="cc classify.c")
    images = os.path.join(data, "t10k-images-idx3-ubyte")
    aot, _ = run([path("classify"), path("w.ckpt"), images])
    jit, _ = run([gradc, "predict", model, "--weights", path("w.ckpt"),
                  "--input", images])
    ck.check(len(aot.splitlines()) == 100 and aot == jit,
             "the library's predictions should equal gradc predict's",
             "\n".join(l for l in zip(aot.splitlines(), jit.splitlines())
                       if l[0] != l[1]).__str__()[:2000])

    # The eval and train steps through the C interface.
    with open(path("steps.c"), "w") as f:
        f.write(STEPS_C.replace("CLASSIFY", os.path.abspath(EXAMPLE)))
    run([cc, "-O2", "-DMODEL=synth", "-include", path("synth.h"),
         path("steps.c"), "-L" + tmp,
         "-lsynth", "-Wl,-rpath," + tmp, "-o", path("steps")],
        what="cc steps.c")
    out, _ = run([path("steps"), path("w.ckpt"), images,
                  os.path.join(data, "t10k-labels-idx1-ubyte"),
                  os.path.join(data, "train-images-idx3-ubyte"),
                  os.path.join(data, "train-labels-idx1-ubyte")])
    m = re.search(r"eval loss ([0-9.]+) accuracy ([0-9.]+)", out)
    ev, _ = run([gradc, "eval", model, "--weights", path("w.ckpt"), "--data",
                 data])
    e = re.search(r"Test: loss ([0-9.]+), accuracy ([0-9.]+)%", ev)
    if ck.check(m and e, "eval outputs", out + ev):
        ck.check(abs(float(m.group(1)) - float(e.group(1))) < 1e-4 and
                 abs(float(m.group(2)) - float(e.group(2))) < 0.01,
                 "eval_step should give gradc eval's loss and accuracy",
                 out + ev)
    metrics = path("m.json")
    run([gradc, "train", model, "--data", data, "--init-from", path("w.ckpt"),
         "--no-shuffle", "--max-steps", "1", "--epochs", "1",
         "--metrics-json", metrics])
    t = re.search(r"train loss ([0-9.]+)", out)
    first = c.read_metrics(metrics)[0]["train_loss"]
    if ck.check(t is not None, "train_step output", out):
        ck.check(abs(float(t.group(1)) - first) <= 1e-5 * max(1, first),
                 "train_step's loss %s should be gradc train's first %s" %
                 (t.group(1), first))

    # Bad uses: one line, exit 1.
    _, err = run([gradc, "compile", model, "--emit=lib", "-o",
                  path("synth.so")], expect=1)
    ck.check("libNAME.so" in err and len(err.strip().splitlines()) == 1,
             "-o without lib prefix should be refused in one line", err)
    _, err = run([gradc, "compile", model, "--emit=lib"], expect=1)
    ck.check("needs -o" in err, "--emit=lib without -o", err)
    _, err = run([path("classify"), path("missing.ckpt"), images], expect=1)
    ck.check("missing.ckpt: error: cannot open" in err, "missing checkpoint",
             err)
    ck.finish()


if __name__ == "__main__":
    main()
