#!/usr/bin/env python3
#===- bad_data.py - gradc train on broken data and diverging runs -*- python -*-===#
"""End-to-end failures of `gradc train`.

Broken data directories (a truncated image file, a wrong magic number,
label and image counts that differ, images of the wrong size for the
model, a missing directory, a label beyond the classes) must each stop
`gradc train` before training with exit code 1 and one error line that
names the offending file or directory. A run whose loss turns NaN or
infinite (SGD with learning_rate 1e30) must stop with exit code 1 and a
message naming the step, leaving the checkpoint of an earlier epoch
byte-identical. Integer ids and float data that do not go together (float
x for an INT64 input, int64 x for a float one), an id beyond the embedding's
table, ids into a dense layer and floats into an embedding are one line
each too. A model beyond the memory a scheduler leaves the process
(prlimit --as, a cgroup's memory limit) is refused with one line naming
that limit, and an allocation that fails anyway is one "out of memory"
line, exit code 1 (not LLVM's abort and a stack dump).

Usage: bad_data.py GRADC TMPDIR
"""

import os
import re
import resource
import shutil
import struct
import subprocess
import sys

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2e_common as c  # noqa: E402

TRAIN_IMAGES = "train-images-idx3-ubyte"
TRAIN_LABELS = "train-labels-idx1-ubyte"
TEST_IMAGES = "t10k-images-idx3-ubyte"
STEPS = 15  # 300 images in batches of 20


def broken_copies(good, tmp):
    """(name, directory, the path the error must name) for each broken
    copy of the `good` data directory."""
    cases = []

    def copy(name):
        directory = os.path.join(tmp, name)
        shutil.copytree(good, directory)
        return directory

    def rewrite(path, edit):
        data = bytearray(c.read_bytes(path))
        with open(path, "wb") as f:
            f.write(edit(data))

    d = copy("truncated")
    rewrite(os.path.join(d, TRAIN_IMAGES), lambda b: b[:-100])
    cases.append(("truncated image file", d, os.path.join(d, TRAIN_IMAGES)))

    d = copy("magic")
    rewrite(os.path.join(d, TRAIN_IMAGES),
            lambda b: struct.pack(">I", 0x00000801) + b[4:])
    cases.append(("wrong magic number", d, os.path.join(d, TRAIN_IMAGES)))

    d = copy("magic_test")
    rewrite(os.path.join(d, TEST_IMAGES), lambda b: b"\x12\x34" + b[2:])
    cases.append(("wrong magic number in the test set", d,
                  os.path.join(d, TEST_IMAGES)))

    d = copy("count")
    c.write_idx_labels(os.path.join(d, TRAIN_LABELS), [0, 1, 2] * 99)
    cases.append(("299 labels for 300 images", d,
                  os.path.join(d, TRAIN_LABELS)))

    d = copy("label_range")
    c.write_idx_labels(os.path.join(d, TRAIN_LABELS), [0, 1, 2, 7] * 75)
    cases.append(("label 7 of 4 classes", d, os.path.join(d, TRAIN_LABELS)))

    d = c.make_dataset(os.path.join(tmp, "size"), n_train=40, n_test=20,
                       size=10)
    cases.append(("10x10 images for a 12x12 model", d,
                  os.path.join(d, TRAIN_IMAGES)))

    d = os.path.join(tmp, "missing")
    cases.append(("missing directory", d, d))
    return cases


def one_line_exit_1(ck, what, code, out, err, expected):
    """Exit code 1, one error line holding every string of `expected`, no
    LLVM abort or stack dump, and no training."""
    lines = [l for l in err.splitlines() if l.strip()]
    ck.check(code == 1 and len(lines) == 1 and
             all(e in err for e in expected) and "LLVM ERROR" not in err and
             "Stack dump" not in err and "epoch" not in out,
             "%s: exit %d, expected one line with %r" % (what, code, expected),
             out + err)


def memory_cgroup(limit):
    """A new cgroup with a memory limit of `limit` bytes: (its directory,
    the file to write a pid into), or (None, the reason) where this
    machine's cgroups are not writable."""
    name = "gradc-test-%d" % os.getpid()
    v2 = "/sys/fs/cgroup"
    v1 = "/sys/fs/cgroup/memory"
    # cgroup v2 where the root hands its children the memory controller
    # (systemd does), else v1's memory controller.
    try:
        with open(os.path.join(v2, "cgroup.subtree_control")) as f:
            v2_memory = "memory" in f.read().split()
    except OSError:
        v2_memory = False
    reasons = []
    for root, limit_file, ok in (
            (v2, "memory.max", v2_memory),
            (v1, "memory.limit_in_bytes",
             os.path.exists(os.path.join(v1, "memory.limit_in_bytes")))):
        if not ok:
            reasons.append("no memory controller at %s" % root)
            continue
        directory = os.path.join(root, name)
        try:
            os.mkdir(directory)
            with open(os.path.join(directory, limit_file), "w") as f:
                f.write(str(limit))
            return directory, os.path.join(directory, "cgroup.procs")
        except OSError as e:
            reasons.append("%s: %s" % (root, e))
            if os.path.isdir(directory):
                os.rmdir(directory)
    return None, "; ".join(reasons)


def address_space_limits(under_prlimit, train, as_limit, ck):
    """RLIMIT_AS: 4 GB less what gradc has mapped by then is the limit the
    budget names; with --memory-limit above it, the allocation that fails
    is one line and exit 1."""
    code, out, err = under_prlimit(train)
    one_line_exit_1(ck, "prlimit --as=%d" % as_limit, code, out, err,
                    ["needs at least 16.2 GiB",
                     "(the process's address-space limit (RLIMIT_AS) of "
                     "3.7 GiB less the ", " already mapped) is crossed at its "
                     "parameters: reduce the batch or the model, or raise "
                     "that limit"])
    # --memory-limit overrides the budget: allocating the 4 GiB kernel then
    # fails, in one line too.
    code, out, err = under_prlimit(train + ["--memory-limit", "1000"])
    one_line_exit_1(ck, "prlimit --as=%d --memory-limit 1000" % as_limit,
                    code, out, err, ["gradc: error: out of memory"])


def limits_a_scheduler_sets(gradc, tmp, ck):
    """The memory budget's limit is the smallest of the physical memory,
    RLIMIT_AS and the cgroup's memory limit: a model beyond the latter two
    (but within the 24 GiB of physical memory) is refused before anything
    is compiled or allocated, in one line naming the limit."""
    # 32x32 images, a dense layer of 2^20 units: its kernel alone is 4 GiB,
    # with Adam's gradient and slots a training step 16.2 GiB.
    data = c.make_dataset(os.path.join(tmp, "data32"), n_train=20,
                          n_test=20, size=32)
    wide = c.write_model(os.path.join(tmp, "wide_dense.pbtxt"), size=32,
                         layers='layer { name: "flat" flatten {} }\n'
                         'layer { name: "wide" dense { units: 1048576 } }\n'
                         'layer { name: "out" dense { units: 4 activation: '
                         'SOFTMAX } }\n')
    train = [gradc, "train", wide, "--data", data, "--epochs", "1",
             "--opt-level", "0"]
    as_limit = 4000000000

    def under_prlimit(args):
        if shutil.which("prlimit"):
            return c.run(["prlimit", "--as=%d" % as_limit] + args, timeout=60)

        def lower():
            resource.setrlimit(resource.RLIMIT_AS,
                               (as_limit, resource.RLIM_INFINITY))
        p = subprocess.run(args, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, universal_newlines=True,
                           timeout=60, preexec_fn=lower)
        return p.returncode, p.stdout, p.stderr

    # AddressSanitizer reserves terabytes of address space for its shadow
    # memory: a sanitized gradc cannot start under any RLIMIT_AS
    # (scripts/sanitize.sh sets ASAN_OPTIONS).
    if "ASAN_OPTIONS" in os.environ:
        print("skipped the RLIMIT_AS checks: gradc runs under "
              "AddressSanitizer, which cannot start under RLIMIT_AS")
    else:
        address_space_limits(under_prlimit, train, as_limit, ck)

    # A cgroup of 2 GiB, where this machine lets one be made.
    directory, procs = memory_cgroup(2 << 30)
    if directory is None:
        print("skipped the cgroup memory limit: %s" % procs)
        return
    try:
        def join():
            with open(procs, "w") as f:
                f.write(str(os.getpid()))
        p = subprocess.run(train, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, universal_newlines=True,
                           timeout=60, preexec_fn=join)
        print("checked the memory limit of the cgroup %s" % directory)
        one_line_exit_1(ck, "a cgroup of 2 GiB at %s" % directory,
                        p.returncode, p.stdout, p.stderr,
                        ["needs at least 16.2 GiB; the limit of 2.0 GiB (the "
                         "cgroup's memory.", " in %s)" % directory,
                         "crossed at its parameters"])
    finally:
        os.rmdir(directory)


def write_npy(path, descr, shape, values):
    """A NumPy .npy file (format 1.0) of little-endian int64 ('<i8'),
    float32 ('<f4') or int32 ('<i4') values, written without NumPy."""
    header = "{'descr': '%s', 'fortran_order': False, 'shape': (%s), }" % (
        descr, "".join("%d, " % d for d in shape))
    header += " " * (63 - (len(header) + 10) % 64) + "\n"
    fmt = {"<i8": "<%dq", "<f4": "<%df", "<i4": "<%di"}[descr]
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)))
        f.write(header.encode("latin1"))
        f.write(struct.pack(fmt % len(values), *values))
    return path


def integer_inputs(gradc, tmp, ck):
    """Integer ids and float data that do not go together, and an id beyond
    the embedding's table: one line naming the data file, exit 1."""
    n, t = 6, 4
    ids = [(i * 7 + k) % 10 for i in range(n) for k in range(t)]
    labels = [i % 2 for i in range(n)]
    y = write_npy(os.path.join(tmp, "y.npy"), "<i8", [n], labels)
    x_ids = write_npy(os.path.join(tmp, "ids.npy"), "<i8", [n, t], ids)
    x_float = write_npy(os.path.join(tmp, "xf.npy"), "<f4", [n, t],
                        [float(v) for v in ids])
    x_far = write_npy(os.path.join(tmp, "far.npy"), "<i8", [n, t],
                      ids[:-1] + [10])

    def model(name, dtype, layers, x):
        path = os.path.join(tmp, name + ".pbtxt")
        with open(path, "w") as f:
            f.write('name: "%s"\ninput { name: "ids" shape: [%d] dtype: %s }\n'
                    '%sloss { sparse_categorical_crossentropy {} }\n'
                    'optimizer { sgd {} }\ntraining { batch_size: 3 }\n'
                    'data { numpy { x: "%s" y: "%s" } }\n'
                    % (name, t, dtype, layers, x, y))
        return path

    embed = ('layer { name: "e" embedding { input_dim: 10 output_dim: 3 } }\n'
             'layer { name: "f" flatten {} }\n'
             'layer { name: "o" dense { units: 2 activation: SOFTMAX } }\n')
    dense = 'layer { name: "o" dense { units: 2 activation: SOFTMAX } }\n'
    for what, path, expected in [
            ("float x for an INT64 input", model("f4", "INT64", embed, x_float),
             [x_float, "takes integer ids (dtype INT64)"]),
            ("int64 x for a float input", model("i8", "FLOAT", dense, x_ids),
             [x_ids, "holds integer ids", "takes floats"]),
            ("an id beyond input_dim", model("far", "INT64", embed, x_far),
             [x_far, "id 10 at position 3 of example 5 is out of range",
              "input_dim is 10"])]:
        code, out, err = c.run([gradc, "train", path, "--opt-level", "0"],
                               timeout=30)
        one_line_exit_1(ck, what, code, out, err, expected)
    # The checker: ids into a dense layer, floats into an embedding.
    for what, path, expected in [
            ("INT64 ids into a dense layer", model("d8", "INT64", dense, x_ids),
             ["layer 'o': takes float values; input 'ids' holds INT64 ids"]),
            ("floats into an embedding", model("ef", "FLOAT", embed, x_float),
             ["layer 'e': takes integer ids", "input 'ids' holds floats"])]:
        code, out, err = c.run([gradc, "train", path], timeout=30)
        one_line_exit_1(ck, what, code, out, err, expected)
    # The ids train when they fit.
    code, out, err = c.run([gradc, "train", model("ok", "INT64", embed, x_ids),
                            "--opt-level", "0"], timeout=60)
    ck.check(code == 0, "int64 ids: exit %d" % code, out + err)


def main():
    gradc, tmp = sys.argv[1], sys.argv[2]
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    good = c.make_dataset(os.path.join(tmp, "data"))
    model = c.write_model(os.path.join(tmp, "model.pbtxt"))
    ck = c.Checker()

    for what, directory, culprit in broken_copies(good, tmp):
        code, out, err = c.run([gradc, "train", model, "--data", directory,
                                "--epochs", "1", "--opt-level", "0"])
        lines = [l for l in err.splitlines() if l.strip()]
        ck.check(code == 1, "%s: exit code %d, expected 1" % (what, code),
                 out + err)
        ck.check(len(lines) == 1, "%s: %d error lines, expected one"
                 % (what, len(lines)), err)
        ck.check(culprit in err, "%s: the error does not name %s"
                 % (what, culprit), err)
        ck.check("epoch" not in out, "%s: training started" % what, out)

    # Divergence: one good epoch with a checkpoint, then a resumed run whose
    # learning rate blows the weights up. Same model name and optimizer, so
    # the checkpoint fits.
    sane = c.write_model(os.path.join(tmp, "sgd.pbtxt"), name="diverging",
                         optimizer="sgd { learning_rate: 0.05 }")
    wild = c.write_model(os.path.join(tmp, "wild.pbtxt"), name="diverging",
                         optimizer="sgd { learning_rate: 1e30 }")
    ckpt = os.path.join(tmp, "diverging.ckpt")
    code, out, err = c.run([gradc, "train", sane, "--data", good, "--epochs",
                            "1", "--checkpoint", ckpt, "--opt-level", "0"])
    if not ck.check(code == 0 and os.path.exists(ckpt),
                    "the first epoch failed (exit %d)" % code, out + err):
        ck.finish()
    before = c.read_bytes(ckpt)
    code, out, err = c.run([gradc, "train", wild, "--data", good, "--resume",
                            ckpt, "--epochs", "3", "--checkpoint", ckpt,
                            "--opt-level", "0"])
    step = re.search(r"loss is (nan|-?inf) at step (\d+)", err)
    ck.check(code == 1, "divergence: exit code %d, expected 1" % code,
             out + err)
    ck.check(step and int(step.group(2)) > STEPS,
             "divergence: no message naming a step of epoch 2", err)
    ck.check(len([l for l in err.splitlines() if l.strip()]) == 1,
             "divergence: expected one error line", err)
    ck.check(ckpt in err, "divergence: the message does not name the "
             "checkpoint kept", err)
    ck.check(c.read_bytes(ckpt) == before,
             "divergence: the checkpoint of epoch 1 was changed")
    ck.check(not [f for f in os.listdir(tmp) if ".tmp." in f],
             "divergence: a temporary checkpoint file was left behind")

    # Diverging from the start: no checkpoint to keep, and none is written.
    fresh = os.path.join(tmp, "fresh.ckpt")
    code, out, err = c.run([gradc, "train", wild, "--data", good, "--epochs",
                            "2", "--checkpoint", fresh, "--opt-level", "0"])
    step = re.search(r"loss is (nan|-?inf) at step (\d+)", err)
    ck.check(code == 1 and step and int(step.group(2)) <= STEPS,
             "divergence from the start: exit %d, message %r" % (code, err))
    ck.check(not os.path.exists(fresh),
             "divergence from the start: a checkpoint was written")
    ck.check("kept in" not in err, "divergence from the start: the message "
             "points at a checkpoint that does not exist", err)

    # Flags and destinations refused before any work, one line, exit 1.
    fifo = os.path.join(tmp, "model.fifo")
    os.mkfifo(fifo)
    for what, args, expected in [
            ("--resume with --init-from",
             [model, "--resume", ckpt, "--init-from", ckpt],
             "--resume and --init-from exclude each other"),
            ("empty --data", [model, "--data", ""], "--data needs a path"),
            ("a device as --checkpoint", [model, "--checkpoint", "/dev/null"],
             "/dev/null: error: checkpoint destination is a device"),
            ("a full device as --metrics-json",
             [model, "--metrics-json", "/dev/full"],
             "/dev/full: error: metrics destination is a device"),
            ("a FIFO as the model", [fifo],
             "model file is a FIFO, expected a regular file"),
            ("/dev/zero as the model", ["/dev/zero"],
             "/dev/zero: error: model file is a device"),
            ("/dev/zero as --resume", [model, "--resume", "/dev/zero"],
             "/dev/zero: error: checkpoint is a device"),
            ("--resume of another model's checkpoint",
             [model, "--resume", ckpt],
             "the checkpoint is of model 'diverging', not 'synthetic'"),
            ("--epochs 0", [model, "--epochs", "0"],
             "--epochs must be in [1, 1000000], got 0"),
            ("--max-steps 0", [model, "--max-steps", "0"],
             "--max-steps must be in [1, "),
            ("--batch-size 100000000", [model, "--batch-size", "100000000"],
             "--batch-size must be in [1, 65536], got 100000000"),
            ("--threads -2", [model, "--threads", "-2"],
             "--threads must be in [1, 256], got -2"),
            ("--seed -5", [model, "--seed", "-5"],
             "--seed must be in [0, "),
            ("--memory-limit 0", [model, "--memory-limit", "0"],
             "--memory-limit must be a positive number of GiB"),
            ("a step beyond --memory-limit",
             [model, "--memory-limit", "0.0001"],
             "is crossed at layer 'conv1'"),
            ("a million filters",
             [c.write_model(os.path.join(tmp, "huge.pbtxt"), layers=(
                 'layer { name: "wide" conv2d { filters: 1048576 '
                 'kernel_size: [3, 3] } }\n'
                 'layer { name: "gap" global_avg_pool2d {} }\n'
                 'layer { name: "out" dense { units: 4 activation: SOFTMAX '
                 '} }\n')), "--batch-size", "4096"],
             "is crossed at layer 'wide'"),
            # 1,100 convolutions: at least 17.2 MiB of code, past the
            # default 16 MiB, refused before anything compiles.
            ("1,100 conv layers",
             [c.write_model(os.path.join(tmp, "deep.pbtxt"), layers="".join(
                 'layer { name: "c%d" conv2d { filters: 2 kernel_size: [1, 1] '
                 '} }\n' % i for i in range(1100)) +
                 'layer { name: "flat" flatten {} }\n'
                 'layer { name: "out" dense { units: 4 activation: SOFTMAX '
                 '} }\n')],
             "of machine code; the limit of 16.0 MiB (the default) is "
             "crossed at layer 'c1021' (conv2d, 16.0 KiB)"),
            ("--code-limit 0", [model, "--code-limit", "0"],
             "--code-limit must be a positive number of MiB"),
            ("a model beyond --code-limit", [model, "--code-limit", "0.05"],
             "is crossed at layer 'conv1' (conv2d, 16.0 KiB)")]:
        if "--data" not in args:
            args = args + ["--data", good]
        code, out, err = c.run([gradc, "train"] + args + ["--opt-level", "0"],
                               timeout=20)
        lines = [l for l in err.splitlines() if l.strip()]
        ck.check(code == 1 and len(lines) == 1 and expected in err and
                 "epoch" not in out,
                 "%s: exit %d, expected one line with %r" % (what, code,
                                                            expected),
                 out + err)
    limits_a_scheduler_sets(gradc, tmp, ck)

    # gradc compile refuses native code beyond the code budget (before the
    # MLIR pipeline runs); the IR stages stay available.
    deep = os.path.join(tmp, "deep.pbtxt")
    obj = os.path.join(tmp, "deep.o")
    code, out, err = c.run([gradc, "compile", deep, "--emit=obj", "-o", obj],
                           timeout=20)
    ck.check(code == 1 and len(err.strip().splitlines()) == 1 and
             "crossed at layer 'c1021'" in err and not os.path.exists(obj),
             "compile --emit=obj beyond the code budget: exit %d" % code, err)
    code, out, err = c.run([gradc, "compile", deep, "--emit=obj", "-o", obj,
                            "--code-limit", "x"], timeout=20)
    ck.check(code == 1 and "--code-limit" in err,
             "compile --code-limit x: exit %d" % code, err)
    code, out, err = c.run([gradc, "compile", deep, "--emit=nn"], timeout=60)
    ck.check(code == 0 and "nn.conv2d" in out,
             "compile --emit=nn of the deep model: exit %d" % code, err[-500:])

    # gradc predict on an IDX file of zero images.
    empty = os.path.join(tmp, "empty-images-idx3-ubyte")
    c.write_idx_images(empty, [], c.SIZE, c.SIZE)
    code, out, err = c.run([gradc, "predict", model, "--weights", ckpt,
                            "--input", empty, "--opt-level", "0"])
    ck.check(code == 1 and "holds no examples" in err,
             "predict on zero images: exit %d" % code, out + err)
    integer_inputs(gradc, tmp, ck)
    ck.finish()


if __name__ == "__main__":
    main()
