#===- transformer_torch.py - the char transformer against PyTorch -*- python -*-===#
"""examples/char_transformer.pbtxt against the same model written in
Debian's PyTorch (nn.Embedding, a learned position table, pre-norm blocks of
nn.MultiheadAttention with a causal -inf mask and a GELU MLP, a final
LayerNorm and Linear), from the same initial weights on the same windows of
the same text. Two threads: the threaded layer-norm gradient once summed
two outputs into one buffer.

gradc trains the example itself (its Adam, its data { text } of fortunes'
cookie file, batch 8 and no shuffle) for 1, 5 and 20 steps; PyTorch (in
double) takes the same 20 steps. After each, every weight must agree within
1e-4 relative (to the largest value of the tensor).

Usage: transformer_torch.py GRADC SCRATCH_DIR SOURCE_DIR
"""

import math
import os
import re
import sys

import numpy as np
import torch
from torch import nn

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2e_common as common  # noqa: E402

BATCH, STEPS, TOLERANCE = 8, (1, 5, 20), 1e-4


def settings(text):
    """The example's numbers, read from the file itself."""
    def field(pattern):
        return re.search(pattern, text).group(1)
    return {
        "context": int(field(r'input \{ name: "ids" shape: \[(\d+)\]')),
        "vocab": int(field(r"input_dim: (\d+)")),
        "width": int(field(r"output_dim: (\d+)")),
        "heads": int(field(r"heads: (\d+)")),
        "blocks": len(re.findall(r"multi_head_attention", text)),
        "hidden": int(field(r'ff1" dense \{ units: (\d+)')),
        "lr": float(field(r"adam \{ learning_rate: ([0-9.e-]+)")),
        "file": field(r'text \{ file: "([^"]+)"'),
    }


class Block(nn.Module):
    def __init__(self, s):
        super().__init__()
        self.ln1 = nn.LayerNorm(s["width"])
        self.attn = nn.MultiheadAttention(s["width"], s["heads"],
                                          batch_first=True)
        self.ln2 = nn.LayerNorm(s["width"])
        self.ff1 = nn.Linear(s["width"], s["hidden"])
        self.ff2 = nn.Linear(s["hidden"], s["width"])

    def forward(self, x, mask):
        h = self.ln1(x)
        x = x + self.attn(h, h, h, attn_mask=mask, need_weights=False)[0]
        return x + self.ff2(nn.functional.gelu(self.ff1(self.ln2(x))))


class CharTransformer(nn.Module):
    def __init__(self, s):
        super().__init__()
        self.embed = nn.Embedding(s["vocab"], s["width"])
        self.positions = nn.Parameter(torch.zeros(s["context"], s["width"]))
        self.blocks = nn.ModuleList(Block(s) for _ in range(s["blocks"]))
        self.ln_f = nn.LayerNorm(s["width"])
        self.logits = nn.Linear(s["width"], s["vocab"])
        t = s["context"]
        self.register_buffer("mask", torch.triu(
            torch.full((t, t), -math.inf, dtype=torch.float64), 1))

    def forward(self, ids):
        x = self.embed(ids) + self.positions
        for b in self.blocks:
            x = b(x, self.mask)
        return self.logits(self.ln_f(x))


def locate(net, name, width):
    """Where gradc's tensor `name` lives in PyTorch: the tensor (a view of
    it for the attention's packed query/key/value projections) and whether
    it is gradc's transposed (kernels [in, out] against weights [out, in])."""
    layer, role = name.split(".", 1)
    if layer == "embed":
        return net.embed.weight, False
    if layer == "positions":
        return net.positions, False
    m = re.match(r"b(\d+)_(\w+)", layer)
    part = (getattr(net.blocks[int(m.group(1)) - 1], m.group(2)) if m
            else getattr(net, layer))
    if isinstance(part, nn.LayerNorm):
        return (part.weight if role == "gamma" else part.bias), False
    kernel = role.endswith("kernel")
    if isinstance(part, nn.MultiheadAttention):
        proj = role.split("_")[0]
        if proj == "output":
            part = part.out_proj
        else:
            k = ["query", "key", "value"].index(proj)
            packed = part.in_proj_weight if kernel else part.in_proj_bias
            return packed[k * width:(k + 1) * width], kernel
    return (part.weight if kernel else part.bias), kernel


def assign(net, name, value, width):
    """Copies gradc's tensor `name` into the PyTorch model."""
    target, transposed = locate(net, name, width)
    v = torch.from_numpy(value.astype(np.float64))
    with torch.no_grad():
        target.copy_(v.T if transposed else v)


def fetch(net, name, width):
    """The PyTorch value of gradc's tensor `name`, in gradc's layout."""
    t, transposed = locate(net, name, width)
    return (t.T if transposed else t).detach().numpy()


def main():
    gradc, scratch, source = sys.argv[1], sys.argv[2], sys.argv[3]
    os.makedirs(scratch, exist_ok=True)
    check = common.Checker()
    pb = common.checkpoint_module(source, scratch)

    model = os.path.join(source, "examples", "char_transformer.pbtxt")
    with open(model) as f:
        s = settings(f.read())
    common_flags = ["--batch-size", str(BATCH), "--no-shuffle",
                    "--threads", "2"]
    template = os.path.join(scratch, "template.ckpt")
    code, out, err = common.run([gradc, "train", model, "--max-steps", "1",
                                 "--checkpoint", template] + common_flags,
                                timeout=300)
    if not check.check(code == 0, "template run failed", out + err):
        check.finish()
    # The initial weights: gradc's own initialization (a checkpoint of
    # step 0 is what --init-from reads), copied into PyTorch.
    ckpt = pb.Checkpoint()
    with open(template, "rb") as f:
        ckpt.ParseFromString(f.read())
    torch.manual_seed(0)
    net = CharTransformer(s).double()
    rng = np.random.default_rng(3)
    for t in ckpt.param:
        value = np.array(t.data, dtype=np.float32).reshape(tuple(t.shape))
        # Start from fresh values of the same scale (the template took a
        # step), the biases and norms away from 0 and 1 too.
        value = (rng.normal(0, 0.05, value.shape) +
                 (1.0 if t.name.endswith("gamma") else 0.0)).astype(np.float32)
        del t.data[:]
        t.data.extend(value.ravel().tolist())
        assign(net, t.name, value, s["width"])
    del ckpt.state[:]
    ckpt.step = ckpt.epoch = 0
    init = os.path.join(scratch, "init.ckpt")
    common.write_checkpoint(ckpt, init)

    # The same windows: bytes, context tokens each, labels one on.
    with open(s["file"], "rb") as f:
        data = np.frombuffer(f.read(), dtype=np.uint8).astype(np.int64)
    t = s["context"]
    windows = (len(data) - 1) // t
    x = torch.from_numpy(data[:windows * t].reshape(windows, t))
    y = torch.from_numpy(data[1:windows * t + 1].reshape(windows, t))
    opt = torch.optim.Adam(net.parameters(), lr=s["lr"], eps=1e-7)
    done = 0
    for steps in STEPS:
        trained = os.path.join(scratch, "trained%d.ckpt" % steps)
        code, out, err = common.run(
            [gradc, "train", model, "--init-from", init, "--max-steps",
             str(steps), "--checkpoint", trained] + common_flags, timeout=300)
        if not check.check(code == 0, "gradc train %d steps failed" % steps,
                           out + err):
            break
        for step in range(done, steps):
            batch = slice(step * BATCH, (step + 1) * BATCH)
            opt.zero_grad()
            logits = net(x[batch])
            nn.functional.cross_entropy(logits.reshape(-1, s["vocab"]),
                                        y[batch].reshape(-1)).backward()
            opt.step()
        done = steps
        result = pb.Checkpoint()
        with open(trained, "rb") as f:
            result.ParseFromString(f.read())
        check.check(result.step == steps, "gradc ran %d steps, not %d"
                    % (result.step, steps))
        worst = (0.0, "")
        for p in result.param:
            ours = np.array(p.data).reshape(tuple(p.shape))
            ref = fetch(net, p.name, s["width"])
            e = float(np.max(np.abs(ours - ref)) / np.max(np.abs(ref)))
            if p.name.endswith("key_bias"):
                # The key bias adds the same q.b to a query's every score,
                # which the softmax cancels: its gradient is 0 but for
                # rounding (1e-11 in float, 1e-19 in double), which Adam's
                # normalization turns into tiny steps of its own.
                check.check(e <= 10 * TOLERANCE, "after %d steps %s moved "
                            "%.3g relative from PyTorch's" % (steps, p.name, e))
                continue
            worst = max(worst, (e, p.name))
            check.check(e <= TOLERANCE, "after %d steps %s differs from "
                        "PyTorch by %.3g relative" % (steps, p.name, e))
        print("after %2d steps: %d tensors, worst max |gradc - torch| / "
              "max |torch| = %.2e (%s)" % (steps, len(result.param), *worst))
    check.finish()


if __name__ == "__main__":
    main()
