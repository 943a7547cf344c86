#!/usr/bin/env python3
#===- checkpoint_kill.py - kill -9 during checkpoint writes -*- python -*-===#
"""A run that writes a checkpoint every few milliseconds (an MLP on 300
synthetic images, 400 epochs) is killed with SIGKILL at random moments,
15 times. After every kill the checkpoint on disk is complete: it parses
and its CRC-32 (the last field, runtime/params/checkpoint.proto) matches its
bytes. Temporary files of killed writers do not pile up: the next save
removes them, so after a final complete run none is left.

Usage: checkpoint_kill.py GRADC TMPDIR
"""

import os
import random
import shutil
import signal
import subprocess
import sys
import time
import zlib

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2e_common as c  # noqa: E402

CRC_KEY = (12 << 3) | 5  # field 12, fixed32


def complete(path, ck, what):
    data = c.read_bytes(path)
    ok = len(data) > 5 and data[-5] == CRC_KEY
    if ok:
        crc = int.from_bytes(data[-4:], "little")
        ok = zlib.crc32(data[:-5]) & 0xffffffff == crc
    ck.check(ok, "%s: the checkpoint is not complete (%d bytes)"
             % (what, len(data)))
    if ok:
        c.checkpoint_fields(path)  # parses


def main():
    gradc, tmp = sys.argv[1], sys.argv[2]
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    ck = c.Checker()
    data = c.make_dataset(os.path.join(tmp, "data"))
    model = c.write_model(os.path.join(tmp, "mlp.pbtxt"), c.MLP_LAYERS,
                          name="kill", epochs=400, batch_size=100)
    ckpt = os.path.join(tmp, "k.ckpt")
    args = [gradc, "train", model, "--data", data, "--checkpoint", ckpt,
            "--opt-level", "0", "--threads", "1"]
    # Compile once first (into the tests' compile cache), so that the
    # killed runs spend their time training and saving, not compiling: a
    # slow build (the sanitizers') would otherwise be killed before its
    # first save.
    code, out, err = c.run(args[:5] + ["--epochs", "1", "--checkpoint",
                                       os.path.join(tmp, "warm.ckpt")] +
                           args[7:], timeout=120)
    ck.check(code == 0, "the warm-up run exited %d" % code, out + err)
    rng = random.Random(5)
    for k in range(15):
        p = subprocess.Popen(args, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        time.sleep(0.4 + rng.random() * 1.2)
        p.send_signal(signal.SIGKILL)
        p.wait()
        if os.path.exists(ckpt):
            complete(ckpt, ck, "kill %d" % (k + 1))
    ck.check(os.path.exists(ckpt), "no checkpoint was ever written")
    code, out, err = c.run(args[:3] + ["--epochs", "2"] + args[3:])
    ck.check(code == 0, "the final run exited %d" % code, out + err)
    complete(ckpt, ck, "final run")
    left = [f for f in os.listdir(tmp) if ".tmp." in f]
    ck.check(not left, "temporary files left behind: %s" % left)
    ck.finish()


if __name__ == "__main__":
    main()
