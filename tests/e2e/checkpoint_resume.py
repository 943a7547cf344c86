#!/usr/bin/env python3
#===- checkpoint_resume.py - checkpoints, resume, eval, predict -*- python -*-===#
"""End-to-end checkpointing on synthetic data.

A model with batch norm, dropout, Adam, a validation split and a partial last batch
(270 training images in batches of 20) is trained:
  A: 2 epochs, --checkpoint a.ckpt;
  B: 1 epoch, --checkpoint b.ckpt, then --resume b.ckpt --epochs 2
     --checkpoint b.ckpt.
With the same seed and thread count the two final checkpoints must be
byte-identical, and so must the second epoch's metrics. --init-from takes
the weights only (optimizer state and position start afresh), `gradc eval
--weights` reproduces the final test line of run A, and `gradc predict`
prints one line per image (also from a gzipped file) whose classes give the
same accuracy. Runs A and B use the default optimization level; the others
use --opt-level 0, which compiles in a fraction of the time, to stay within
the time limit of a test.

Usage: checkpoint_resume.py GRADC TMPDIR
"""

import gzip
import os
import re
import shutil
import sys

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2e_common as c  # noqa: E402

STEPS = 14  # ceil(270 / 20): the last batch has 10 images
# Batch norm's running statistics are buffers: saved, restored on resume.
LAYERS = c.CNN_LAYERS.replace(
    'layer { name: "out"',
    'layer { name: "drop"  dropout { rate: 0.3 } }\nlayer { name: "out"').replace(
    'layer { name: "pool1"',
    'layer { name: "bn1"   batch_norm {} }\nlayer { name: "pool1"')
TIME_FIELDS = ("images_per_second", "seconds", "step_ms_min", "step_ms_median",
               "step_seconds", "data_wait_seconds", "data_assemble_seconds")
STEP_FIELD, EPOCH_FIELD = 5, 6  # in runtime/params/checkpoint.proto


def main():
    gradc, tmp = sys.argv[1], sys.argv[2]
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    data = c.make_dataset(os.path.join(tmp, "data"))
    model = c.write_model(os.path.join(tmp, "model.pbtxt"), LAYERS,
                          name="resume", batch_size=20, epochs=5,
                          training="validation_split: 0.1 ")
    path = lambda name: os.path.join(tmp, name)  # noqa: E731
    ck = c.Checker()

    def train(*args):
        code, out, err = c.run([gradc, "train", model, "--data", data,
                                "--threads", "2"] + list(args))
        ck.check(code == 0, "gradc train %s exited %d" % (" ".join(args), code),
                 out + err)
        return out

    out_a = train("--epochs", "2", "--checkpoint", path("a.ckpt"),
                  "--metrics-json", path("a.json"))
    train("--epochs", "1", "--checkpoint", path("b.ckpt"),
          "--metrics-json", path("b.json"))
    out_b = train("--resume", path("b.ckpt"), "--epochs", "2",
                  "--checkpoint", path("b.ckpt"), "--metrics-json",
                  path("b.json"))
    if not os.path.exists(path("a.ckpt")) or not os.path.exists(path("b.ckpt")):
        ck.finish()

    # Resuming gives exactly the uninterrupted run.
    ck.check(c.read_bytes(path("a.ckpt")) == c.read_bytes(path("b.ckpt")),
             "a.ckpt and the resumed b.ckpt differ")
    fields = c.checkpoint_fields(path("a.ckpt"))
    ck.check(fields.get(STEP_FIELD) == 2 * STEPS and
             fields.get(EPOCH_FIELD) == 2,
             "a.ckpt is at step %s, epoch %s; expected %d, 2"
             % (fields.get(STEP_FIELD), fields.get(EPOCH_FIELD), 2 * STEPS))
    strip = lambda r: {k: v for k, v in r.items()  # noqa: E731
                       if k not in TIME_FIELDS}
    rows_a, rows_b = c.read_metrics(path("a.json")), c.read_metrics(path("b.json"))
    ck.check([r["epoch"] for r in rows_b] == [1, 2],
             "resumed run: metrics epochs %s" % [r["epoch"] for r in rows_b])
    ck.check(len(rows_a) == 2 and len(rows_b) == 2 and
             [strip(r) for r in rows_a] == [strip(r) for r in rows_b],
             "resumed metrics differ:\n%s\n%s" % (rows_a, rows_b))
    ck.check(not re.search(r"epoch 1/2", out_b),
             "the resumed run trained epoch 1 again", out_b)

    # A checkpoint taken mid-epoch (--max-steps) resumes at its next batch:
    # the same weights as the uninterrupted run.
    train("--epochs", "2", "--max-steps", str(STEPS // 2 + 1),
          "--checkpoint", path("m.ckpt"))
    fields = c.checkpoint_fields(path("m.ckpt"))
    ck.check(fields.get(STEP_FIELD) == STEPS // 2 + 1 and
             fields.get(EPOCH_FIELD, 0) == 0,
             "m.ckpt is at step %s, epoch %s" % (fields.get(STEP_FIELD),
                                                 fields.get(EPOCH_FIELD)))
    out_m = train("--resume", path("m.ckpt"), "--epochs", "2",
                  "--checkpoint", path("m.ckpt"))
    ck.check(c.read_bytes(path("a.ckpt")) == c.read_bytes(path("m.ckpt")),
             "resuming mid-epoch: m.ckpt differs from the uninterrupted "
             "a.ckpt", out_m)
    ck.check("%d/%d" % (STEPS // 2 + 2, STEPS) in out_m or
             "%d/%d" % (STEPS, STEPS) in out_m,
             "resuming mid-epoch: no progress past the checkpoint", out_m)

    # --init-from: the weights of a.ckpt, but step and epoch from zero.
    out_i = train("--init-from", path("a.ckpt"), "--epochs", "1",
                  "--checkpoint", path("i.ckpt"), "--metrics-json",
                  path("i.json"), "--opt-level", "0")
    rows_i = c.read_metrics(path("i.json"))
    fields = c.checkpoint_fields(path("i.ckpt"))
    ck.check(fields.get(STEP_FIELD) == STEPS and fields.get(EPOCH_FIELD) == 1,
             "--init-from: i.ckpt is at step %s, epoch %s; expected %d, 1"
             % (fields.get(STEP_FIELD), fields.get(EPOCH_FIELD), STEPS))
    ck.check([r["epoch"] for r in rows_i] == [1],
             "--init-from: metrics epochs %s" % [r["epoch"] for r in rows_i],
             out_i)
    if rows_i and rows_a:
        ck.check(rows_i[0]["train_loss"] < 0.75 * rows_a[0]["train_loss"],
                 "--init-from: first-epoch loss %g is not below a fresh "
                 "start's %g" % (rows_i[0]["train_loss"],
                                 rows_a[0]["train_loss"]))
    # gradc eval reproduces run A's final test line.
    final = re.search(r"^Test: .*$", out_a, re.M)
    code, out, err = c.run([gradc, "eval", model, "--weights", path("a.ckpt"),
                            "--data", data, "--opt-level", "0"])
    line = re.search(r"^Test: .*$", out, re.M)
    ck.check(code == 0 and final and line and line.group(0) == final.group(0),
             "gradc eval: %r, training said %r"
             % (line and line.group(0), final and final.group(0)), out + err)
    ck.check("Confusion matrix" in out, "gradc eval: no confusion matrix")

    # gradc predict: one line per image, "i: class k  [p0 p1 p2 p3]".
    labels = c.read_bytes(os.path.join(data, "t10k-labels-idx1-ubyte"))[8:]
    raw = os.path.join(data, "t10k-images-idx3-ubyte")
    with open(raw, "rb") as src, gzip.open(path("t10k.gz"), "wb") as dst:
        dst.write(src.read())
    for images in (raw, path("t10k.gz")):
        code, out, err = c.run([gradc, "predict", model, "--weights",
                                path("a.ckpt"), "--input", images,
                                "--opt-level", "0"])
        lines = out.splitlines()
        ck.check(code == 0 and len(lines) == len(labels),
                 "gradc predict %s: exit %d, %d lines for %d images"
                 % (images, code, len(lines), len(labels)), err)
        correct = 0
        for i, text in enumerate(lines):
            m = re.match(r"^(\d+): class (\d+)  \[([-0-9. ]+)\]$", text)
            if not ck.check(m and int(m.group(1)) == i,
                            "gradc predict: bad line %d: %r" % (i, text)):
                break
            probs = [float(p) for p in m.group(3).split()]
            ck.check(len(probs) == c.CLASSES and abs(sum(probs) - 1) < 1e-3,
                     "gradc predict: line %d: probabilities %s" % (i, probs))
            ck.check(probs.index(max(probs)) == int(m.group(2)),
                     "gradc predict: line %d: class is not the argmax" % i)
            correct += int(m.group(2)) == labels[i]
        accuracy = re.search(r"accuracy (\d+\.\d+)%", final.group(0)) \
            if final else None
        if accuracy:
            ck.check(abs(100.0 * correct / len(labels) -
                         float(accuracy.group(1))) < 1e-6,
                     "gradc predict: %d correct, eval says %s%%"
                     % (correct, accuracy.group(1)))
    ck.finish()


if __name__ == "__main__":
    main()
