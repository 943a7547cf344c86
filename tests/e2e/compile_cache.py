#!/usr/bin/env python3
#===- compile_cache.py - the persistent compile cache -----------*- python -*-===#
"""The compile cache ($XDG_CACHE_HOME/gradc) end to end, on synthetic data.

- A run with an empty cache compiles (a miss) and stores one entry; the same
  run again loads it (a hit, no MLIR or LLVM) and trains bit-identically:
  the two checkpoints are byte-identical.
- A partial last batch (270 training images in batches of 20, 100 test
  images) needs no second compilation: one entry per run.
- A comment or a file name does not change the key; a changed layer does.
- A truncated, a bit-flipped and a foreign entry (another key's file under
  this key's name) are each detected with one warning line, removed and
  compiled again; the run succeeds with the same checkpoint.
- Two runs started together on an empty cache both succeed and leave one
  good entry (then a hit).
- --no-cache neither reads nor writes; `gradc cache info|clear` count and
  empty; GRADC_CACHE_MAX_MB bounds the directory, least recently used out.

Usage: compile_cache.py GRADC TMPDIR
"""

import glob
import os
import shutil
import subprocess
import sys

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2e_common as c  # noqa: E402


def main():
    gradc, tmp = sys.argv[1], sys.argv[2]
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    data = c.make_dataset(os.path.join(tmp, "data"), n_train=270)
    cache_home = os.path.join(tmp, "xdg")
    cache_dir = os.path.join(cache_home, "gradc")
    env = dict(os.environ, XDG_CACHE_HOME=cache_home)
    env.pop("GRADC_CACHE_MAX_MB", None)
    model = c.write_model(os.path.join(tmp, "model.pbtxt"), c.MLP_LAYERS,
                          name="cached", batch_size=20, epochs=2)
    ck = c.Checker()

    def gradc_run(args, extra_env=None, expect=0):
        p = subprocess.run([gradc] + args, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, universal_newlines=True,
                           timeout=50, env=dict(env, **(extra_env or {})))
        ck.check(p.returncode == expect, "gradc %s exited %d" %
                 (" ".join(args), p.returncode), p.stdout + p.stderr)
        return p.stdout, p.stderr

    def train(name, *args, model_file=model):
        ckpt = os.path.join(tmp, name + ".ckpt")
        _, err = gradc_run(["train", model_file, "--data", data, "--threads",
                            "1", "--timing", "--checkpoint", ckpt] +
                           list(args))
        return err, ckpt

    def entries():
        return sorted(glob.glob(os.path.join(cache_dir, "*.gco")))

    # Miss, then hit: identical training.
    err, miss = train("miss")
    ck.check("compile cache miss" in err and err.count("compiled for") == 1,
             "the first run should compile once (a miss)", err)
    ck.check(len(entries()) == 1, "one entry after the first run: %s" %
             entries())
    err, hit = train("hit")
    ck.check("compile cache hit" in err and "compiled for" not in err,
             "the second run should be a hit", err)
    ck.check(c.read_bytes(miss) == c.read_bytes(hit),
             "a hit must train bit-identically to a miss")
    entry = entries()[0]

    # The key is the model's meaning: comments and the path do not count.
    moved = os.path.join(tmp, "renamed.pbtxt")
    with open(model) as f, open(moved, "w") as g:
        g.write("# a comment\n" + f.read())
    err, _ = train("moved", model_file=moved)
    ck.check("compile cache hit" in err, "a comment or another path should "
             "still hit", err)
    wider = os.path.join(tmp, "wider.pbtxt")
    with open(model) as f, open(wider, "w") as g:
        g.write(f.read().replace("units: 32", "units: 33"))
    err, _ = train("wider", model_file=wider)
    ck.check("compile cache miss" in err, "a changed layer should miss", err)
    ck.check(len(entries()) == 2, "two entries now: %s" % entries())

    # Damaged entries: warned about, removed, compiled again.
    good = c.read_bytes(entry)
    foreign = [e for e in entries() if e != entry][0]
    damages = {
        "truncated": good[:len(good) // 2],
        "bit-flipped": good[:len(good) // 3] + bytes([good[len(good) // 3] ^ 4])
        + good[len(good) // 3 + 1:],
        "foreign": c.read_bytes(foreign),
    }
    for what, damaged in damages.items():
        with open(entry, "wb") as f:
            f.write(damaged)
        err, ckpt = train("damaged-" + what)
        warnings = [l for l in err.splitlines() if "warning" in l]
        ck.check(len(warnings) == 1 and "unusable" in warnings[0] and
                 entry in warnings[0],
                 "a %s entry should give one warning naming it" % what, err)
        ck.check("compile cache miss" in err, "a %s entry should be compiled "
                 "again" % what, err)
        ck.check(c.read_bytes(ckpt) == c.read_bytes(miss),
                 "training after a %s entry should be unchanged" % what)
        ck.check(c.read_bytes(entry) == good,
                 "the recompiled entry should be stored again (%s)" % what)

    # Two runs at once on an empty cache.
    gradc_run(["cache", "clear"])
    procs = [subprocess.Popen(
        [gradc, "train", model, "--data", data, "--threads", "1",
         "--checkpoint", os.path.join(tmp, "concurrent%d.ckpt" % i)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
        universal_newlines=True) for i in range(2)]
    for i, p in enumerate(procs):
        out, err = p.communicate(timeout=50)
        ck.check(p.returncode == 0, "concurrent run %d exited %d" %
                 (i, p.returncode), out + err)
        ck.check(c.read_bytes(os.path.join(tmp, "concurrent%d.ckpt" % i)) ==
                 c.read_bytes(miss), "concurrent run %d trained differently" % i)
    ck.check(len(entries()) == 1 and not glob.glob(
        os.path.join(cache_dir, "*.tmp.*")),
        "concurrent runs should leave one entry and no temporaries: %s" %
        os.listdir(cache_dir))
    err, _ = train("after-concurrent")
    ck.check("compile cache hit" in err, "the entry of concurrent runs "
             "should be good", err)

    # --no-cache; gradc cache info and clear.
    gradc_run(["cache", "clear"])
    err, _ = train("nocache", "--no-cache")
    ck.check("compiled for" in err and "cache" not in err and not entries(),
             "--no-cache should neither read nor write", err)
    train("fill")
    out, _ = gradc_run(["cache", "info"])
    ck.check(cache_dir in out and "1 entries" in out, "cache info", out)
    out, _ = gradc_run(["cache", "clear"])
    ck.check("removed 1 entries" in out and not entries(), "cache clear", out)
    gradc_run(["cache", "bogus"], expect=1)

    # A bound that holds one entry: the least recently used goes.
    bound = {"GRADC_CACHE_MAX_MB": "0"}
    gradc_run(["train", model, "--data", data, "--threads", "1"], bound)
    ck.check(not entries(), "a bound of 0 MiB keeps nothing: %s" % entries())
    # Fill to over 1 MiB with copies under other keys, oldest first.
    os.makedirs(cache_dir, exist_ok=True)
    copies = [os.path.join(cache_dir, "%064x.gco" % i)
              for i in range(1024 * 1024 // len(good) + 1)]
    for i, copy in enumerate(copies):
        with open(copy, "wb") as f:
            f.write(good)
        os.utime(copy, (1000 + i, 1000 + i))
    gradc_run(["train", model, "--data", data, "--threads", "1"],
              {"GRADC_CACHE_MAX_MB": "1"})
    total = sum(os.path.getsize(e) for e in entries())
    ck.check(total <= 1024 * 1024, "the cache should be within 1 MiB, holds "
             "%d bytes" % total)
    ck.check(not os.path.exists(copies[0]), "the least recently used entry "
             "should be evicted first")
    ck.check(os.path.exists(entry), "the newest entry should stay")
    ck.finish()


if __name__ == "__main__":
    main()
