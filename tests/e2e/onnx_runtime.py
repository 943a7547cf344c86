#===- onnx_runtime.py - gradc's ONNX exports in ONNX Runtime -*- python -*-===#
"""Trains on real Fashion-MNIST images (a subset) and exports with
--export-onnx: the example CNN (its flatten feeds a dense layer, so the
export reorders the kernel for NCHW), a sequence model (dense layers on
each row and column of [28, 28], GELU in both forms, which the export
writes as PyTorch's node chains and the import recognizes), a dense layer
on an image's channels with a permute of the image, a CNN with the four
reductions (MAX, MEAN, SUM, MIN), a ResNet with batch
norm exported from Debian's PyTorch and trained as a bare .onnx, and a CNN
with layer normalization of a feature map, of flattened features (with
scale off) and of dense features (with center off), which the export
writes as ReduceMean, Sub, Mul, Add, Sqrt and Div nodes (opset 13 has no
LayerNormalization), and a CNN with the binary layers (multiply, subtract,
power, divide, maximum, minimum) broadcasting trainable weights and
constants against a feature map, and two attention heads over the rows of
[28, 28] (the matmul layer: q k^T with transpose_b, exported as a
Transpose and a MatMul; the second also a product with a weight of 2
matrices, [N, 2, 28, 4] in NCHW, and a transpose_a product of it, that the
import refuses). Each export must pass
onnx.checker.check_model(full_check=True); ONNX Runtime (onnxruntime-node)
must give the probabilities of `gradc predict` within 1e-5 on 1,000 test
images; and the export imported again (`gradc predict FILE.onnx`, its own
weights) must give them too, except the channels model's and the binary
layers' (see below); the layer normalization's comes back as its parts. A model of the elementwise functions
(exp, log, sqrt, rsqrt, abs, neg, reciprocal, erf, softplus, softsign,
ELU, SELU, the hard sigmoid) and one of SiLU and the hard swish (exported
as x times Sigmoid or HardSigmoid) round-trip too. An embedding of int64
token ids (exported as Gather of the table by an INT64 input) trained on
ids from a .npy file gives ONNX Runtime's probabilities and round-trips,
and so does one through causal multi-head attention (its -inf mask an
initializer), and so do recurrent layers (ONNX's LSTM and GRU nodes);
one of ids [N, 4, 5] (a feature map, Gather and a Transpose
to NCHW) into a conv gives them too.

Usage: onnx_runtime.py GRADC SCRATCH_DIR SOURCE_DIR FASHION_MNIST_DIR ORT_DIR
"""

import gzip
import os
import struct
import sys

import numpy as np
import onnx
import torch

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2e_common as common  # noqa: E402
from onnx_torch import ResNet  # noqa: E402

TOLERANCE = 1e-5

LAYER_NORM_CNN = """\
name: "layer_norm_cnn"
input { name: "image" shape: [28, 28, 1] }
layer { name: "c1"  conv2d { filters: 8 kernel_size: [3, 3] strides: [2, 2] } }
layer { name: "ln1" layer_norm {} }
layer { name: "r1"  activation { kind: RELU } }
layer { name: "p1"  max_pool2d { pool_size: [2, 2] strides: [2, 2] } }
layer { name: "f"   flatten {} }
layer { name: "lnf" layer_norm { scale: false } }
layer { name: "d1"  dense { units: 32 } }
layer { name: "ln2" layer_norm { center: false epsilon: 1e-3 } }
layer { name: "r2"  activation { kind: RELU } }
layer { name: "out" dense { units: 10 activation: SOFTMAX } }
loss { sparse_categorical_crossentropy {} }
optimizer { adam { learning_rate: 0.003 } }
training { batch_size: 50 seed: 4 }
"""


def subset(source, target, train, test):
    """Writes the first `train` and `test` images and labels, raw IDX."""
    os.makedirs(target, exist_ok=True)
    for prefix, n in (("train", train), ("t10k", test)):
        for kind, header in (("images-idx3-ubyte", 16),
                             ("labels-idx1-ubyte", 8)):
            with gzip.open(os.path.join(source, "%s-%s.gz" % (prefix, kind)),
                           "rb") as f:
                data = f.read()
            per = 28 * 28 if header == 16 else 1
            out = bytearray(data[:header])
            out[4:8] = struct.pack(">I", n)
            out += data[header:header + n * per]
            with open(os.path.join(target, "%s-%s" % (prefix, kind)),
                      "wb") as f:
                f.write(out)
    return target


def write(scratch, name, shape, layers):
    """A classifier of Fashion-MNIST: `layers`, then a softmax dense."""
    path = os.path.join(scratch, name + ".pbtxt")
    with open(path, "w") as f:
        f.write('name: "%s"\ninput { name: "image" shape: %s }\n'
                % (name, shape))
        f.write("\n".join(layers) + "\n")
        f.write('layer { name: "out" dense { units: 10 activation: SOFTMAX } }\n'
                "loss { sparse_categorical_crossentropy {} }\n"
                "optimizer { adam { learning_rate: 0.001 } }\n"
                "training { batch_size: 50 seed: 1 }\n")
    return path


def read_npy(path):
    return np.load(path)


def embedding_case(gradc, scratch, runner, ort, check, name, shape, layers,
                   reimport):
    """An embedding of int64 ids [N, *shape] and `layers` after it, trained
    on ids from a .npy file and exported (Gather, and a Transpose to NCHW
    when the output is 4-D), against ONNX Runtime; imported again when
    `reimport` (the importer takes Gather of ids [N, T] only)."""
    rng = np.random.default_rng(2)
    x = rng.integers(0, 30, (200,) + shape).astype(np.int64)
    y = (x.reshape(200, -1)[:, 0] % 3).astype(np.int64)
    ids, labels = (os.path.join(scratch, name + f)
                   for f in ("_ids.npy", "_y.npy"))
    np.save(ids, x)
    np.save(labels, y)
    model = os.path.join(scratch, name + ".pbtxt")
    with open(model, "w") as f:
        f.write('name: "%s"\n'
                'input { name: "ids" shape: %s dtype: INT64 }\n'
                'layer { name: "emb" embedding { input_dim: 30 output_dim: 8 } }\n'
                '%s'
                'layer { name: "out" dense { units: 3 activation: SOFTMAX } }\n'
                'loss { sparse_categorical_crossentropy {} }\n'
                'optimizer { adam { learning_rate: 0.01 } }\n'
                'training { batch_size: 20 }\n'
                'data { numpy { x: "%s" y: "%s" } }\n'
                % (name, list(shape), layers, ids, labels))
    exported = os.path.join(scratch, name + ".onnx")
    ckpt = os.path.join(scratch, name + ".ckpt")
    code, out, err = common.run([gradc, "train", model, "--max-steps", "20",
                                 "--checkpoint", ckpt, "--export-onnx",
                                 exported], timeout=300)
    if not check.check(code == 0, "%s: gradc train failed" % name, out + err):
        return
    graph = onnx.load(exported)
    try:
        onnx.checker.check_model(graph, full_check=True)
    except Exception as e:  # noqa: BLE001
        check.check(False, "%s: onnx.checker: %s" % (name, e))
    check.check("Gather" in [n.op_type for n in graph.graph.node],
                "%s: no Gather node in the export" % name)
    ours = os.path.join(scratch, name + "_gradc.npy")
    code, out, err = common.run([gradc, "predict", model, "--weights", ckpt,
                                 "--input", ids, "-o", ours], timeout=300)
    if not check.check(code == 0, "%s: gradc predict failed" % name,
                       out + err):
        return
    probs = read_npy(ours)
    theirs = os.path.join(scratch, name + "_ort.f32")
    code, out, err = common.run(["node", runner, ort, exported, ids, theirs],
                                timeout=300)
    if check.check(code == 0, "%s: ONNX Runtime failed" % name, out + err):
        ref = np.fromfile(theirs, dtype="<f4").reshape(probs.shape)
        err = float(np.max(np.abs(probs - ref)))
        print("%s ONNX Runtime: max |gradc - ort| = %.2e over %d examples"
              % (name, err, len(ref)))
        check.check(err <= TOLERANCE, "%s: ONNX Runtime differs by %.3g"
                    % (name, err))
    if not reimport:
        return
    again = os.path.join(scratch, name + "_again.npy")
    code, out, err = common.run([gradc, "predict", exported, "--input", ids,
                                 "-o", again], timeout=300)
    if check.check(code == 0, "%s: gradc predict of the export failed"
                   % name, out + err):
        err = float(np.max(np.abs(read_npy(again) - probs)))
        print("%s round trip: max |reimported - gradc| = %.2e" % (name, err))
        check.check(err <= TOLERANCE, "%s: the re-imported export differs "
                    "by %.3g" % (name, err))


def main():
    gradc, scratch, source, fashion, ort = sys.argv[1:6]
    os.makedirs(scratch, exist_ok=True)
    check = common.Checker()
    data = subset(fashion, os.path.join(scratch, "data"), 2000, 1000)
    images = os.path.join(data, "t10k-images-idx3-ubyte")
    runner = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                          "ort_run.js")

    torch.manual_seed(0)
    resnet = os.path.join(scratch, "resnet.onnx")
    torch.onnx.export(ResNet(classes=10), torch.zeros(2, 1, 28, 28), resnet,
                      training=torch.onnx.TrainingMode.TRAINING,
                      do_constant_folding=False, input_names=["image"],
                      output_names=["logits"],
                      dynamic_axes={"image": {0: "N"}, "logits": {0: "N"}})
    # A sequence model: each image as 28 rows of 28 features, a dense layer
    # on every row (MatMul and Add on [N, 28, 28]), then on every column
    # (a permute: Transpose), GELU in both forms (which the export writes as
    # PyTorch's node chains), rows 2 to 25 sliced between them.
    rows = write(scratch, "rows_gelu", [28, 28], [
        'layer { name: "rows" dense { units: 16 activation: GELU } }',
        'layer { name: "crop" slice { axis: 1 begin: 2 size: 24 } }',
        'layer { name: "swap" permute { dims: [2, 1] } }',
        'layer { name: "cols" dense { units: 8 } }',
        'layer { name: "flat" flatten {} }',
        'layer { name: "fc2" dense { units: 32 } }',
        'layer { name: "act" activation { kind: GELU_TANH } }'])
    # A dense layer on an image's channels (MatMul between Transposes to NHWC
    # and back: no round trip, the importer takes MatMul of [N, T, D] only)
    # of 3 of its 4 channels (a slice: ONNX's Slice of axis 1) and a permute
    # of an image (H and W swapped: one Transpose of NCHW).
    channels = write(scratch, "channels", [28, 28, 1], [
        'layer { name: "c1" conv2d { filters: 4 kernel_size: [3, 3] '
        'activation: RELU } }',
        'layer { name: "three" slice { axis: 3 begin: 1 size: 3 } }',
        'layer { name: "mix" dense { units: 6 activation: SIGMOID } }',
        'layer { name: "swap" permute { dims: [2, 1, 3] } }',
        'layer { name: "c2" conv2d { filters: 4 kernel_size: [3, 2] } }',
        'layer { name: "pool" global_avg_pool2d {} }'])
    # The binary layers with NumPy broadcasting against trainable weights
    # (one per channel: Unsqueeze and Transpose to NCHW in the export; one
    # per pixel: an NCHW initializer) and constants.
    arith = write(scratch, "arith", [28, 28, 1], [
        'layer { name: "c1" conv2d { filters: 4 kernel_size: [3, 3] '
        'strides: [2, 2] } }',
        'layer { name: "gain" weight { shape: [4] initializer { uniform { '
        'minval: 0.5 maxval: 1.5 } } } }',
        'layer { name: "scaled" multiply {} inputs: ["c1", "gain"] }',
        'layer { name: "shift" weight { shape: [13, 13, 1] } }',
        'layer { name: "shifted" subtract {} inputs: ["scaled", "shift"] }',
        'layer { name: "relu" activation { kind: RELU } }',
        'layer { name: "two" constant { value: 2 } }',
        'layer { name: "sq" power {} inputs: ["relu", "two"] }',
        'layer { name: "sig" activation { kind: SIGMOID } '
        'inputs: ["shifted"] }',
        'layer { name: "one" constant { shape: [1, 1, 4] value: 1 } }',
        'layer { name: "den" add {} inputs: ["sig", "one"] }',
        'layer { name: "ratio" divide {} inputs: ["sq", "den"] }',
        'layer { name: "hi" maximum {} inputs: ["ratio", "shifted"] }',
        'layer { name: "lo" minimum {} inputs: ["hi", "two"] }',
        'layer { name: "f" flatten {} }'])
    # The elementwise functions of ir/UnaryFunctions.def (each exported as
    # its opset-13 node, ELU's and the hard sigmoid's alpha as attributes),
    # fused into a conv and dense layers and as activation layers; rsqrt
    # as Sqrt and Reciprocal. Each on its domain (after a positive one).
    unary = write(scratch, "unary", [28, 28, 1], [
        'layer { name: "c1" conv2d { filters: 4 kernel_size: [3, 3] '
        'activation: ELU alpha: 0.5 } }',
        'layer { name: "sp" activation { kind: SOFTPLUS } }',
        'layer { name: "sq" activation { kind: SQRT } }',
        'layer { name: "pool" max_pool2d { pool_size: [2, 2] } }',
        'layer { name: "flat" flatten {} }',
        'layer { name: "fc1" dense { units: 32 activation: SELU } }',
        'layer { name: "hs" activation { kind: HARD_SIGMOID alpha: 0.25 } }',
        'layer { name: "fc2" dense { units: 16 activation: SOFTSIGN } }',
        'layer { name: "er" activation { kind: ERF } }',
        'layer { name: "ex" activation { kind: EXP } }',
        'layer { name: "rs" activation { kind: RSQRT } }',
        'layer { name: "rc" activation { kind: RECIPROCAL } }',
        'layer { name: "lg" activation { kind: LOG } }',
        'layer { name: "ng" activation { kind: NEG } }',
        'layer { name: "ab" activation { kind: ABS } }'])
    # SiLU and the hard swish: x times Sigmoid or HardSigmoid (opset 13 has
    # no HardSwish), which the import takes back as one function each.
    swish = write(scratch, "swish", [28, 28, 1], [
        'layer { name: "c1" conv2d { filters: 4 kernel_size: [3, 3] '
        'activation: SILU } }',
        'layer { name: "flat" flatten {} }',
        'layer { name: "fc1" dense { units: 16 activation: HARD_SWISH } }'])
    # The four reductions: the maximum over the channels with keepdims, the
    # mean over W with keepdims, the sum over H of [N, H, 1, C] (ONNX's
    # [N, C, 1], then a Transpose to gradc's [N, 1, C]), a dense layer on
    # its rows and the minimum over them.
    reduce = write(scratch, "reduce", [28, 28, 1], [
        'layer { name: "c1" conv2d { filters: 6 kernel_size: [3, 3] '
        'activation: RELU } }',
        'layer { name: "cmax" reduce { op: MAX axes: [3] keepdims: true } }',
        'layer { name: "c2" conv2d { filters: 4 kernel_size: [3, 3] '
        'strides: [2, 2] } }',
        'layer { name: "wmean" reduce { axes: [2] keepdims: true } }',
        'layer { name: "hsum" reduce { op: SUM axes: [1] } }',
        'layer { name: "d1" dense { units: 8 activation: TANH } }',
        'layer { name: "rmin" reduce { op: MIN axes: [1] } }'])
    # Attention over the rows: q k^T, a softmax of each row, the mix of the
    # values; then (heads) its product with 2 matrices of a weight and a
    # transpose_a product of that with itself (4-D: NCHW in the file).
    attention_layers = [
        'layer { name: "q" dense { units: 16 } }',
        'layer { name: "k" dense { units: 16 } inputs: ["image"] }',
        'layer { name: "v" dense { units: 8 } inputs: ["image"] }',
        'layer { name: "s" matmul { transpose_b: true } inputs: ["q", "k"] }',
        'layer { name: "a" activation { kind: SOFTMAX } }',
        'layer { name: "o" matmul {} inputs: ["a", "v"] }']
    attention = write(scratch, "attention", [28, 28], attention_layers + [
        'layer { name: "flat" flatten {} }'])
    heads = write(scratch, "heads", [28, 28], attention_layers + [
        'layer { name: "w" weight { shape: [2, 8, 4] } }',
        'layer { name: "p" matmul {} inputs: ["o", "w"] }',
        'layer { name: "g" matmul { transpose_a: true } inputs: ["p", "p"] }',
        'layer { name: "flat" flatten {} }'])
    layer_norm = os.path.join(scratch, "layer_norm_cnn.pbtxt")
    with open(layer_norm, "w") as f:
        f.write(LAYER_NORM_CNN)
    # One batch size (50 divides every set) so that each model compiles once
    # per command. (name, model, flags, whether the export imports again)
    cases = (("cnn", os.path.join(source, "examples/fashion_mnist_cnn.pbtxt"),
              ["--max-steps", "30"], True),
             ("resnet", resnet, ["--max-steps", "20"], True),
             ("rows", rows, ["--max-steps", "30"], True),
             ("channels", channels, ["--max-steps", "20"], False),
             # A Transpose of a constant: not a node gradc imports.
             ("arith", arith, ["--max-steps", "20"], False),
             ("unary", unary, ["--max-steps", "20"], True),
             ("swish", swish, ["--max-steps", "20"], True),
             ("reduce", reduce, ["--max-steps", "20"], True),
             ("attention", attention, ["--max-steps", "20"], True),
             # A MatMul of 4-D activations: not imported (NCHW images).
             ("heads", heads, ["--max-steps", "20"], False),
             # Imported again as its parts (ReduceMean, Sub, Mul, Sqrt, Div).
             ("lnorm", layer_norm, ["--max-steps", "30"], True))
    for name, model, flags, reimport in cases:
        exported = os.path.join(scratch, name + "_trained.onnx")
        ckpt = os.path.join(scratch, name + ".ckpt")
        code, out, err = common.run(
            [gradc, "train", model, "--data", data, "--threads", "2",
             "--batch-size", "50", "--checkpoint", ckpt, "--export-onnx",
             exported] + flags,
            timeout=400)
        if not check.check(code == 0, "%s: gradc train failed" % name,
                           out + err):
            continue
        try:
            onnx.checker.check_model(onnx.load(exported), full_check=True)
        except Exception as e:  # noqa: BLE001
            check.check(False, "%s: onnx.checker: %s" % (name, e))
        ours = os.path.join(scratch, name + "_gradc.npy")
        code, out, err = common.run(
            [gradc, "predict", model, "--weights", ckpt, "--input", images,
             "--batch-size", "50", "-o", ours], timeout=300)
        if not check.check(code == 0, "%s: gradc predict failed" % name,
                           out + err):
            continue
        probs = read_npy(ours)
        theirs = os.path.join(scratch, name + "_ort.f32")
        layout = ["rows"] if name in ("rows", "attention", "heads") else []
        code, out, err = common.run(["node", runner, ort, exported, images,
                                     theirs] + layout, timeout=300)
        if not check.check(code == 0, "%s: ONNX Runtime failed" % name,
                           out + err):
            continue
        ref = np.fromfile(theirs, dtype="<f4").reshape(probs.shape)
        err = float(np.max(np.abs(probs - ref)))
        agree = float(np.mean(probs.argmax(1) == ref.argmax(1)))
        print("%-7s ONNX Runtime: max |gradc - ort| = %.2e over %d images, "
              "same class for %.1f%%" % (name, err, len(ref), 100 * agree))
        check.check(err <= TOLERANCE, "%s: ONNX Runtime differs by %.3g"
                    % (name, err))
        if not reimport:
            continue
        # Round trip: the export imported again, with its own weights.
        again = os.path.join(scratch, name + "_again.npy")
        code, out, err = common.run([gradc, "predict", exported, "--input",
                                     images, "--batch-size", "50", "-o",
                                     again], timeout=300)
        if check.check(code == 0, "%s: gradc predict of the export failed"
                       % name, out + err):
            err = float(np.max(np.abs(read_npy(again) - probs)))
            print("%-7s round trip: max |reimported - gradc| = %.2e"
                  % (name, err))
            check.check(err <= TOLERANCE, "%s: the re-imported export "
                        "differs by %.3g" % (name, err))
    # Ids [N, 6]: a dense layer on each position's row, a flatten.
    embedding_case(gradc, scratch, runner, ort, check, "embedding", (6,),
                   'layer { name: "row" dense { units: 5 activation: TANH } }\n'
                   'layer { name: "flat" flatten {} }\n', True)
    # Ids [N, 6]: causal multi-head attention with a residual add
    # (exported as PyTorch writes it: projections, heads, the -inf mask).
    embedding_case(gradc, scratch, runner, ort, check, "mha", (6,),
                   'layer { name: "attn" multi_head_attention { heads: 2 '
                   'causal: true } }\n'
                   'layer { name: "res" add {} inputs: ["emb", "attn"] }\n'
                   'layer { name: "flat" flatten {} }\n', True)
    # Ids [N, 6]: a bidirectional LSTM's sequence read by a reverse GRU's
    # last state, and a GRU's sequence read by an LSTM without biases
    # (ONNX's LSTM and GRU nodes over the time-major sequence).
    embedding_case(gradc, scratch, runner, ort, check, "recurrent", (6,),
                   'layer { name: "lstm" lstm { units: 5 return_sequences: '
                   'true direction: BIDIRECTIONAL } }\n'
                   'layer { name: "gru" gru { units: 4 direction: REVERSE } }'
                   '\n', True)
    embedding_case(gradc, scratch, runner, ort, check, "recurrent_gru", (6,),
                   'layer { name: "gru" gru { units: 4 return_sequences: '
                   'true direction: BIDIRECTIONAL } }\n'
                   'layer { name: "lstm" lstm { units: 3 use_bias: false } }'
                   '\n', True)
    # Ids [N, 4, 5]: a [4, 5, 8] map (NCHW in the export) through a conv,
    # a dense layer on its channels and a flatten.
    embedding_case(gradc, scratch, runner, ort, check, "embedding_map",
                   (4, 5),
                   'layer { name: "c" conv2d { filters: 6 kernel_size: [3, 3] '
                   'padding: SAME activation: RELU } }\n'
                   'layer { name: "ch" dense { units: 4 } }\n'
                   'layer { name: "flat" flatten {} }\n', False)
    check.finish()


if __name__ == "__main__":
    main()
