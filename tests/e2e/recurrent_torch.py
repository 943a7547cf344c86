#===- recurrent_torch.py - lstm and gru against PyTorch -----*- python -*-===#
"""The recurrent layers against Debian's PyTorch (nn.LSTM and nn.GRU, batch
first), step for step from the same initial weights on the same batches:

- examples/weather_lstm.pbtxt itself (its normalization, LSTM and dense, its
  Adam, its CSV windows of Seattle's weather, batch 32, no shuffle);
- a bidirectional GRU returning its sequence read by a reverse LSTM (PyTorch:
  an LSTM over the flipped sequence) returning its last state, on a
  regression the test writes as .npz.

gradc trains for 1, 5 and 20 steps with 2 threads; PyTorch (in double)
takes the same 20 steps. After each, every weight must agree within 1e-4
relative (to the largest value of the tensor).

The example trained in full (its 30 epochs) must forecast the test windows
(the last 20 %, 2015) with a lower RMSE than persistence (tomorrow's
maximum is today's).

Then ONNX import: nn.LSTM and nn.GRU (forward or bidirectional, read as
y[:, -1] or h_n[-1]) exported by torch.onnx.export (time-major LSTM and
GRU nodes, zero initial states from ConstantOfShape, Squeeze (of Y, and
h_n.squeeze(0)), Transpose,
Reshape, Gather) must give PyTorch's softmax in `gradc predict` within
1e-5; two of them trained 5 SGD steps by gradc (a .pbtxt naming the .onnx)
and by PyTorch must still agree.

Usage: recurrent_torch.py GRADC SCRATCH_DIR SOURCE_DIR
"""

import csv
import os
import re
import sys

import numpy as np
import torch
from torch import nn

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2e_common as common  # noqa: E402

STEPS, TOLERANCE = (1, 5, 20), 1e-4

# gradc's role of a recurrent layer's tensor -> PyTorch's, and whether
# gradc's is the transpose ([in, gates H] against [gates H, in]).
ROLES = {"kernel": ("weight_ih_l0", True),
         "recurrent_kernel": ("weight_hh_l0", True),
         "bias": ("bias_ih_l0", False),
         "recurrent_bias": ("bias_hh_l0", False)}


class WeatherLstm(nn.Module):
    """examples/weather_lstm.pbtxt: (x - shift) * scale, an LSTM's last
    state, a linear forecast."""

    def __init__(self, features, units, shift, scale):
        super().__init__()
        self.shift, self.scale = shift, scale
        self.lstm = nn.LSTM(features, units, batch_first=True)
        self.out = nn.Linear(units, 1)

    def forward(self, x):
        y, _ = self.lstm((x - self.shift) * self.scale)
        return self.out(y[:, -1])


class GruLstm(nn.Module):
    """A bidirectional GRU's sequence, then a reverse LSTM's state at
    position 0 (an LSTM's last over the flipped sequence)."""

    def __init__(self):
        super().__init__()
        self.gru = nn.GRU(3, 5, batch_first=True, bidirectional=True)
        self.lstm = nn.LSTM(10, 4, batch_first=True)
        self.out = nn.Linear(4, 2)

    def forward(self, x):
        y, _ = self.gru(x)
        z, _ = self.lstm(torch.flip(y, [1]))
        return self.out(z[:, -1])


GRU_LSTM_MODEL = """\
name: "gru_lstm"
input { name: "x" shape: [6, 3] }
layer { name: "gru" gru { units: 5 return_sequences: true direction: BIDIRECTIONAL } }
layer { name: "lstm" lstm { units: 4 direction: REVERSE } }
layer { name: "out" dense { units: 2 } }
loss { mse {} regression: true }
optimizer { adam { learning_rate: 0.01 } }
training { batch_size: 16 epochs: 100 seed: 5 }
"""


def locate(net, name):
    """Where gradc's tensor `name` lives in PyTorch, and whether gradc's is
    its transpose."""
    layer, role = name.split(".", 1)
    part = getattr(net, layer)
    if isinstance(part, nn.Linear):
        return (part.weight, True) if role == "kernel" else (part.bias, False)
    reverse = role.startswith("reverse_")
    role = role[len("reverse_"):] if reverse else role
    attr, transposed = ROLES[role]
    # A reverse-only layer is PyTorch's forward one over the flipped input.
    if reverse and part.bidirectional:
        attr += "_reverse"
    return getattr(part, attr), transposed


def weather_windows(model_text):
    """The example's CSV as windows [N, length, features] and next-day
    targets [N, 1], as data { csv { sequence } } cuts them."""
    path = re.search(r'train: "([^"]+)"', model_text).group(1)
    features = re.findall(r'"(\w+)"',
                          re.search(r"features: \[([^\]]+)\]",
                                    model_text).group(1))
    target = re.search(r'target: "(\w+)"', model_text).group(1)
    length = int(re.search(r"length: (\d+)", model_text).group(1))
    horizon = int(re.search(r"horizon: (\d+)", model_text).group(1))
    with open(path) as f:
        rows = list(csv.DictReader(f))
    table = np.array([[float(r[c]) for c in features] for r in rows])
    goal = np.array([float(r[target]) for r in rows])
    n = len(rows) - length - horizon + 1
    x = np.stack([table[i:i + length] for i in range(n)])
    y = goal[length - 1 + horizon:length - 1 + horizon + n].reshape(n, 1)
    return x, y, features


def beats_persistence(check, gradc, scratch, model, x, y, features):
    """The example's full run against persistence on its test windows."""
    metrics = os.path.join(scratch, "weather-metrics.json")
    code, out, err = common.run([gradc, "train", model, "--metrics-json",
                                 metrics], timeout=300)
    if not check.check(code == 0, "weather: full run failed", out + err):
        return
    tested = int(re.search(r"(\d+) test examples", out + err).group(1))
    today = x[-tested:, -1, features.index("temp_max")]
    persistence = float(np.sqrt(np.mean((today - y[-tested:, 0]) ** 2)))
    rmse = common.read_metrics(metrics)[-1]["test_rmse"]
    print("weather: test RMSE %.4f, persistence %.4f (%d windows)"
          % (rmse, persistence, tested))
    check.check(rmse < persistence, "weather: the LSTM's test RMSE %.4f "
                "does not beat persistence's %.4f" % (rmse, persistence))


def compare(check, gradc, pb, scratch, name, model, net, x, y, batch, lr,
            data_flags):
    """Trains `model` in gradc and `net` in PyTorch from the same weights
    for each of STEPS; checks every weight after each."""
    flags = data_flags + ["--batch-size", str(batch), "--no-shuffle",
                          "--threads", "2"]
    template = os.path.join(scratch, name + "-template.ckpt")
    code, out, err = common.run([gradc, "train", model, "--max-steps", "1",
                                 "--checkpoint", template] + flags,
                                timeout=300)
    if not check.check(code == 0, name + ": template run failed", out + err):
        return None
    ckpt = pb.Checkpoint()
    with open(template, "rb") as f:
        ckpt.ParseFromString(f.read())
    # Fresh weights of gradc's initial scale (the template took a step).
    rng = np.random.default_rng(11)
    for t in ckpt.param:
        value = rng.uniform(-0.3, 0.3, tuple(t.shape)).astype(np.float32)
        del t.data[:]
        t.data.extend(value.ravel().tolist())
        target, transposed = locate(net, t.name)
        v = torch.from_numpy(value.astype(np.float64))
        with torch.no_grad():
            target.copy_(v.T if transposed else v)
    del ckpt.state[:]
    ckpt.step = ckpt.epoch = 0
    init = os.path.join(scratch, name + "-init.ckpt")
    common.write_checkpoint(ckpt, init)

    xs, ys = torch.from_numpy(x), torch.from_numpy(y)
    opt = torch.optim.Adam(net.parameters(), lr=lr, eps=1e-7)
    done = 0
    for steps in STEPS:
        trained = os.path.join(scratch, "%s-%d.ckpt" % (name, steps))
        code, out, err = common.run(
            [gradc, "train", model, "--init-from", init, "--max-steps",
             str(steps), "--checkpoint", trained] + flags, timeout=300)
        if not check.check(code == 0, "%s: gradc train %d steps failed"
                           % (name, steps), out + err):
            return None
        for step in range(done, steps):
            b = slice(step * batch, (step + 1) * batch)
            opt.zero_grad()
            nn.functional.mse_loss(net(xs[b]), ys[b]).backward()
            opt.step()
        done = steps
        result = pb.Checkpoint()
        with open(trained, "rb") as f:
            result.ParseFromString(f.read())
        worst = (0.0, "")
        for p in result.param:
            ours = np.array(p.data).reshape(tuple(p.shape))
            t, transposed = locate(net, p.name)
            ref = (t.T if transposed else t).detach().numpy()
            e = float(np.max(np.abs(ours - ref)) / np.max(np.abs(ref)))
            worst = max(worst, (e, p.name))
            check.check(e <= TOLERANCE, "%s: after %d steps %s differs from "
                        "PyTorch by %.3g relative" % (name, steps, p.name, e))
        print("%s after %2d steps: %d tensors, worst max |gradc - torch| / "
              "max |torch| = %.2e (%s)" % (name, steps, len(result.param),
                                            *worst))
    return result


class Exported(nn.Module):
    """A recurrent layer of `cell` over [N, 5, 3] and a classifier of its
    output at the last step, or of its last state h_n[-1]."""

    def __init__(self, cell, bidirectional, last):
        super().__init__()
        self.last = last
        self.r = cell(3, 4, batch_first=True, bidirectional=bidirectional)
        self.o = nn.Linear(8 if bidirectional and not last else 4, 3)

    def forward(self, x):
        y, h = self.r(x)
        if self.last:
            if isinstance(h, tuple):  # an LSTM's (h_n, c_n): h_n[-1]
                return self.o(h[0][-1])
            # A GRU's h_n [D, N, H]: the last, or all of a forward one.
            return self.o(h[-1] if self.r.bidirectional else h.squeeze(0))
        return self.o(y[:, -1])


def onnx_import(check, gradc, scratch):
    """PyTorch's exports of LSTM and GRU through `gradc predict`, and two of
    them trained by gradc and by PyTorch."""
    rng = np.random.default_rng(4)
    x = rng.normal(0, 1, (64, 5, 3)).astype(np.float32)
    labels = rng.integers(0, 3, 64).astype(np.int64)
    xs = os.path.join(scratch, "onnx_x.npy")
    ys = os.path.join(scratch, "onnx_y.npy")
    np.save(xs, x)
    np.save(ys, labels)

    def agrees(name, args, net):
        out = os.path.join(scratch, name + "_probs.npy")
        code, stdout, err = common.run([gradc, "predict"] + args +
                                       ["--input", xs, "-o", out], timeout=120)
        if not check.check(code == 0, name + ": gradc predict failed",
                           stdout + err):
            return
        with torch.no_grad():
            ref = torch.softmax(net(torch.from_numpy(x).double()), -1)
        e = float(np.max(np.abs(np.load(out) - ref.numpy())))
        print("%-16s max |gradc - torch| = %.2e" % (name, e))
        check.check(e <= 1e-5, "%s: gradc's probabilities differ from "
                    "PyTorch's by %.3g" % (name, e))

    # Every path of the import: Y squeezed or reshaped from two directions,
    # Y_h gathered or squeezed; two of them trained.
    trained = {("LSTM", True, False), ("GRU", False, True)}
    for cell, bidirectional, last in ((nn.LSTM, False, False),
                                      (nn.LSTM, True, False),
                                      (nn.LSTM, True, True),
                                      (nn.GRU, False, True),
                                      (nn.GRU, True, False)):
        name = "%s_%s_%s" % (cell.__name__.lower(),
                             "bi" if bidirectional else "fwd",
                             "h_n" if last else "y")
        torch.manual_seed(3)
        net = Exported(cell, bidirectional, last)
        path = os.path.join(scratch, name + ".onnx")
        torch.onnx.export(net, torch.zeros(2, 5, 3), path,
                          input_names=["x"], output_names=["y"],
                          dynamic_axes={"x": {0: "N"}, "y": {0: "N"}},
                          opset_version=14)
        net = net.double()
        agrees(name, [path], net)
        if (cell.__name__, bidirectional, last) not in trained:
            continue
        model = os.path.join(scratch, name + ".pbtxt")
        with open(model, "w") as f:
            f.write('name: "%s"\nnetwork { onnx: "%s.onnx" }\n'
                    "loss { sparse_categorical_crossentropy {} }\n"
                    "optimizer { sgd { learning_rate: 0.5 } }\n"
                    "training { batch_size: 16 seed: 1 }\n"
                    'data { numpy { x: "%s" y: "%s" } }\n'
                    % (name, name, xs, ys))
        ckpt = os.path.join(scratch, name + ".ckpt")
        code, out, err = common.run(
            [gradc, "train", model, "--max-steps", "5",
             "--no-shuffle", "--checkpoint", ckpt], timeout=120)
        if not check.check(code == 0, name + ": gradc train failed",
                           out + err):
            continue
        opt = torch.optim.SGD(net.parameters(), lr=0.5)
        for step in range(5):
            b = slice(step * 16, (step + 1) * 16)
            opt.zero_grad()
            nn.functional.cross_entropy(
                net(torch.from_numpy(x[b]).double()),
                torch.from_numpy(labels[b])).backward()
            opt.step()
        agrees(name + " (5 steps)", [model, "--weights", ckpt], net)


def main():
    gradc, scratch, source = sys.argv[1], sys.argv[2], sys.argv[3]
    os.makedirs(scratch, exist_ok=True)
    check = common.Checker()
    pb = common.checkpoint_module(source, scratch)

    # The weather example: its normalization's shift and scale are what
    # gradc adapted to the training windows (the checkpoint's buffers).
    model = os.path.join(source, "examples", "weather_lstm.pbtxt")
    with open(model) as f:
        text = f.read()
    x, y, features = weather_windows(text)
    units = int(re.search(r"lstm \{ units: (\d+)", text).group(1))
    lr = float(re.search(r"learning_rate: ([0-9.e-]+)", text).group(1))
    batch = int(re.search(r"batch_size: (\d+)", text).group(1))
    probe = os.path.join(scratch, "weather-probe.ckpt")
    code, out, err = common.run([gradc, "train", model, "--max-steps", "1",
                                 "--checkpoint", probe], timeout=300)
    if check.check(code == 0, "weather probe run failed", out + err):
        ckpt = pb.Checkpoint()
        with open(probe, "rb") as f:
            ckpt.ParseFromString(f.read())
        buffers = {b.name: torch.tensor(list(b.data), dtype=torch.float64)
                   for b in ckpt.buffer}
        net = WeatherLstm(x.shape[2], units, buffers["norm.shift"],
                          buffers["norm.scale"]).double()
        compare(check, gradc, pb, scratch, "weather", model, net, x, y,
                batch, lr, [])
        beats_persistence(check, gradc, scratch, model, x, y, features)

    # The bidirectional GRU and the reverse LSTM, on data written here.
    rng = np.random.default_rng(2)
    x = rng.normal(0, 1, (400, 6, 3)).astype(np.float32)
    y = np.stack([x[:, :, 0].mean(1), x[:, 0, 1] * x[:, -1, 2]],
                 1).astype(np.float32)
    data = os.path.join(scratch, "series.npz")
    np.savez(data, x=x, y=y)
    model = os.path.join(scratch, "gru_lstm.pbtxt")
    with open(model, "w") as f:
        f.write(GRU_LSTM_MODEL)
    torch.manual_seed(0)
    compare(check, gradc, pb, scratch, "gru_lstm", model, GruLstm().double(),
            x.astype(np.float64), y.astype(np.float64), 16, 0.01,
            ["--data", data])
    onnx_import(check, gradc, scratch)
    check.finish()


if __name__ == "__main__":
    main()
