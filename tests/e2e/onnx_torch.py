#===- onnx_torch.py - PyTorch-exported ONNX models trained by gradc -*- python -*-===#
"""Builds fifteen networks in Debian's PyTorch (an MLP, LeNet, a small ResNet
with batch norm, a depthwise-separable net, an MLP with GELU in both
forms, a CNN that transposes H and W, an MLP with layer norm exported at
opset 17 as LayerNormalization, an MLP with broadcast arithmetic on learned
parameters and constants, an MLP of elementwise functions: softplus,
sqrt, ELU, SELU, the hard sigmoid, erf, exp, reciprocal, log, neg, the hard
swish, SiLU, an MLP of sin, cos, tan, atan, asin and acos, a CNN
with the four reductions, a CNN with Clip,
ReduceLogSumExp, ReduceL2 and ReduceL1, a 1-D CNN with batch norm
and pooling, an MLP-Mixer, an attention head over the
rows of the image whose MatMuls of two activations are gradc's matmul
layer), exports each with
torch.onnx.export, and
trains the exported file with gradc (a .pbtxt naming
it, SGD) and the network with PyTorch from the same initial weights on the
same unshuffled batches. After 1 and 10 steps the weights and batch-norm
running statistics, read back with `gradc export` (ONNX layout and names),
must equal PyTorch's within 1e-4 relative; and `gradc predict` on the
bare .onnx must give PyTorch's softmax of its logits. A token model
(nn.Embedding of int64 ids, exported as Gather of the table by an INT64
input, then Flatten and Linear) trains from .npy ids the same way, and so
does a transformer (a 2-layer nn.TransformerEncoder with a causal mask,
whose attention PyTorch exports sequence first, the batch moved from axis
0), and that transformer as a language model (a label per token, some
ignored); gradc's export of every model, trained, runs in ONNX Runtime with
`gradc predict`'s probabilities within 1e-5.

Usage: onnx_torch.py GRADC SCRATCH_DIR ORT_DIR
"""

import os
import sys

import numpy as np
import onnx
import onnx.numpy_helper
import torch

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2e_common as common  # noqa: E402

BATCH, LR, SIZE = 8, 0.1, common.SIZE
TOLERANCE = 1e-4
nn = torch.nn


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(SIZE * SIZE, 32)
        self.act = nn.LeakyReLU(0.1)
        self.fc2 = nn.Linear(32, 4)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(torch.flatten(x, 1))))


class LayerNormMLP(nn.Module):
    """LayerNorm over the features of dense layers (opset 17)."""

    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(SIZE * SIZE, 32)
        self.ln1 = nn.LayerNorm(32)
        self.fc2 = nn.Linear(32, 16)
        self.ln2 = nn.LayerNorm(16, eps=1e-3)
        self.fc3 = nn.Linear(16, 4)

    def forward(self, x):
        x = torch.relu(self.ln1(self.fc1(torch.flatten(x, 1))))
        return self.fc3(torch.tanh(self.ln2(self.fc2(x))))


class LeNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 3, padding=1)
        self.conv2 = nn.Conv2d(6, 16, 3)
        self.fc1 = nn.Linear(16 * 2 * 2, 32)
        self.fc2 = nn.Linear(32, 4)

    def forward(self, x):
        x = nn.functional.max_pool2d(torch.relu(self.conv1(x)), 2)  # 6x6
        x = nn.functional.avg_pool2d(torch.tanh(self.conv2(x)), 2)  # 2x2
        x = torch.sigmoid(self.fc1(torch.flatten(x, 1)))  # C, H, W order
        return self.fc2(x)


class Block(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.short = None
        if stride != 1 or cin != cout:
            self.short = nn.Sequential(nn.Conv2d(cin, cout, 1, stride,
                                                 bias=False),
                                       nn.BatchNorm2d(cout))

    def forward(self, x):
        y = self.bn2(self.conv2(torch.relu(self.bn1(self.conv1(x)))))
        return torch.relu(y + (x if self.short is None else self.short(x)))


class ResNet(nn.Module):
    def __init__(self, classes=4):
        super().__init__()
        self.stem = nn.Conv2d(1, 8, 3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(8)
        self.b1 = Block(8, 8, 1)
        self.b2 = Block(8, 16, 2)
        self.fc = nn.Linear(16, classes)

    def forward(self, x):
        x = self.b2(self.b1(torch.relu(self.bn(self.stem(x)))))
        return self.fc(torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1),
                                     1))


class Separable(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 8, 3, stride=2)
        self.dw = nn.Conv2d(8, 8, 3, padding=1, groups=8)
        self.bn = nn.BatchNorm2d(8)
        self.pw = nn.Conv2d(8, 16, 1)
        self.prelu = nn.PReLU(16, init=0.2)
        self.fc = nn.Linear(32, 4)

    def forward(self, x):
        x = torch.relu(self.conv(x))
        x = self.prelu(self.pw(torch.relu(self.bn(self.dw(x)))))
        avg = torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1)
        mx = torch.flatten(nn.functional.adaptive_max_pool2d(x, 1), 1)
        return self.fc(torch.cat([avg, mx], 1))


class Transposed(nn.Module):
    """A Transpose of an NCHW tensor (H and W swapped), which gradc takes as
    a permute of its NHWC one."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, 3)
        self.conv2 = nn.Conv2d(4, 6, (3, 2), stride=2)
        self.fc = nn.Linear(6, 4)

    def forward(self, x):
        x = self.conv2(torch.relu(self.conv1(x)).transpose(2, 3))
        return self.fc(torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1),
                                     1))


class Reduced(nn.Module):
    """The four reductions: ReduceMax over the channels of NCHW (keepdims),
    ReduceMean over H without keepdims (gradc's [N, W, C] and a permute to
    ONNX's [N, C, W]), ReduceMin over W and ReduceSum of the features
    (its axes an input)."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 3)
        self.conv2 = nn.Conv2d(1, 8, 3)
        self.fc1 = nn.Linear(8, 16)
        self.fc2 = nn.Linear(1, 4)

    def forward(self, x):
        x = torch.tanh(self.conv1(x)).amax(dim=1, keepdim=True)
        x = torch.tanh(self.conv2(x)).mean(dim=2).amin(dim=2)
        return self.fc2(torch.tanh(self.fc1(x)).sum(dim=1, keepdim=True))


class Norms(nn.Module):
    """Clip (torch.clamp) of a feature map, Slice of its H and W (two slice
    layers of gradc's NHWC), ReduceLogSumExp over its
    channels (gradc: log(sum(exp(x - max))) + max over NHWC's C), then
    ReduceL2 and ReduceL1 (torch.norm, p 2 and 1) over the rows and the
    columns of what is left."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 6, 3)
        self.fc = nn.Linear(SIZE - 4, 4)

    def forward(self, x):
        c = torch.clamp(self.conv(x), -0.5, 0.5)[:, :, 1:-1, 1:-1]
        lse = torch.logsumexp(c, dim=1) - 1.8  # log(6) when c is 0
        return self.fc(torch.norm(lse, p=2, dim=2) +
                       0.1 * torch.norm(lse, p=1, dim=1))


class Conv1D(nn.Module):
    """A 1-D CNN on each image's rows as a sequence (12 channels of 12
    steps): Conv1d, BatchNorm1d, MaxPool1d, AdaptiveAvgPool1d, which gradc
    computes as 2-D windows of height 1, its input reshaped in ONNX's order."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv1d(SIZE, 16, 3, padding=1)
        self.bn1 = nn.BatchNorm1d(16)
        self.conv2 = nn.Conv1d(16, 12, 3, stride=2, dilation=1)
        self.fc = nn.Linear(12, 4)

    def forward(self, x):
        x = x.view(-1, SIZE, SIZE)
        x = nn.functional.max_pool1d(torch.relu(self.bn1(self.conv1(x))), 2)
        x = nn.functional.adaptive_avg_pool1d(torch.relu(self.conv2(x)), 1)
        return self.fc(torch.flatten(x, 1))


class Mixer(nn.Module):
    """An MLP-Mixer: a patch convolution, its tokens (`flatten(2)`, which
    PyTorch exports as Shape, Slice, Concat and Reshape, folded by gradc)
    transposed to [N, tokens, channels], layer norms, a token-mixing MLP
    between transposes and a channel-mixing one with GELU, residual adds,
    and a mean over the tokens."""

    def __init__(self):
        super().__init__()
        self.patch = nn.Conv2d(1, 16, 3, stride=3)
        self.ln1 = nn.LayerNorm(16)
        self.tok1 = nn.Linear(16, 24)
        self.tok2 = nn.Linear(24, 16)
        self.ln2 = nn.LayerNorm(16)
        self.ch1 = nn.Linear(16, 32)
        self.ch2 = nn.Linear(32, 16)
        self.head = nn.Linear(16, 4)

    def forward(self, x):
        x = self.patch(x).flatten(2).transpose(1, 2)
        t = nn.functional.gelu(self.tok1(self.ln1(x).transpose(1, 2)))
        x = x + self.tok2(t).transpose(1, 2)
        x = x + self.ch2(nn.functional.gelu(self.ch1(self.ln2(x))))
        return self.head(x.mean(dim=1))


class Attention(nn.Module):
    """One attention head over the rows of the image (ReduceMean of the
    channel: [N, rows, columns]): q k^T and the mix of the values are
    MatMuls of two activations (gradc's matmul layer, k^T a Transpose);
    the projections MatMuls with a parameter (dense layers)."""

    def __init__(self):
        super().__init__()
        self.wq = nn.Parameter(torch.randn(SIZE, 8) * 0.3)
        self.wk = nn.Parameter(torch.randn(SIZE, 8) * 0.3)
        self.wv = nn.Parameter(torch.randn(SIZE, 6) * 0.3)
        self.fc = nn.Linear(SIZE * 6, 4)

    def forward(self, x):
        rows = x.mean(dim=1)
        q, k, v = rows @ self.wq, rows @ self.wk, rows @ self.wv
        a = torch.softmax(q @ k.transpose(1, 2), dim=-1)
        return self.fc(torch.flatten(a @ v, 1))


class GeluMLP(nn.Module):
    """GELU in both forms: PyTorch exports each as a chain of nodes (Div,
    Erf, Add, Mul; or Mul, Add, Tanh) that gradc recognizes as one."""

    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(SIZE * SIZE, 24)
        self.act1 = nn.GELU()
        self.fc2 = nn.Linear(24, 16)
        self.act2 = nn.GELU(approximate="tanh")
        self.fc3 = nn.Linear(16, 4)

    def forward(self, x):
        x = self.act1(self.fc1(torch.flatten(x, 1)))
        return self.fc3(self.act2(self.fc2(x)))


class Arith(nn.Module):
    """Elementwise arithmetic with NumPy broadcasting: a learned scale and
    shift (nn.Parameter, [16] and [1, 16]), constants, and Mul, Sub, Max,
    Add, Pow, Div, Min nodes (a constant first in `1 - h`)."""

    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(SIZE * SIZE, 16)
        self.scale = nn.Parameter(torch.empty(16).uniform_(0.5, 1.5))
        self.shift = nn.Parameter(torch.empty(1, 16).uniform_(-0.2, 0.2))
        self.fc2 = nn.Linear(16, 4)

    def forward(self, x):
        h = self.fc1(torch.flatten(x, 1)) * self.scale - self.shift
        h = torch.maximum(h, h * 0.1)  # a leaky ReLU
        p = torch.sigmoid(h) + 0.5
        return self.fc2(torch.minimum(p ** 2 / (p + 1.0), 1 - h))


class UnaryMLP(nn.Module):
    """The elementwise functions PyTorch exports as one ONNX node each
    (opset 14): Softplus, Sqrt, Elu, Selu, HardSigmoid (alpha 1/6), Erf,
    Exp, Reciprocal, Log, Neg, HardSwish, each on its domain; and SiLU,
    which it exports as Mul(x, Sigmoid(x))."""

    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(SIZE * SIZE, 24)
        self.fc2 = nn.Linear(24, 16)
        self.elu = nn.ELU(alpha=0.5)
        self.fc3 = nn.Linear(16, 16)
        self.fc4 = nn.Linear(16, 12)
        self.fc5 = nn.Linear(12, 4)

    def forward(self, x):
        x = torch.sqrt(nn.functional.softplus(self.fc1(torch.flatten(x, 1))))
        x = nn.functional.selu(self.elu(self.fc2(x)))
        x = torch.erf(nn.functional.hardsigmoid(self.fc3(x)))
        x = torch.neg(torch.log(torch.reciprocal(torch.exp(self.fc4(x)))))
        return self.fc5(nn.functional.silu(nn.functional.hardswish(x)))


class Trig(nn.Module):
    """Sin, Cos, Tan, Atan, Asin and Acos (one ONNX node each; tan, asin
    and acos of a tanh, on their domains); atan between an Unsqueeze and a
    Squeeze of the features; an Expand of them to 3 rows (its shape PyTorch's
    Where(Equal(...)) of constants, folded), weighted and summed. PyTorch 1.13 exports none of the hyperbolic functions; their
    ONNX nodes are checked by the conformance tests."""

    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(SIZE * SIZE, 16)
        self.fc2 = nn.Linear(16, 12)
        self.mix = nn.Parameter(torch.randn(3, 1))
        self.fc3 = nn.Linear(12, 4)

    def forward(self, x):
        x = self.fc1(torch.flatten(x, 1))
        x = self.fc2(torch.sin(x) + torch.cos(x) * torch.tan(torch.tanh(x)))
        x = torch.atan(x.unsqueeze(1)).squeeze(1) + torch.asin(0.9 * torch.tanh(x))
        x = (x.unsqueeze(1).expand(-1, 3, -1) * self.mix).sum(1)
        return self.fc3(torch.acos(0.9 * torch.tanh(x)))


def export(net, path):
    # TRAINING keeps batch norm (EVAL would fold it into the convolutions)
    # with the parameter names of the state dict. LayerNormalization is an
    # operator from opset 17 on (PyTorch writes its parts before).
    opset = 17 if isinstance(net, (LayerNormMLP, Mixer)) else None
    torch.onnx.export(net, torch.zeros(2, 1, SIZE, SIZE), path,
                      opset_version=opset,
                      training=torch.onnx.TrainingMode.TRAINING,
                      do_constant_folding=False, input_names=["image"],
                      output_names=["logits"],
                      dynamic_axes={"image": {0: "N"}, "logits": {0: "N"}})


def read_idx(path):
    data = common.read_bytes(path)
    if data[3] == 3:
        n, h, w = np.frombuffer(data[4:16], dtype=">u4")
        return np.frombuffer(data[16:], dtype=np.uint8).reshape(n, h, w)
    return np.frombuffer(data[8:], dtype=np.uint8)


def onnx_weights(path):
    """The initializers of an ONNX file in PyTorch's layout: a MatMul's B
    that PyTorch made of a Linear's weight (named after it, or
    onnx::MatMul_...) is [in, out] where the Linear holds [out, in]; a bare
    parameter multiplied as it is (Attention's wq) keeps its layout."""
    model = onnx.load(path)
    matmul_b = {n.input[1] for n in model.graph.node
                if n.op_type == "MatMul" and (n.input[1].startswith("onnx::")
                                          or n.input[1].endswith(".weight"))}
    return {t.name: onnx.numpy_helper.to_array(t).T if t.name in matmul_b
            else onnx.numpy_helper.to_array(t)
            for t in model.graph.initializer}


class Tokens(nn.Module):
    """nn.Embedding of int64 ids, exported as Gather of the table by an
    INT64 input, then Flatten and Linear."""

    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(20, 6)
        self.fc = nn.Linear(5 * 6, 3)

    def forward(self, ids):
        return self.fc(self.emb(ids).flatten(1))


class Transformer(nn.Module):
    """A 2-layer nn.TransformerEncoder (GELU, pre-norm off) over embedded
    tokens and a learned position embedding, with a causal mask (a -inf
    buffer), classifying the mean of its outputs. PyTorch's attention
    computes sequence first: its export transposes the batch away from axis
    0 and reshapes it with the heads, [T, N * heads, d]."""

    LENGTH, VOCAB = 8, 20

    def __init__(self):
        super().__init__()
        t, d = self.LENGTH, 16
        self.emb = nn.Embedding(self.VOCAB, d)
        self.pos = nn.Parameter(torch.randn(t, d) * 0.1)
        layer = nn.TransformerEncoderLayer(d, 2, 32, dropout=0.0,
                                           activation="gelu",
                                           batch_first=True)
        self.enc = nn.TransformerEncoder(layer, 2)
        self.fc = nn.Linear(d, 3)
        self.register_buffer("mask", torch.triu(
            torch.full((t, t), float("-inf")), 1))

    def forward(self, ids):
        h = self.enc(self.emb(ids) + self.pos, mask=self.mask)
        return self.fc(h.mean(dim=1))


class LanguageModel(Transformer):
    """The transformer as a language model: the logits of the next token
    at every position, [N, T, vocab], trained with a label per token (some
    of them PyTorch's ignore_index -100). Its causal mask is made in
    forward (the export holds it as a Constant node of -inf above the
    diagonal, which gradc takes as a fixed mask)."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(16, self.VOCAB)

    def forward(self, ids):
        t = self.LENGTH
        mask = torch.triu(torch.full((t, t), float("-inf")), 1)
        return self.fc(self.enc(self.emb(ids) + self.pos, mask=mask))


def runtime(gradc, scratch, ort, check, name, model, ckpt, exported, inputs):
    """gradc's export of the trained model in ONNX Runtime (`ort`,
    onnxruntime-node) gives `gradc predict`'s probabilities within 1e-5 on
    `inputs` (an IDX file of images, or a .npy of ids)."""
    ours = os.path.join(scratch, name + "_gradc.npy")
    code, out, err = common.run([gradc, "predict", model, "--weights", ckpt,
                                 "--input", inputs, "-o", ours], timeout=120)
    if not check.check(code == 0, "%s: gradc predict failed" % name,
                       out + err):
        return
    probs = np.load(ours)
    theirs = os.path.join(scratch, name + "_ort.f32")
    runner = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                          "ort_run.js")
    code, out, err = common.run(["node", runner, ort, exported, inputs,
                                 theirs], timeout=120)
    if check.check(code == 0, "%s: ONNX Runtime failed" % name, out + err):
        got = np.fromfile(theirs, dtype="<f4")
        err = float(np.max(np.abs(probs.reshape(-1) - got))) \
            if got.size == probs.size else float("inf")
        print("%-10s ONNX Runtime: max |gradc - ort| = %.2e over %d "
              "examples" % (name, err, len(probs)))
        check.check(err <= 1e-5, "%s: ONNX Runtime differs by %.3g"
                    % (name, err))


def sequence_model(gradc, scratch, ort, check, name, cls, length, vocab):
    """A token model exported by PyTorch, trained by gradc from int64 ids
    in .npy files, against PyTorch, step for step (ids repeat within each
    batch); gradc's export of the trained model in ONNX Runtime (`ort`,
    onnxruntime-node) gives `gradc predict`'s probabilities within 1e-5."""
    rng = np.random.default_rng(4)
    x = rng.integers(0, vocab, (96, length)).astype(np.int64)
    per_token = cls is LanguageModel
    if per_token:  # the next token at each position; every 5th ignored
        y = np.concatenate([x[:, 1:], x[:, :1]], axis=1)
        y.reshape(-1)[::5] = -100
    else:
        y = rng.integers(0, 3, 96).astype(np.int64)
    np.save(os.path.join(scratch, name + "_x.npy"), x)
    np.save(os.path.join(scratch, name + "_y.npy"), y)
    torch.manual_seed(2)
    net = cls()
    path = os.path.join(scratch, name + ".onnx")
    torch.onnx.export(net, torch.zeros(2, length, dtype=torch.int64), path,
                      input_names=["ids"], output_names=["logits"],
                      training=torch.onnx.TrainingMode.TRAINING,
                      do_constant_folding=False,
                      dynamic_axes={"ids": {0: "N"}, "logits": {0: "N"}})
    model = os.path.join(scratch, name + ".pbtxt")
    with open(model, "w") as f:
        f.write('name: "%s"\nnetwork { onnx: "%s.onnx" }\n'
                "loss { sparse_categorical_crossentropy { %s} }\n"
                "optimizer { sgd { learning_rate: %g } }\n"
                "training { batch_size: %d seed: 1 }\n"
                'data { numpy { x: "%s" y: "%s" } }\n'
                % (name, name, "ignore_index: -100 " if per_token else "",
                   LR, BATCH,
                   os.path.join(scratch, name + "_x.npy"),
                   os.path.join(scratch, name + "_y.npy")))
    ref = cls().double()
    ref.load_state_dict(net.state_dict())
    opt = torch.optim.SGD(ref.parameters(), lr=LR)
    steps = 10
    ckpt = os.path.join(scratch, name + ".ckpt")
    code, out, err = common.run([gradc, "train", model, "--max-steps",
                                 str(steps), "--no-shuffle", "--threads", "1",
                                 "--checkpoint", ckpt], timeout=180)
    if not check.check(code == 0, "%s: gradc train failed" % name,
                       out + err):
        return
    exported = os.path.join(scratch, name + "_trained.onnx")
    code, out, err = common.run([gradc, "export", model, "--weights", ckpt,
                                 "-o", exported], timeout=60)
    if not check.check(code == 0, "%s: gradc export failed" % name,
                       out + err):
        return
    runtime(gradc, scratch, ort, check, name, model, ckpt, exported,
            os.path.join(scratch, name + "_x.npy"))
    xs, ys = torch.from_numpy(x), torch.from_numpy(y)
    for step in range(steps):
        batch = slice(step * BATCH, (step + 1) * BATCH)
        opt.zero_grad()
        logits = ref(xs[batch])
        nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]),
                                    ys[batch].reshape(-1),
                                    ignore_index=-100).backward()
        opt.step()
    ours = onnx_weights(exported)
    for key, value in ref.named_parameters():
        theirs = value.detach().numpy()
        mine = ours.get(key)
        if not check.check(mine is not None and mine.size == theirs.size,
                           "%s: %s missing from gradc's export (%s)"
                           % (name, key, sorted(ours))):
            continue
        if mine.shape != theirs.shape and mine.T.shape == theirs.shape:
            mine = mine.T  # a kernel [in, out] of a Linear's [out, in]
        rel = float(np.max(np.abs(mine.reshape(theirs.shape) - theirs)) /
                    max(float(np.max(np.abs(theirs))), 1e-6))
        print("%-10s %s after %d steps: %.2e relative" % (name, key, steps,
                                                         rel))
        check.check(rel <= TOLERANCE, "%s: %s differs from PyTorch by "
                    "%.3g (relative)" % (name, key, rel))


def main():
    gradc, scratch, ort = sys.argv[1], sys.argv[2], sys.argv[3]
    os.makedirs(scratch, exist_ok=True)
    check = common.Checker()
    data = common.make_dataset(os.path.join(scratch, "data"), n_train=96,
                               n_test=16)
    images = read_idx(os.path.join(data, "train-images-idx3-ubyte"))
    labels = read_idx(os.path.join(data, "train-labels-idx1-ubyte"))
    x_all = torch.from_numpy(images.astype(np.float64) / 255.0)[:, None]
    y_all = torch.from_numpy(labels.astype(np.int64))

    for name, cls in (("mlp", MLP), ("lenet", LeNet), ("resnet", ResNet),
                      ("separable", Separable), ("gelu", GeluMLP),
                      ("transposed", Transposed), ("mlp_ln", LayerNormMLP),
                      ("arith", Arith), ("unary", UnaryMLP), ("trig", Trig),
                      ("reduced", Reduced), ("norms", Norms),
                      ("conv1d", Conv1D),
                      ("mixer", Mixer), ("attention", Attention)):
        torch.manual_seed(1)
        net = cls()
        with torch.no_grad():  # statistics away from 0 and 1
            for m in net.modules():
                if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
                    m.running_mean.uniform_(-0.2, 0.2)
                    m.running_var.uniform_(0.5, 1.5)
                    m.weight.uniform_(0.8, 1.2)
                    m.bias.uniform_(-0.2, 0.2)
                if isinstance(m, nn.LayerNorm):
                    m.weight.uniform_(0.8, 1.2)
                    m.bias.uniform_(-0.2, 0.2)
        path = os.path.join(scratch, name + ".onnx")
        export(net, path)
        model = os.path.join(scratch, name + ".pbtxt")
        with open(model, "w") as f:
            f.write('name: "%s"\nnetwork { onnx: "%s.onnx" }\n' % (name, name))
            f.write("loss { sparse_categorical_crossentropy {} }\n")
            f.write("optimizer { sgd { learning_rate: %g } }\n" % LR)
            f.write("training { batch_size: %d epochs: 2 seed: 1 }\n" % BATCH)

        # gradc predict on the bare .onnx: PyTorch's softmax of the logits.
        test_images = os.path.join(data, "t10k-images-idx3-ubyte")
        code, out, err = common.run([gradc, "predict", path, "--input",
                                     test_images, "--threads", "1"],
                                    timeout=120)
        if check.check(code == 0, "%s: gradc predict failed" % name,
                       out + err):
            ours = np.array([[float(v) for v in
                              line.split("[")[1].rstrip("]").split()]
                             for line in out.splitlines() if "[" in line])
            x = torch.from_numpy(read_idx(test_images).astype(np.float64)
                                 / 255.0)[:, None]
            ref_net = cls().double()
            ref_net.load_state_dict(net.state_dict())
            ref_net.eval()
            with torch.no_grad():
                ref = torch.softmax(ref_net(x), dim=1).numpy()
            err = float(np.max(np.abs(ours - ref))) \
                if ours.shape == ref.shape else float("inf")
            print("%-10s predict: max |gradc - torch| = %.2e" % (name, err))
            check.check(err <= 1e-4, "%s: predictions differ by %.3g"
                        % (name, err))

        ref = cls().double()
        ref.load_state_dict(net.state_dict())
        ref.train()
        opt = torch.optim.SGD(ref.parameters(), lr=LR)
        done = 0
        for steps in (1, 10):
            ckpt = os.path.join(scratch, "%s_%d.ckpt" % (name, steps))
            code, out, err = common.run(
                [gradc, "train", model, "--data", data, "--max-steps",
                 str(steps), "--no-shuffle", "--threads", "1",
                 "--checkpoint", ckpt], timeout=180)
            if not check.check(code == 0, "%s: gradc train failed" % name,
                               out + err):
                break
            exported = os.path.join(scratch, "%s_%d.onnx" % (name, steps))
            code, out, err = common.run([gradc, "export", model, "--weights",
                                         ckpt, "-o", exported], timeout=60)
            if not check.check(code == 0, "%s: gradc export failed" % name,
                               out + err):
                break
            for step in range(done, steps):
                x = x_all[step * BATCH:(step + 1) * BATCH]
                y = y_all[step * BATCH:(step + 1) * BATCH]
                opt.zero_grad()
                nn.functional.cross_entropy(ref(x), y).backward()
                opt.step()
            done = steps
            ours = onnx_weights(exported)
            state = ref.state_dict()
            for key, value in state.items():
                if key.endswith("num_batches_tracked"):
                    continue
                theirs = value.detach().numpy()
                mine = ours.get(key)
                if not check.check(mine is not None and
                                   mine.size == theirs.size,
                                   "%s: %s missing from gradc's export (%s)"
                                   % (name, key, sorted(ours))):
                    continue
                mine = mine.reshape(theirs.shape)
                rel = float(np.max(np.abs(mine - theirs)) /
                            max(float(np.max(np.abs(theirs))), 1e-6))
                check.check(rel <= TOLERANCE,
                            "%s: %s after %d steps differs from PyTorch by "
                            "%.3g (relative)" % (name, key, steps, rel))
            print("%-10s %2d steps: %d tensors compared" %
                  (name, steps, len(state)))
        if done == 10:
            runtime(gradc, scratch, ort, check, name, model, ckpt, exported,
                    test_images)
    sequence_model(gradc, scratch, ort, check, "tokens", Tokens, 5, 20)
    sequence_model(gradc, scratch, ort, check, "transformer", Transformer,
                   Transformer.LENGTH, Transformer.VOCAB)
    sequence_model(gradc, scratch, ort, check, "lm", LanguageModel,
                   Transformer.LENGTH, Transformer.VOCAB)
    check.finish()


if __name__ == "__main__":
    main()
