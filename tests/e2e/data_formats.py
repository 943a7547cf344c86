#===- data_formats.py - every data format through gradc train -*- python -*-===#
"""The data formats end to end (Debian's /usr/bin/python3 with numpy).

- The same Fashion-MNIST subset written as IDX, .npz, a folder of PNGs and
  CSV trains to the same losses and accuracies, bit for bit: the batches are
  identical.
- A CNN trains from CIFAR-10-style binaries the test writes.
- Regression: a linear target read from .npz is fitted to near-zero MSE; the
  normalization layer's statistics are those of the training part (read
  from the exported ONNX model); predict prints values.
- The Seattle weather example beats a linear least-squares fit on its test
  days.
- `gradc predict` answers the same for a PNG and a .npy of its pixels.
- Augmentation: the same seed gives the same run, and it changes training.
- Bad data: one line naming the file, exit status 1.
"""

import gzip
import os
import re
import shutil
import struct
import sys
import zlib

import numpy as np
import onnx
from onnx import numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e_common import Checker, read_metrics, run  # noqa: E402

GRADC, WORK = sys.argv[1], sys.argv[2]
FASHION = "/usr/share/datasets/fashion-mnist"
SEATTLE = "/usr/lib/python3/dist-packages/vega_datasets/_data/seattle-weather.csv"
shutil.rmtree(WORK, ignore_errors=True)
os.makedirs(WORK)
c = Checker()


def path(*parts):
    return os.path.join(WORK, *parts)


def write_png(file, pixels):
    """A grey (H x W) or RGB (H x W x 3) uint8 array as a PNG, stdlib only."""
    h, w = pixels.shape[:2]
    channels = 1 if pixels.ndim == 2 else pixels.shape[2]
    raw = b"".join(b"\x00" + pixels[y].tobytes() for y in range(h))

    def chunk(kind, data):
        body = kind + data
        return (struct.pack(">I", len(data)) + body +
                struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF))

    color = {1: 0, 3: 2}[channels]
    with open(file, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n")
        f.write(chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, color, 0, 0, 0)))
        f.write(chunk(b"IDAT", zlib.compress(raw)))
        f.write(chunk(b"IEND", b""))


def read_idx(file):
    with gzip.open(file) as f:
        data = f.read()
    dims = data[3]
    shape = struct.unpack(">" + "I" * dims, data[4:4 + 4 * dims])
    return np.frombuffer(data, np.uint8, offset=4 + 4 * dims).reshape(shape)


def train(model, *args, timeout=120):
    metrics = path("metrics-%d.json" % train.runs)
    train.runs += 1
    code, out, err = run([GRADC, "train", model, "--metrics-json", metrics,
                          *args], timeout=timeout)
    if code != 0:
        return code, out, err, []
    return code, out, err, read_metrics(metrics)


train.runs = 0


def last_line_value(out, prefix, key):
    for line in reversed(out.splitlines()):
        if line.startswith(prefix):
            fields = line.split()
            return float(fields[fields.index(key) + 1].rstrip("%"))
    return float("nan")


# --- One Fashion-MNIST subset in four formats ------------------------------
xtr = read_idx(os.path.join(FASHION, "train-images-idx3-ubyte.gz"))[:240]
ytr = read_idx(os.path.join(FASHION, "train-labels-idx1-ubyte.gz"))[:240]
xte = read_idx(os.path.join(FASHION, "t10k-images-idx3-ubyte.gz"))[:100]
yte = read_idx(os.path.join(FASHION, "t10k-labels-idx1-ubyte.gz"))[:100]
# Sorted by class (stably), the order an image folder is read in.
order_tr, order_te = np.argsort(ytr, kind="stable"), np.argsort(yte, kind="stable")
xtr, ytr, xte, yte = xtr[order_tr], ytr[order_tr], xte[order_te], yte[order_te]

idx = path("idx")
os.makedirs(idx)
for prefix, x, y in (("train", xtr, ytr), ("t10k", xte, yte)):
    with open(os.path.join(idx, prefix + "-images-idx3-ubyte"), "wb") as f:
        f.write(struct.pack(">IIII", 0x803, len(x), 28, 28) + x.tobytes())
    with open(os.path.join(idx, prefix + "-labels-idx1-ubyte"), "wb") as f:
        f.write(struct.pack(">II", 0x801, len(y)) + y.tobytes())
npz = path("fashion.npz")
np.savez_compressed(npz, x_train=xtr, y_train=ytr.astype(np.int64),
                    x_test=xte, y_test=yte.astype(np.int64))
for part, x, y in (("train", xtr, ytr), ("test", xte, yte)):
    for i, (image, label) in enumerate(zip(x, y)):
        folder = path("images", part, "class%d" % label)
        os.makedirs(folder, exist_ok=True)
        write_png(os.path.join(folder, "%05d.png" % i), image)
# CSV: the exact float32 value of pixel / 255, written with 17 digits.
for part, x, y in (("train", xtr, ytr), ("test", xte, yte)):
    values = x.reshape(len(x), -1).astype(np.float32) / np.float32(255)
    with open(path("fashion-%s.csv" % part), "w") as f:
        f.write("label," + ",".join("p%d" % k for k in range(784)) + "\n")
        for label, row in zip(y, values):
            f.write("%d," % label +
                    ",".join("%.17g" % float(v) for v in row) + "\n")

FASHION_MODEL = """name: "fashion_subset"
input { name: "image" shape: [28, 28, 1] }
layer { name: "conv" conv2d { filters: 4 kernel_size: [3, 3] activation: RELU } }
layer { name: "pool" max_pool2d { pool_size: [2, 2] } }
layer { name: "flat" flatten {} }
layer { name: "out"  dense { units: 10 activation: SOFTMAX } }
loss { sparse_categorical_crossentropy {} }
optimizer { adam { learning_rate: 0.005 } }
training { batch_size: 16 epochs: 2 seed: 5 validation_split: 0.1 }
%s
"""
sources = {
    "idx": 'data { idx { dir: "%s" } }' % idx,
    "npz": 'data { numpy { file: "%s" } }' % npz,
    "png": 'data { image_folder { train: "%s" test: "%s" } }'
           % (path("images", "train"), path("images", "test")),
    "csv": 'data { csv { train: "%s" test: "%s" target: "label" } }'
           % (path("fashion-train.csv"), path("fashion-test.csv")),
}
results = {}
for name, data in sources.items():
    model = path("fashion-%s.pbtxt" % name)
    with open(model, "w") as f:
        f.write(FASHION_MODEL % data)
    code, out, err, metrics = train(model)
    if c.check(code == 0 and len(metrics) == 2, "fashion from %s trains" % name,
               out[-2000:] + err):
        results[name] = [(m["train_loss"], m["validation_loss"],
                          m["test_loss"], m["test_accuracy"]) for m in metrics]
for name in ("npz", "png", "csv"):
    if name in results and "idx" in results:
        c.check(results[name] == results["idx"],
                "the same batches from %s as from IDX" % name,
                "%s: %s\nidx: %s" % (name, results[name], results["idx"]))
if "idx" in results:
    c.check(results["idx"][-1][3] > 0.5,
            "the Fashion-MNIST subset is learned (test accuracy %.3f)"
            % results["idx"][-1][3])
# The class folder names are the class names of the confusion matrix.
code, out, err, _ = train(path("fashion-png.pbtxt"), "--epochs", "1")
c.check(code == 0 and "class3 3" in out, "image folder class names shown",
        out[-1500:] + err)

# predict reads one PNG (and a .npy of the same pixels) like the folder.
weights = path("fashion-png.ckpt")
code, out, err, _ = train(path("fashion-png.pbtxt"), "--epochs", "1",
                          "--checkpoint", weights)
np.save(path("one.npy"), xte[:1])
answers = []
for source in (path("images", "test", "class%d" % yte[0], "00000.png"),
               path("one.npy")):
    code, out, err = run([GRADC, "predict", path("fashion-png.pbtxt"),
                          "--weights", weights, "--input", source])
    c.check(code == 0 and out.startswith("0: class "),
            "predict --input %s" % source, out + err)
    answers.append(out)
c.check(len(answers) == 2 and answers[0] == answers[1],
        "predict gives the same answer for a PNG and its pixels as .npy",
        "\n".join(answers))

# --- Augmentation: deterministic per seed, and it changes training ---------
aug_model = path("fashion-aug.pbtxt")
with open(aug_model, "w") as f:
    f.write((FASHION_MODEL % sources["png"]).replace(
        "data {", "data { augment { horizontal_flip: true crop_padding: 2 } "))
runs = [train(aug_model) for _ in range(2)]
if c.check(all(r[0] == 0 for r in runs), "augmented training runs",
           runs[0][2] + runs[1][2]):
    a = [(m["train_loss"], m["test_loss"]) for m in runs[0][3]]
    b = [(m["train_loss"], m["test_loss"]) for m in runs[1][3]]
    c.check(a == b, "augmentation is a function of the seed: %s vs %s" % (a, b))
    if "png" in results:
        c.check(a != [(r[0], r[2]) for r in results["png"]],
                "augmentation changes the training")

# --- CIFAR-10-style binaries ----------------------------------------------
cifar = path("cifar")
os.makedirs(cifar)
rng = np.random.default_rng(3)


def cifar_records(n):
    """Class k: a bright band in colour plane k % 3 at rows 3k..3k+5."""
    labels = rng.integers(0, 10, n).astype(np.uint8)
    images = rng.integers(0, 60, (n, 3, 32, 32)).astype(np.uint8)
    for i, k in enumerate(labels):
        images[i, k % 3, 3 * k:3 * k + 5, :] = 230
    return b"".join(bytes([k]) + img.tobytes() for k, img in zip(labels, images))


for name, n in (("data_batch_1.bin", 300), ("data_batch_2.bin", 300),
                ("test_batch.bin", 200)):
    with open(os.path.join(cifar, name), "wb") as f:
        f.write(cifar_records(n))
with open(os.path.join(cifar, "batches.meta.txt"), "w") as f:
    f.write("\n".join(["airplane", "automobile", "bird", "cat", "deer", "dog",
                       "frog", "horse", "ship", "truck"]) + "\n\n")
cifar_model = path("cifar.pbtxt")
with open(cifar_model, "w") as f:
    f.write("""name: "cifar_small"
input { name: "image" shape: [32, 32, 3] }
layer { name: "conv1" conv2d { filters: 8 kernel_size: [3, 3] activation: RELU } }
layer { name: "pool1" max_pool2d { pool_size: [2, 2] } }
layer { name: "flat"  flatten {} }
layer { name: "out"   dense { units: 10 activation: SOFTMAX } }
loss { sparse_categorical_crossentropy {} }
optimizer { adam { learning_rate: 0.003 } }
training { batch_size: 32 epochs: 4 seed: 2 }
data { cifar { dir: "%s" } }
""" % cifar)
code, out, err, metrics = train(cifar_model)
if c.check(code == 0 and metrics, "CNN trains from CIFAR binaries",
           out[-2000:] + err):
    c.check(metrics[-1]["test_accuracy"] > 0.8,
            "CIFAR-style test accuracy %.3f > 0.8" % metrics[-1]["test_accuracy"])
    c.check("automobile" in out and "600 train" in out,
            "CIFAR class names and both training batches", out[:600])

# --- Regression on a linear target ----------------------------------------
n = 600
x = rng.normal(0, 1, (n, 5)).astype(np.float32) * np.float32([1, 10, 0.1, 3, 1])
x += np.float32([0, 50, -2, 0, 7])
w = rng.normal(0, 1, (5, 2))
y = (x.astype(np.float64) @ (w / np.float64([1, 10, 0.1, 3, 1])[:, None])
     + np.array([0.5, -1.0])).astype(np.float32)
reg_npz = path("linear.npz")
np.savez(reg_npz, x_train=x[:500], y_train=y[:500], x_test=x[500:],
         y_test=y[500:])
reg_model = path("linear.pbtxt")
with open(reg_model, "w") as f:
    f.write("""name: "linear"
input { name: "x" shape: [5] }
layer { name: "norm" normalization {} }
layer { name: "out" dense { units: 2 } }
loss { mse {} regression: true }
optimizer { adam { learning_rate: 0.1 } }
training { batch_size: 25 epochs: 60 seed: 1 }
data { numpy { file: "%s" } }
""" % reg_npz)
ckpt, exported = path("linear.ckpt"), path("linear.onnx")
report = path("linear-report")
code, out, err, metrics = train(reg_model, "--checkpoint", ckpt,
                                "--export-onnx", exported, "--report", report)
if c.check(code == 0 and metrics, "regression trains", out[-2000:] + err):
    last = metrics[-1]
    c.check(last["test_loss"] < 1e-3 and last["test_r2"] > 0.999,
            "near-zero test MSE on a linear target: %s" % last)
    c.check("mae" in out and "rmse" in out and "r2" in out and
            "accuracy" not in out.split("Test:")[-1],
            "regression reports MAE, RMSE and R2", out[-600:])
    # The HTML report charts the MAE per epoch, not an accuracy of 0.
    with open(os.path.join(report, "index.html")) as f:
        page = f.read()
    shown = re.search(r"Test MAE: ([0-9.]+), RMSE", page)
    c.check(shown and abs(float(shown.group(1)) - last["test_mae"]) < 2e-4 and
            'id="mae"' in page and 'id="accuracy"' not in page and
            "<th>test MAE</th>" in page and "acc</th>" not in page and
            os.path.exists(os.path.join(report, "mae.svg")) and
            not os.path.exists(os.path.join(report, "accuracy.svg")),
            "the regression report shows MAE instead of accuracy",
            page[:1500])
    init = {t.name: numpy_helper.to_array(t)
            for t in onnx.load(exported).graph.initializer}
    shift, scale = init.get("norm.shift"), init.get("norm.scale")
    if c.check(shift is not None and scale is not None,
               "normalization exported: %s" % sorted(init)):
        xt = x[:500].astype(np.float64)
        c.check(np.allclose(shift.ravel(), xt.mean(0), rtol=1e-5, atol=1e-5)
                and np.allclose(scale.ravel(), 1 / xt.std(0), rtol=1e-4),
                "normalization adapted to the training part: %s %s"
                % (shift.ravel(), scale.ravel()))
    np.save(path("predict-x.npy"), x[500:510])
    code, out, err = run([GRADC, "predict", reg_model, "--weights", ckpt,
                          "--input", path("predict-x.npy")])
    if c.check(code == 0, "predict on a regression model", err):
        values = [[float(v) for v in line.split(":")[1].split()]
                  for line in out.splitlines() if ":" in line]
        c.check(len(values) == 10 and
                np.allclose(values, y[500:510], atol=0.1),
                "predict prints the fitted values", out)

# --- The Seattle weather example against least squares --------------------
rows = np.genfromtxt(SEATTLE, delimiter=",", names=True, dtype=None,
                     encoding="utf-8")
X = np.stack([rows["precipitation"], rows["temp_min"], rows["wind"]], 1)
Y = rows["temp_max"].astype(np.float64)
split = int(np.floor(len(Y) * 0.8))
fit = int(np.floor(split * 0.9))  # the rows gradc trains on
A = np.c_[X[:fit], np.ones(fit)]
coef = np.linalg.lstsq(A, Y[:fit], rcond=None)[0]
err_ls = np.c_[X[split:], np.ones(len(Y) - split)] @ coef - Y[split:]
rmse_ls = float(np.sqrt(np.mean(err_ls ** 2)))
example = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                       "examples", "seattle_weather.pbtxt")
seattle_ckpt = path("seattle.ckpt")
code, out, err, metrics = train(example, "--checkpoint", seattle_ckpt)
if c.check(code == 0 and metrics, "the Seattle example trains",
           out[-2000:] + err):
    c.check(metrics[-1]["test_rmse"] < rmse_ls,
            "Seattle test RMSE %.4f below least squares' %.4f"
            % (metrics[-1]["test_rmse"], rmse_ls))
    c.check("293 examples" in out, "the last 20% of the days are the test set",
            out[-300:])
    # gradc predict reads a CSV: the model's feature columns, by name, in
    # any order, with or without the target column. On the test days its
    # values give the test MAE the training run reported.
    with open(path("seattle-test.csv"), "w") as f:
        f.write("wind,date,temp_min,precipitation\n")
        for r in rows[split:]:
            f.write("%s,%s,%s,%s\n" % (r["wind"], r["date"], r["temp_min"],
                                        r["precipitation"]))
    predicted = {}
    for name, csv in (("with the target", SEATTLE),
                      ("without the target", path("seattle-test.csv"))):
        code, out, err = run([GRADC, "predict", example, "--weights",
                              seattle_ckpt, "--input", csv])
        if c.check(code == 0, "predict on a CSV %s" % name, err[-600:]):
            predicted[name] = np.array(
                [float(line.split(":")[1]) for line in out.splitlines()
                 if ":" in line])
    if len(predicted) == 2:
        whole, test = predicted["with the target"], predicted["without the target"]
        c.check(len(whole) == len(Y) and np.array_equal(whole[split:], test),
                "the same values from both CSV files: %d and %d rows"
                % (len(whole), len(test)))
        mae = float(np.mean(np.abs(test - Y[split:])))
        c.check(abs(mae - metrics[-1]["test_mae"]) < 1e-3,
                "predicted test MAE %.5f, the run's %.5f"
                % (mae, metrics[-1]["test_mae"]))
with open(path("missing.csv"), "w") as f:
    f.write("wind,temp_min\n1,2\n")
code, out, err = run([GRADC, "predict", example, "--weights", seattle_ckpt,
                      "--input", path("missing.csv")])
c.check(code == 1 and "no feature column 'precipitation'" in err and
        len(err.strip().splitlines()) == 1,
        "predict on a CSV without a feature column: exit %d" % code, err)

# --- Bad data: one line naming the file, exit 1 ----------------------------
CSV_MODEL = """name: "tabular"
input { name: "x" shape: [2] }
layer { name: "out" dense { units: %d %s } }
loss { %s }
training { batch_size: 4 epochs: 1 }
data { csv { train: "%s" target: "y" } }
"""


def expect_error(what, model_text, needle, args=()):
    model = path("bad-%d.pbtxt" % expect_error.count)
    expect_error.count += 1
    with open(model, "w") as f:
        f.write(model_text)
    code, out, err = run([GRADC, "train", model, *args])
    lines = [l for l in err.splitlines() if l.strip()]
    c.check(code == 1 and len(lines) == 1 and needle in err,
            "%s: one line with '%s', exit 1" % (what, needle),
            "exit %d\n%s" % (code, err))


expect_error.count = 0


def csv_file(name, text):
    with open(path(name), "w") as f:
        f.write(text)
    return path(name)


classes = lambda f: CSV_MODEL % (3, "activation: SOFTMAX",  # noqa: E731
                                 "sparse_categorical_crossentropy {}", f)
values = lambda f, k=1: CSV_MODEL % (k, "", "mse {} regression: true", f)  # noqa: E731
good = "a,b,y\n1,2,0\n3,4,1\n5,6,2\n7,8,1\n"
expect_error("a cell that is not a number",
             classes(csv_file("nan.csv", "a,b,y\n1,2,0\n3,x4,1\n")),
             "nan.csv:3:2: error: column 'b': 'x4' is not a number")
expect_error("a ragged row", classes(csv_file("ragged.csv", "a,b,y\n1,2,0\n3,1\n")),
             "ragged.csv:3: error: 2 fields, the header has 3")
expect_error("labels outside the classes",
             classes(csv_file("labels.csv", "a,b,y\n1,2,0\n3,4,7\n")),
             "label 7 of example 1 is out of range for a model with 3 classes")
expect_error("a target width that does not match the output",
             values(csv_file("width2.csv", "a,b,y,z\n1,2,0,1\n3,4,1,0\n"), 1)
             .replace('target: "y"', 'target: ["y", "z"]'),
             "examples have 2 target value(s), the model output has 1")
expect_error("NaN in a feature",
             values(csv_file("nanfeat.csv", "a,b,y\n1,nan,0\n")), "nanfeat.csv:2:2")
NUMPY_MODEL = """name: "tabular"
input { name: "x" shape: [2] }
layer { name: "out" dense { units: 1 } }
loss { mse {} regression: true }
training { batch_size: 4 epochs: 1 }
data { numpy { %s } }
"""
np.savez(path("nan.npz"), x=np.array([[1, np.nan]], np.float32),
         y=np.array([0.5], np.float32))
expect_error("NaN in an .npz feature",
             NUMPY_MODEL % ('file: "%s"' % path("nan.npz")),
             "feature 1 of example 0 is nan")
np.save(path("fortran.npy"), np.asfortranarray(np.ones((3, 2), np.float32)))
np.save(path("y3.npy"), np.zeros(3, np.float32))
expect_error("a Fortran-order .npy",
             NUMPY_MODEL % ('x: "%s" y: "%s"' % (path("fortran.npy"),
                                                path("y3.npy"))),
             "fortran.npy")
os.makedirs(path("empty-class", "cat"))
os.makedirs(path("empty-class", "dog"))
write_png(path("empty-class", "cat", "a.png"), np.zeros((28, 28), np.uint8))
expect_error("an empty class folder",
             FASHION_MODEL % ('data { image_folder { train: "%s" } }'
                              % path("empty-class")),
             "dog")
os.makedirs(path("rgb-class", "cat"))
write_png(path("rgb-class", "cat", "a.png"), np.zeros((28, 28, 3), np.uint8))
expect_error("an RGB image for a grey model",
             FASHION_MODEL % ('data { image_folder { train: "%s" } }'
                              % path("rgb-class")),
             "a.png")
os.makedirs(path("cifar-bad"))
with open(path("cifar-bad", "data_batch_1.bin"), "wb") as f:
    f.write(b"\x01" * 3075)
with open(cifar_model) as f:
    expect_error("a truncated CIFAR file",
                 f.read().replace(cifar, path("cifar-bad")), "data_batch_1.bin")
expect_error("a CSV given by --data to a model without a target",
             FASHION_MODEL % "", "target",
             ["--data", path("fashion-test.csv")])

c.finish()
