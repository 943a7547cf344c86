#===- embedding_torch.py - embedding layers against PyTorch -*- python -*-===#
"""gradc's embedding layer against PyTorch's nn.Embedding, step for step,
and a training run from int64 NumPy ids.

Token ids [N, 8] (int64, in [0, 50), repeated within every batch) go
through an embedding of 50 rows of 16, a flatten and a dense classifier
with cross-entropy. gradc and Debian's PyTorch (in double) start from the
same weights and take the same steps, once with SGD and once with Adam;
every weight must then agree within 1e-5 relative (to the largest value of
the tensor). Then gradc trains the model for a few epochs from the .npy
files and must beat chance clearly, and `gradc predict` reads int64 ids.

Usage: embedding_torch.py GRADC SCRATCH_DIR SOURCE_DIR
"""

import os
import sys

import numpy as np
import torch

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2e_common as common  # noqa: E402

N, T, VOCAB, WIDTH, CLASSES = 96, 8, 50, 16, 4
STEPS, BATCH = 6, 8
TOLERANCE = 1e-5


def write_data(scratch):
    """Ids whose class is which quarter of the vocabulary most of them come
    from; every example repeats its first id at its end."""
    rng = np.random.default_rng(5)
    y = rng.integers(0, CLASSES, N).astype(np.int64)
    x = rng.integers(0, VOCAB, (N, T)).astype(np.int64)
    for i in range(N):
        lo = y[i] * (VOCAB // CLASSES)
        x[i, :5] = rng.integers(lo, lo + VOCAB // CLASSES, 5)
    x[:, T - 1] = x[:, 0]
    paths = (os.path.join(scratch, "ids.npy"), os.path.join(scratch, "y.npy"))
    np.save(paths[0], x)
    np.save(paths[1], y)
    return x, y, paths


def write_model(path, optimizer, data, epochs=1):
    with open(path, "w") as f:
        f.write('name: "embed_%s"\n' % optimizer.split()[0])
        f.write('input { name: "ids" shape: [%d] dtype: INT64 }\n' % T)
        f.write('layer { name: "emb" embedding { input_dim: %d output_dim: %d } }\n'
                % (VOCAB, WIDTH))
        f.write('layer { name: "flat" flatten {} }\n')
        f.write('layer { name: "out" dense { units: %d activation: SOFTMAX } }\n'
                % CLASSES)
        f.write("loss { sparse_categorical_crossentropy {} }\n")
        f.write("optimizer { %s }\n" % optimizer)
        f.write("training { batch_size: %d epochs: %d seed: 3 }\n"
                % (BATCH, epochs))
        f.write('data { numpy { x: "%s" y: "%s" } }\n' % data)
    return path


class Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = torch.nn.Embedding(VOCAB, WIDTH)
        self.out = torch.nn.Linear(T * WIDTH, CLASSES)

    def forward(self, ids):
        return self.out(self.emb(ids).flatten(1))


def compare(gradc, scratch, check, pb, name, optimizer, make_opt, x, y, data):
    model = write_model(os.path.join(scratch, name + ".pbtxt"), optimizer, data)
    template = os.path.join(scratch, name + ".template.ckpt")
    code, out, err = common.run([gradc, "train", model, "--max-steps", "1",
                                 "--threads", "1", "--checkpoint", template],
                                timeout=120)
    if not check.check(code == 0, name + ": template run failed", out + err):
        return
    ckpt = pb.Checkpoint()
    with open(template, "rb") as f:
        ckpt.ParseFromString(f.read())
    torch.manual_seed(0)
    net = Net().double()
    tensors = {"emb.embeddings": net.emb.weight, "out.kernel": net.out.weight,
               "out.bias": net.out.bias}
    # gradc's dense kernel is [in, out], PyTorch's weight [out, in].
    to_torch = {"out.kernel": lambda v: v.T}
    rng = np.random.default_rng(11)
    for t in ckpt.param:
        value = rng.uniform(-0.5, 0.5, tuple(t.shape)).astype(np.float32)
        del t.data[:]
        t.data.extend(value.ravel().tolist())
        value = to_torch.get(t.name, lambda v: v)(value)
        with torch.no_grad():
            tensors[t.name].copy_(torch.from_numpy(
                np.ascontiguousarray(value).astype(np.float64)))
    check.check(sorted(t.name for t in ckpt.param) == sorted(tensors),
                name + ": gradc's parameters %s" % [t.name for t in ckpt.param])
    init = os.path.join(scratch, name + ".init.ckpt")
    common.write_checkpoint(ckpt, init)

    trained = os.path.join(scratch, name + ".trained.ckpt")
    code, out, err = common.run(
        [gradc, "train", model, "--init-from", init, "--max-steps", str(STEPS),
         "--no-shuffle", "--threads", "1", "--checkpoint", trained],
        timeout=120)
    if not check.check(code == 0, name + ": gradc train failed", out + err):
        return

    opt = make_opt(net.parameters())
    xs, ys = torch.from_numpy(x), torch.from_numpy(y)
    for step in range(STEPS):
        batch = slice(step * BATCH, (step + 1) * BATCH)
        opt.zero_grad()
        torch.nn.functional.cross_entropy(net(xs[batch]), ys[batch]).backward()
        opt.step()

    result = pb.Checkpoint()
    with open(trained, "rb") as f:
        result.ParseFromString(f.read())
    check.check(result.step == STEPS, "%s: gradc ran %d steps"
                % (name, result.step))
    for t in result.param:
        ours = np.array(t.data).reshape(tuple(t.shape))
        ours = to_torch.get(t.name, lambda v: v)(ours)
        ref = tensors[t.name].detach().numpy()
        err = float(np.max(np.abs(ours - ref)) / np.max(np.abs(ref)))
        print("%s %-16s max |gradc - torch| / max |torch| = %.2e"
              % (name, t.name, err))
        check.check(err <= TOLERANCE, "%s: %s differs from PyTorch by %.3g "
                    "relative" % (name, t.name, err))


def main():
    gradc, scratch, source = sys.argv[1], sys.argv[2], sys.argv[3]
    os.makedirs(scratch, exist_ok=True)
    check = common.Checker()
    checkpoint_pb2 = common.checkpoint_module(source, scratch)

    x, y, data = write_data(scratch)
    for b in range(STEPS):
        ids = x[b * BATCH:(b + 1) * BATCH].ravel()
        check.check(len(set(ids.tolist())) < len(ids),
                    "batch %d repeats no id" % b)
    compare(gradc, scratch, check, checkpoint_pb2, "sgd",
            "sgd { learning_rate: 0.5 }",
            lambda p: torch.optim.SGD(p, lr=0.5), x, y, data)
    compare(gradc, scratch, check, checkpoint_pb2, "adam",
            "adam { learning_rate: 0.01 epsilon: 1e-8 }",
            lambda p: torch.optim.Adam(p, lr=0.01, eps=1e-8), x, y, data)

    # Training from the int64 .npy files: well above chance (25 %).
    model = write_model(os.path.join(scratch, "train.pbtxt"),
                        "adam { learning_rate: 0.01 }", data, epochs=15)
    metrics = os.path.join(scratch, "metrics.json")
    weights = os.path.join(scratch, "train.ckpt")
    code, out, err = common.run([gradc, "train", model, "--metrics-json",
                                 metrics, "--checkpoint", weights],
                                timeout=180)
    if check.check(code == 0, "training from int64 ids failed", out + err):
        epochs = common.read_metrics(metrics)
        acc = epochs[-1].get("train_accuracy", 0)
        print("train accuracy after %d epochs: %.3f" % (len(epochs), acc))
        check.check(acc >= 0.8, "train accuracy %.3f after training" % acc)
        code, out, err = common.run([gradc, "predict", model, "--weights",
                                     weights, "--input", data[0]],
                                    timeout=120)
        rows = [l for l in out.splitlines() if "[" in l]
        check.check(code == 0 and len(rows) == N,
                    "predict on int64 ids: exit %d, %d rows" % (code, len(rows)),
                    out[-500:] + err)
    check.finish()


if __name__ == "__main__":
    main()
