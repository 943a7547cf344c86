#!/usr/bin/env python3
#===- monitors.py - early stopping and reduce-on-plateau -*- python -*-===#
"""End-to-end epoch-end monitors on synthetic data (MLP, --opt-level 0 to
compile fast).

Early stopping (min_delta 0.2, patience 1, restore_best_weights) must stop
at the epoch Keras's rule gives for the validation losses the run itself
wrote to --metrics-json, say so, write --checkpoint-best at the best epoch,
and put the best weights back (printing the restored epoch and a test line)
when the best epoch is not the last.

Reduce-on-plateau with min_delta 10 makes every epoch after the first a
bad one: with patience 0 and factor 0.5 the rates of epochs 1-4 are lr, lr,
lr/2, lr/4. A run resumed after epoch 2 has the same rates and the same
final checkpoint as the uninterrupted one (the monitor's state is saved).

Usage: monitors.py GRADC TMPDIR
"""

import os
import re
import shutil
import sys

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2e_common as c  # noqa: E402

EPOCH_FIELD = 6  # in runtime/params/checkpoint.proto
LR = 0.01


def keras_stop(losses, min_delta, patience):
    """(stop epoch or 0, best epoch) by Keras's EarlyStopping rule."""
    best, best_epoch, wait = float("inf"), 0, 0
    for epoch, loss in enumerate(losses, 1):
        wait += 1
        if loss < best - min_delta:
            best, best_epoch, wait = loss, epoch, 0
        elif wait >= patience and epoch > 1:
            return epoch, best_epoch
    return 0, best_epoch


def main():
    gradc, tmp = sys.argv[1], sys.argv[2]
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    data = c.make_dataset(os.path.join(tmp, "data"))
    path = lambda name: os.path.join(tmp, name)  # noqa: E731
    ck = c.Checker()

    def train(model, *args):
        code, out, err = c.run([gradc, "train", model, "--data", data,
                                "--threads", "2", "--opt-level", "0"]
                               + list(args))
        ck.check(code == 0, "gradc train %s exited %d" % (" ".join(args), code),
                 out + err)
        return out

    # Early stopping.
    stopping = c.write_model(
        path("stop.pbtxt"), c.MLP_LAYERS, name="stop", epochs=12,
        optimizer="adam { learning_rate: %g }" % LR,
        training="validation_split: 0.2 early_stopping { min_delta: 0.2 "
                 "patience: 1 restore_best_weights: true } ")
    out = train(stopping, "--metrics-json", path("stop.json"),
                "--checkpoint", path("stop.ckpt"),
                "--checkpoint-best", path("best.ckpt"))
    rows = c.read_metrics(path("stop.json"))
    losses = [r["validation_loss"] for r in rows]
    stop, best = keras_stop(losses, 0.2, 1)
    ck.check(stop != 0 and len(rows) == stop,
             "ran %d epochs; Keras's rule stops at %d for %s"
             % (len(rows), stop, losses), out)
    ck.check(re.search(r"early stopping: validation loss has not improved "
                       r"for 1 epoch\(s\); best [\d.]+ at epoch %d" % best,
                       out), "no early-stopping line for best epoch %d" % best,
             out)
    if os.path.exists(path("best.ckpt")):
        ck.check(c.checkpoint_fields(path("best.ckpt")).get(EPOCH_FIELD) == best,
                 "best.ckpt is not from epoch %d" % best)
    else:
        ck.check(False, "no best.ckpt")
    restored = re.search(r"restored the weights of epoch (\d+)", out)
    ck.check(bool(restored) == (best != stop),
             "restore line %s with best epoch %d of %d"
             % (bool(restored), best, stop), out)
    if restored and os.path.exists(path("stop.ckpt")):
        ck.check(c.read_bytes(path("stop.ckpt"))[:64] != b"" and
                 int(restored.group(1)) == best, "restored the wrong epoch")

    # Reduce-on-plateau, uninterrupted and resumed.
    plateau = c.write_model(
        path("plateau.pbtxt"), c.MLP_LAYERS, name="plateau", epochs=4,
        optimizer="adam { learning_rate: %g }" % LR,
        training="validation_split: 0.2 lr_schedule { reduce_on_plateau { "
                 "factor: 0.5 patience: 0 min_delta: 10 } } ")
    train(plateau, "--metrics-json", path("a.json"), "--checkpoint",
          path("a.ckpt"))
    rates = [r["learning_rate"] for r in c.read_metrics(path("a.json"))]
    expected = [LR, LR, LR / 2, LR / 4]
    ck.check(len(rates) == 4 and
             all(abs(r - e) < 1e-9 for r, e in zip(rates, expected)),
             "plateau rates %s, expected %s" % (rates, expected))
    train(plateau, "--epochs", "2", "--checkpoint", path("b.ckpt"))
    train(plateau, "--resume", path("b.ckpt"), "--checkpoint", path("b.ckpt"),
          "--metrics-json", path("b.json"))
    resumed = [r["learning_rate"] for r in c.read_metrics(path("b.json"))]
    ck.check(resumed == rates[2:], "resumed rates %s, expected %s"
             % (resumed, rates[2:]))
    ck.check(os.path.exists(path("a.ckpt")) and os.path.exists(path("b.ckpt"))
             and c.read_bytes(path("a.ckpt")) == c.read_bytes(path("b.ckpt")),
             "the resumed plateau run ends in a different checkpoint")

    # Monitors without validation data are refused by the checker.
    bad = c.write_model(path("bad.pbtxt"), c.MLP_LAYERS, name="bad",
                        training="early_stopping { patience: 2 } ")
    code, out, err = c.run([gradc, "train", bad, "--data", data])
    ck.check(code == 1 and "early_stopping: needs validation data" in err,
             "early stopping without validation: exit %d" % code, out + err)
    ck.finish()


if __name__ == "__main__":
    main()
