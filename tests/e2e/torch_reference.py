#===- torch_reference.py - gradc against PyTorch on the same steps -*- python -*-===#
"""Trains the same small network with gradc and with Debian's PyTorch from
the same initial weights on the same batches, and compares the weights, the
batch-norm running statistics and the inference-mode outputs.

The network uses the layers PyTorch has too: batch normalization (train
mode with batch statistics and running averages, eval mode with the running
ones), layer normalization (over the channels of a feature map, PyTorch's
LayerNorm on the NHWC permutation, and over features), a grouped and a
depthwise convolution, channel concat, a reduce (the maximum over the
rows, torch.amax) and global average pooling. gradc's
momentum m is PyTorch's 1 - m.

A second network is one attention head over the rows of each image (the
matmul layer: q k^T with transpose_b, a softmax over each row, the mix of
the values), torch.matmul in PyTorch.

Usage: torch_reference.py GRADC SCRATCH_DIR SOURCE_DIR
"""

import os
import subprocess
import sys
import zlib

import numpy as np
import torch

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2e_common as common  # noqa: E402

STEPS, BATCH, LR = 5, 8, 0.1
TOLERANCE = 1e-4

LAYERS = """\
layer { name: "c1"  conv2d { filters: 4 kernel_size: [3, 3] } }
layer { name: "bn"  batch_norm { momentum: 0.9 epsilon: 1e-5 } }
layer { name: "r"   activation { kind: RELU } }
layer { name: "g"   conv2d { filters: 6 kernel_size: [3, 3] groups: 2 } }
layer { name: "lng" layer_norm { epsilon: 1e-3 } }
layer { name: "dw"  conv2d { filters: 6 kernel_size: [3, 3] padding: SAME groups: 6 use_bias: false } inputs: ["g"] }
layer { name: "bn2" batch_norm { momentum: 0.9 epsilon: 1e-5 } }
layer { name: "cat" concat {} inputs: ["lng", "bn2"] }
layer { name: "rmax" reduce { op: MAX axes: [1] keepdims: true } }
layer { name: "gap" global_avg_pool2d {} }
layer { name: "ln"  layer_norm {} }
layer { name: "out" dense { units: 4 activation: SOFTMAX } }
"""


class Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = torch.nn.Conv2d(1, 4, 3)
        self.bn = torch.nn.BatchNorm2d(4, momentum=0.1, eps=1e-5)
        self.g = torch.nn.Conv2d(4, 6, 3, groups=2)
        self.dw = torch.nn.Conv2d(6, 6, 3, padding=1, groups=6, bias=False)
        self.bn2 = torch.nn.BatchNorm2d(6, momentum=0.1, eps=1e-5)
        self.lng = torch.nn.LayerNorm(6, eps=1e-3)
        self.ln = torch.nn.LayerNorm(12, eps=1e-5)
        self.out = torch.nn.Linear(12, 4)

    def forward(self, x):
        g = self.g(torch.relu(self.bn(self.c1(x))))
        # gradc's layer_norm of NHWC: over the channels of each pixel.
        lng = self.lng(g.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)
        cat = torch.cat([lng, self.bn2(self.dw(g))], dim=1)
        # gradc's reduce over the rows (NHWC's dimension 1) with keepdims.
        rmax = cat.amax(dim=2, keepdim=True)
        return self.out(self.ln(rmax.mean(dim=(2, 3))))


ATTENTION_LAYERS = """\
layer { name: "rows" reduce { op: SUM axes: [3] } }
layer { name: "q"   dense { units: 8 } inputs: ["rows"] }
layer { name: "k"   dense { units: 8 } inputs: ["rows"] }
layer { name: "v"   dense { units: 6 } inputs: ["rows"] }
layer { name: "s"   matmul { transpose_b: true } inputs: ["q", "k"] }
layer { name: "a"   activation { kind: SOFTMAX } }
layer { name: "o"   matmul {} inputs: ["a", "v"] }
layer { name: "f"   flatten {} }
layer { name: "out" dense { units: 4 activation: SOFTMAX } }
"""


class Attention(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.q = torch.nn.Linear(common.SIZE, 8)
        self.k = torch.nn.Linear(common.SIZE, 8)
        self.v = torch.nn.Linear(common.SIZE, 6)
        self.out = torch.nn.Linear(common.SIZE * 6, 4)

    def forward(self, x):
        rows = x[:, 0]  # [N, rows, columns]: a token per row
        scores = torch.matmul(self.q(rows), self.k(rows).transpose(1, 2))
        mixed = torch.matmul(torch.softmax(scores, dim=-1), self.v(rows))
        return self.out(mixed.flatten(1))


def to_torch(name, value):
    """gradc's HWIO kernels and [in, out] dense kernels to PyTorch's."""
    if name.endswith("kernel"):
        return value.transpose(3, 2, 0, 1) if value.ndim == 4 else value.T
    return value


def torch_tensors(net):
    """gradc tensor name -> the PyTorch tensor holding it."""
    out = {}
    for name, m in net.named_children():
        if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear)):
            out[name + ".kernel"] = m.weight
            if m.bias is not None:
                out[name + ".bias"] = m.bias
    if not isinstance(net, Net):
        return out
    for layer in ("bn", "bn2"):
        m = getattr(net, layer)
        out[layer + ".gamma"] = m.weight
        out[layer + ".beta"] = m.bias
        out[layer + ".moving_mean"] = m.running_mean
        out[layer + ".moving_variance"] = m.running_var
    for layer in ("lng", "ln"):
        m = getattr(net, layer)
        out[layer + ".gamma"] = m.weight
        out[layer + ".beta"] = m.bias
    return out


def read_idx(path):
    data = common.read_bytes(path)
    if data[2] == 8 and data[3] == 3:
        n, h, w = np.frombuffer(data[4:16], dtype=">u4")
        return np.frombuffer(data[16:], dtype=np.uint8).reshape(n, h, w)
    return np.frombuffer(data[8:], dtype=np.uint8)


def compare(check, gradc, scratch, data, checkpoint_pb2, layers, net):
    """Trains `layers` with gradc and `net` (double) with PyTorch from the
    same initial weights and compares them."""
    os.makedirs(scratch, exist_ok=True)
    model = common.write_model(
        os.path.join(scratch, "model.pbtxt"), layers=layers, name="torchref",
        optimizer="sgd { learning_rate: %g }" % LR, batch_size=BATCH,
        epochs=1, seed=7)

    # A template checkpoint gives the names and shapes in gradc's order.
    template = os.path.join(scratch, "template.ckpt")
    code, out, err = common.run([gradc, "train", model, "--data", data,
                                 "--max-steps", "1", "--threads", "1",
                                 "--checkpoint", template], timeout=120)
    if not check.check(code == 0, "template run failed", out + err):
        return
    ckpt = checkpoint_pb2.Checkpoint()
    with open(template, "rb") as f:
        ckpt.ParseFromString(f.read())

    # Initial weights drawn here; running statistics away from 0 and 1 so
    # that their update is visible.
    tensors = torch_tensors(net)
    rng = np.random.default_rng(3)
    names = []
    for t in list(ckpt.param) + list(ckpt.buffer):
        names.append(t.name)
        shape = tuple(t.shape)
        if t.name.endswith("moving_variance"):
            value = rng.uniform(0.5, 1.5, shape)
        elif t.name.endswith("moving_mean") or t.name.endswith("beta"):
            value = rng.uniform(-0.2, 0.2, shape)
        elif t.name.endswith("gamma"):
            value = rng.uniform(0.8, 1.2, shape)
        else:
            value = rng.uniform(-0.5, 0.5, shape)
        value = value.astype(np.float32)
        del t.data[:]
        t.data.extend(value.ravel().tolist())
        with torch.no_grad():
            tensors[t.name].copy_(torch.from_numpy(
                np.ascontiguousarray(to_torch(t.name, value)).astype(np.float64)))
    check.check(sorted(names) == sorted(tensors),
                "gradc's tensors %s differ from the reference's %s"
                % (sorted(names), sorted(tensors)))
    init = os.path.join(scratch, "init.ckpt")
    with open(init, "wb") as f:
        # gradc checks the CRC-32 of the checkpoint serialized without it.
        ckpt.crc32 = 0
        ckpt.crc32 = zlib.crc32(ckpt.SerializeToString()) & 0xffffffff
        f.write(ckpt.SerializeToString())

    # gradc: STEPS steps of SGD over the unshuffled training set.
    trained = os.path.join(scratch, "trained.ckpt")
    code, out, err = common.run(
        [gradc, "train", model, "--data", data, "--init-from", init,
         "--max-steps", str(STEPS), "--no-shuffle", "--threads", "1",
         "--checkpoint", trained], timeout=120)
    if not check.check(code == 0, "gradc train failed", out + err):
        return

    # PyTorch: the same steps, in double.
    images = read_idx(os.path.join(data, "train-images-idx3-ubyte"))
    labels = read_idx(os.path.join(data, "train-labels-idx1-ubyte"))
    x_all = torch.from_numpy(images.astype(np.float64) / 255.0)[:, None]
    y_all = torch.from_numpy(labels.astype(np.int64))
    opt = torch.optim.SGD(net.parameters(), lr=LR)
    net.train()
    for step in range(STEPS):
        x = x_all[step * BATCH:(step + 1) * BATCH]
        y = y_all[step * BATCH:(step + 1) * BATCH]
        opt.zero_grad()
        torch.nn.functional.cross_entropy(net(x), y).backward()
        opt.step()

    result = checkpoint_pb2.Checkpoint()
    with open(trained, "rb") as f:
        result.ParseFromString(f.read())
    check.check(result.step == STEPS, "gradc ran %d steps" % result.step)
    for t in list(result.param) + list(result.buffer):
        ours = to_torch(t.name, np.array(t.data).reshape(tuple(t.shape)))
        ref = tensors[t.name].detach().numpy()
        err = float(np.max(np.abs(ours - ref)))
        print("%-20s max |gradc - torch| = %.2e" % (t.name, err))
        check.check(err <= TOLERANCE, "%s differs from PyTorch by %.3g"
                    % (t.name, err))

    # Inference mode: running statistics. `gradc predict` prints
    # probabilities with 4 decimals, so allow their rounding too.
    test_images = os.path.join(data, "t10k-images-idx3-ubyte")
    code, out, err = common.run([gradc, "predict", model, "--weights",
                                 trained, "--input", test_images,
                                 "--threads", "1"], timeout=120)
    if check.check(code == 0, "gradc predict failed", out + err):
        ours = np.array([[float(v) for v in line.split("[")[1].rstrip("]").split()]
                         for line in out.splitlines() if "[" in line])
        net.eval()
        x = torch.from_numpy(read_idx(test_images).astype(np.float64) / 255.0)
        with torch.no_grad():
            ref = torch.softmax(net(x[:, None]), dim=1).numpy()
        err = float(np.max(np.abs(ours - ref))) if ours.shape == ref.shape \
            else float("inf")
        print("eval-mode probabilities max |gradc - torch| = %.2e" % err)
        check.check(err <= TOLERANCE + 5e-5,
                    "eval-mode probabilities differ from PyTorch by %.3g" % err)


def main():
    gradc, scratch, source = sys.argv[1], sys.argv[2], sys.argv[3]
    os.makedirs(scratch, exist_ok=True)
    check = common.Checker()
    data = common.make_dataset(os.path.join(scratch, "data"), n_train=64,
                               n_test=16)
    # The checkpoint module, generated from gradc's own definition.
    subprocess.run(["protoc", "-I", os.path.join(source, "runtime", "params"),
                    "--python_out", scratch, "checkpoint.proto"], check=True)
    sys.path.insert(0, scratch)
    import checkpoint_pb2  # noqa: E402

    torch.manual_seed(0)
    compare(check, gradc, os.path.join(scratch, "cnn"), data, checkpoint_pb2,
            LAYERS, Net().double())
    print("attention:")
    compare(check, gradc, os.path.join(scratch, "attention"), data,
            checkpoint_pb2, ATTENTION_LAYERS, Attention().double())
    check.finish()


if __name__ == "__main__":
    main()
