#!/usr/bin/env python3
#===- train_synthetic.py - gradc train learns a small problem -*- python -*-===#
"""End-to-end training on synthetic data.

Writes a 12x12x1 IDX dataset of four clearly different patterns with noise
(300 train / 100 test images), then trains a conv + pool + dense model and
an MLP with `gradc train` for several epochs. The metrics file must show a
training loss near zero and a high test accuracy, and the output must carry
the progress line of every epoch, the per-epoch test line, the final test
line and a confusion matrix whose rows add up to the test set.

Usage: train_synthetic.py GRADC TMPDIR
"""

import os
import re
import shutil
import sys

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2e_common as c  # noqa: E402

EPOCHS = 10
STEPS = 15  # 300 images in batches of 20

MODELS = [
    ("cnn", c.CNN_LAYERS, "adam { learning_rate: 0.01 }"),
    ("mlp", c.MLP_LAYERS,
     "momentum { learning_rate: 0.05 momentum: 0.9 nesterov: true }"),
]


def check_run(ck, gradc, tmp, data, name, layers, optimizer):
    model = c.write_model(os.path.join(tmp, name + ".pbtxt"), layers,
                          name="synthetic_" + name, optimizer=optimizer)
    metrics = os.path.join(tmp, name + ".json")
    code, out, err = c.run([gradc, "train", model, "--data", data,
                            "--epochs", str(EPOCHS), "--metrics-json",
                            metrics, "--threads", "2"])
    if not ck.check(code == 0, "%s: gradc train exited %d" % (name, code),
                    out + err):
        return
    rows = c.read_metrics(metrics)
    ck.check([r["epoch"] for r in rows] == list(range(1, EPOCHS + 1)),
             "%s: metrics epochs %s" % (name, [r["epoch"] for r in rows]))
    for key in ("steps", "train_loss", "train_accuracy", "validation_loss",
                "validation_accuracy", "test_loss", "test_accuracy",
                "images_per_second", "seconds"):
        ck.check(all(key in r for r in rows), "%s: no '%s' in metrics"
                 % (name, key))
    last = rows[-1]
    ck.check(all(r["steps"] == STEPS for r in rows),
             "%s: steps per epoch %s" % (name, [r["steps"] for r in rows]))
    ck.check(last["train_loss"] < 0.05,
             "%s: final train loss %g" % (name, last["train_loss"]))
    ck.check(last["train_loss"] < rows[0]["train_loss"],
             "%s: the loss did not go down" % name)
    ck.check(last["train_accuracy"] >= 0.99,
             "%s: final train accuracy %g" % (name, last["train_accuracy"]))
    ck.check(last["test_accuracy"] >= 0.95,
             "%s: final test accuracy %g" % (name, last["test_accuracy"]))
    ck.check(last["images_per_second"] > 0, "%s: no throughput" % name)

    # Output: a progress line per epoch, a test line per epoch, the final
    # test line and the confusion matrix.
    for epoch in range(1, EPOCHS + 1):
        ck.check(re.search(r"epoch %d/%d \[=+\] %d/%d .*img/s +loss \d+\.\d+ "
                           r"+acc \d+\.\d+%%" % (epoch, EPOCHS, STEPS, STEPS),
                           out),
                 "%s: no progress line for epoch %d" % (name, epoch), out)
    ck.check(len(re.findall(r"^ +test: +loss \d+\.\d+ +accuracy \d+\.\d+%$",
                            out, re.M)) == EPOCHS,
             "%s: not one test line per epoch" % name, out)
    final = re.search(r"^Test: loss (\d+\.\d+), accuracy (\d+\.\d+)% "
                      r"\(100 images\)$", out, re.M)
    if ck.check(final, "%s: no final test line" % name, out):
        ck.check(abs(float(final.group(2)) / 100 - last["test_accuracy"])
                 < 1e-4, "%s: the final test line disagrees with the metrics"
                 % name, out)
    ck.check("Confusion matrix (rows: true class, columns: predicted)" in out,
             "%s: no confusion matrix" % name, out)
    matrix = re.findall(r"^ +\S+ (\d) +((?:\d+ +){4}) +(\d+\.\d)%$", out, re.M)
    if ck.check(len(matrix) == c.CLASSES,
                "%s: confusion matrix has %d rows" % (name, len(matrix)), out):
        diagonal = 0
        for row, (cls, counts, _) in enumerate(matrix):
            counts = [int(v) for v in counts.split()]
            ck.check(int(cls) == row and sum(counts) == 25,
                     "%s: confusion row %s adds up to %d, not 25"
                     % (name, cls, sum(counts)), out)
            diagonal += counts[row]
        ck.check(abs(diagonal / 100 - last["test_accuracy"]) < 1e-4,
                 "%s: confusion diagonal %d disagrees with the accuracy"
                 % (name, diagonal))


def main():
    gradc, tmp = sys.argv[1], sys.argv[2]
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    data = c.make_dataset(os.path.join(tmp, "data"))
    ck = c.Checker()
    for name, layers, optimizer in MODELS:
        check_run(ck, gradc, tmp, data, name, layers, optimizer)
    ck.finish()


if __name__ == "__main__":
    main()
