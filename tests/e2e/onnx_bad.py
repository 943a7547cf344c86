#===- onnx_bad.py - malformed and unsupported ONNX files -*- python -*-===#
"""Bad ONNX files get one clear line per problem (every unsupported node at
once) and exit status 1, never a crash: truncated and foreign files,
unsupported operators and attributes, missing initializers, cycles, wrong
types, dynamic shapes, and external data that points outside the model's
directory (absolute, "..", a symlink out) or beyond its file. A Gather
(an embedding) of another axis than 0, or by indices that are a constant,
not an INT64 graph input.

Usage: onnx_bad.py GRADC SCRATCH_DIR
"""

import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2e_common as common  # noqa: E402


def conv_model(nodes=None, inits=None, input_shape=("N", 1, 8, 8),
               input_type=TensorProto.FLOAT, opset=14, output=("N", "C")):
    w = numpy_helper.from_array(np.ones((2, 1, 3, 3), np.float32), "w")
    nodes = nodes if nodes is not None else [
        helper.make_node("Conv", ["x", "w"], ["c"], name="conv"),
        helper.make_node("Relu", ["c"], ["r"], name="relu"),
        helper.make_node("GlobalAveragePool", ["r"], ["g"], name="gap"),
        helper.make_node("Flatten", ["g"], ["y"], name="flat")]
    graph = helper.make_graph(
        nodes, "bad",
        [helper.make_tensor_value_info("x", input_type, list(input_shape))],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, list(output))],
        initializer=[w] if inits is None else inits)
    return helper.make_model(graph,
                             opset_imports=[helper.make_opsetid("", opset)])


def save(model, path):
    with open(path, "wb") as f:
        f.write(model.SerializeToString())
    return path


def main():
    gradc, scratch = sys.argv[1], sys.argv[2]
    os.makedirs(scratch, exist_ok=True)
    check = common.Checker()
    j = lambda name: os.path.join(scratch, name)  # noqa: E731

    good = save(conv_model(), j("good.onnx"))
    code, out, err = common.run([gradc, "summary", good])
    check.check(code == 0, "the good model is refused", out + err)

    cases = []  # (file, expected substrings, expected error lines)
    data = open(good, "rb").read()
    with open(j("truncated.onnx"), "wb") as f:
        f.write(data[:len(data) // 2])
    cases.append(("truncated.onnx", ["not an ONNX model"], 1))
    with open(j("text.onnx"), "w") as f:
        f.write("this is not a protobuf\n")
    cases.append(("text.onnx", ["not an ONNX model"], 1))

    # Two unsupported operators and an unsupported attribute: all reported.
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], name="conv"),
             helper.make_node("Floor", ["c"], ["e"], name="floor"),
             helper.make_node("MaxPool", ["e"], ["p"], name="pool",
                              kernel_shape=[2, 2], storage_order=1),
             helper.make_node("Ceil", ["p"], ["y"], name="ceil")]
    save(conv_model(nodes, output=("N", "C", "H", "W")),
         j("unsupported.onnx"))
    cases.append(("unsupported.onnx",
                  ["node 'floor' (Floor, opset 14): operator Floor is not "
                   "supported",
                   "node 'ceil' (Ceil, opset 14): operator Ceil"], 2))
    # Broadcasting that gradc refuses: a constant that varies along the
    # batch dimension, and an activation of lower rank (ONNX would align it
    # with the batch dimension). A chain that is PyTorch's GELU but for its
    # constant (x / 2) is no GELU: its Div, Erf, Add and Mul import as the
    # operators they are, and the refusal is only the constant's.
    scalars = [numpy_helper.from_array(np.array(v, np.float32), n)
               for n, v in (("two", 2.0), ("one", 1.0), ("half", 0.5))]
    per_batch = numpy_helper.from_array(np.ones((2, 2, 1, 1), np.float32),
                                        "per_batch")
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], name="conv"),
             helper.make_node("Div", ["c", "two"], ["d"], name="div"),
             helper.make_node("Erf", ["d"], ["e"], name="erf"),
             helper.make_node("Add", ["e", "one"], ["a"], name="add"),
             helper.make_node("Mul", ["c", "a"], ["m"], name="mul"),
             helper.make_node("Mul", ["m", "half"], ["h"], name="half"),
             helper.make_node("Mul", ["h", "per_batch"], ["b"], name="batch"),
             helper.make_node("GlobalAveragePool", ["b"], ["g"], name="gap"),
             helper.make_node("Flatten", ["g"], ["y"], name="flat")]
    w = numpy_helper.from_array(np.ones((2, 1, 3, 3), np.float32), "w")
    save(conv_model(nodes, inits=[w, per_batch] + scalars),
         j("broadcast_batch.onnx"))
    cases.append(("broadcast_batch.onnx",
                  ["node 'batch' (Mul, opset 14): input 1 ('per_batch') "
                   "varies along dimension 0, the batch"], 1))
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], name="conv"),
             helper.make_node("GlobalAveragePool", ["c"], ["g"], name="gap"),
             helper.make_node("Flatten", ["g"], ["f"], name="flat"),
             helper.make_node("Add", ["g", "f"], ["y"], name="ranks")]
    save(conv_model(nodes, output=("N", "C", "N2", "C2")),
         j("broadcast_ranks.onnx"))
    cases.append(("broadcast_ranks.onnx",
                  ["node 'ranks' (Add, opset 14): broadcasting [-1, 2, 1, 1] "
                   "and [-1, 2] would repeat along the batch dimension"], 1))
    # A MatMul of activations of different ranks: ONNX would align the
    # batch of one with an example's dimension of the other.
    nodes = [helper.make_node("ReduceMean", ["x"], ["r"], name="mean",
                              axes=[1], keepdims=0),
             helper.make_node("MatMul", ["x", "r"], ["m"], name="mm"),
             helper.make_node("GlobalAveragePool", ["m"], ["g"], name="gap"),
             helper.make_node("Flatten", ["g"], ["y"], name="flat")]
    save(conv_model(nodes), j("matmul_ranks.onnx"))
    cases.append(("matmul_ranks.onnx",
                  ["node 'mm' (MatMul, opset 14): a MatMul of two activations "
                   "needs both of the same rank, 3 or more ([N, ..., M, K] x "
                   "[N, ..., K, P]), got ranks 4 and 3"], 1))
    # ONNX's [N], one value per example: elementwise operators only, and
    # no broadcast against a higher rank (ONNX aligns it with the last axis).
    save(conv_model([helper.make_node("Softmax", ["x"], ["y"], name="soft",
                                      axis=0)],
                    input_shape=("N",), output=("N",)), j("softmax_1d.onnx"))
    cases.append(("softmax_1d.onnx",
                  ["node 'soft' (Softmax, opset 14): input 0 ('x') has one "
                   "value per example (ONNX's [N]); gradc holds it as [N, 1], "
                   "which only elementwise operators may read"], 1))
    graph = helper.make_graph(
        [helper.make_node("Exp", ["x"], ["e"], name="exp"),
         helper.make_node("Add", ["e", "z"], ["y"], name="mix")], "bad",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N"]),
         helper.make_tensor_value_info("z", TensorProto.FLOAT, ["N", 3])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 3])])
    save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 14)]),
         j("mix_1d.onnx"))
    cases.append(("mix_1d.onnx",
                  ["node 'mix' (Add, opset 14): one input has one value per "
                   "example (ONNX's [N]) and another more"], 1))
    # Shrink in its hard form (a step gradc has no layer for), a hard
    # sigmoid of another beta without slope.
    for op, attrs, message in (
            ("Shrink", {"lambd": 0.5}, "bias 0 with lambd 0.5 is not "
             "supported (only soft shrinkage: bias equal to lambd)"),
            ("HardSigmoid", {"alpha": 0.0, "beta": 0.6}, "alpha 0 is not "
             "supported (> 0)")):
        nodes = [helper.make_node("Conv", ["x", "w"], ["c"], name="conv"),
                 helper.make_node(op, ["c"], ["s"], name="act", **attrs),
                 helper.make_node("GlobalAveragePool", ["s"], ["g"],
                                  name="gap"),
                 helper.make_node("Flatten", ["g"], ["y"], name="flat")]
        save(conv_model(nodes), j(op + "_attrs.onnx"))
        cases.append((op + "_attrs.onnx",
                      ["node 'act' (%s, opset 14): %s" % (op, message)], 1))
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], name="conv"),
             helper.make_node("MaxPool", ["c"], ["p"], name="pool",
                              kernel_shape=[2, 2], storage_order=1),
             helper.make_node("GlobalAveragePool", ["p"], ["g"], name="gap"),
             helper.make_node("Flatten", ["g"], ["y"], name="flat")]
    save(conv_model(nodes), j("storage_order.onnx"))
    cases.append(("storage_order.onnx",
                  ["node 'pool' (MaxPool, opset 14): storage_order"], 1))

    save(conv_model(inits=[]), j("missing_init.onnx"))
    cases.append(("missing_init.onnx", ["input 'w' is neither an initializer"],
                  1))

    nodes = [helper.make_node("Relu", ["b"], ["a"], name="r1"),
             helper.make_node("Relu", ["a"], ["b"], name="r2"),
             helper.make_node("Add", ["x", "b"], ["y"], name="add")]
    save(conv_model(nodes, inits=[], output=("N", 1, 8, 8)), j("cycle.onnx"))
    cases.append(("cycle.onnx", ["node 'r1' (Relu): input 'b' is neither"], 1))

    save(conv_model(input_type=TensorProto.INT64), j("int_input.onnx"))
    cases.append(("int_input.onnx", ["invalid ONNX model"], 1))

    double = numpy_helper.from_array(np.ones((2, 1, 3, 3), np.float64), "w")
    save(conv_model(inits=[double]), j("double_weight.onnx"))
    cases.append(("double_weight.onnx", ["type DOUBLE, expected FLOAT"], 1))

    save(conv_model(input_shape=("N", 1, "H", 8)), j("dynamic.onnx"))
    cases.append(("dynamic.onnx", ["dimension 2 is 'H'; only the batch"], 1))

    # A zero stride made ONNX's own shape inference divide by zero (found
    # by fuzz/, its input is fuzz/corpus/onnx/regression-conv-zero-stride.onnx).
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], name="conv",
                              strides=[0, 1]),
             helper.make_node("GlobalAveragePool", ["c"], ["g"], name="gap"),
             helper.make_node("Flatten", ["g"], ["y"], name="flat")]
    save(conv_model(nodes), j("zero_stride.onnx"))
    cases.append(("zero_stride.onnx",
                  ["node 'conv' (Conv): attribute 'strides' must be "
                   "positive"], 1))
    # An opset-1 file whose graph output nothing computes crashed ONNX's IR
    # converter under the version converter (found by fuzz/:
    # fuzz/corpus/onnx/regression-dangling-output-opset1.onnx): the names
    # are checked before the opset is lifted.
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], name="conv"),
             helper.make_node("Relu", ["c"], ["r"], name="relu")]
    save(conv_model(nodes, opset=1), j("dangling_output.onnx"))
    cases.append(("dangling_output.onnx",
                  ["graph output 'y' is neither a graph input, an "
                   "initializer nor a node's output"], 1))
    # Shape arithmetic is folded at import, the batch size left open: a
    # Shape's dimension 0 may only become a Reshape's dimension 0, and a
    # folded constant is bounded.
    i64 = lambda v, name: numpy_helper.from_array(  # noqa: E731
        np.array(v, np.int64), name)
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], name="conv"),
             helper.make_node("Shape", ["c"], ["s"], name="shape"),
             helper.make_node("Gather", ["s", "zero"], ["n"], name="batch"),
             helper.make_node("Mul", ["n", "two"], ["n2"], name="twice"),
             helper.make_node("Reshape", ["c", "n2"], ["y"], name="flat")]
    save(conv_model(nodes, inits=[
        numpy_helper.from_array(np.ones((2, 1, 3, 3), np.float32), "w"),
        i64([0], "zero"), i64([2], "two")]), j("shape_batch.onnx"))
    cases.append(("shape_batch.onnx",
                  ["node 'flat' (Reshape, opset 14): shape [2 * N] of an "
                   "input [-1, 2, 6, 6] does not hold the batch and the other "
                   "dimensions"], 1))
    # The batch moved from ONNX's axis 0 (PyTorch's sequence-first
    # attention): as an output, into an operator that needs it first, and a
    # reshape that would split it from an example's values ([3, N, 4] as
    # [2, 6 * N]).
    seq = lambda nodes, inits=(), output=("N", 4): conv_model(  # noqa: E731
        nodes, list(inits), input_shape=("N", 3, 4), output=output)
    first = helper.make_node("Transpose", ["x"], ["t"], name="swap",
                             perm=[1, 0, 2])
    save(seq([first, helper.make_node("Relu", ["t"], ["y"], name="relu")],
             output=(3, "N", 4)),
         j("batch_output.onnx"))
    cases.append(("batch_output.onnx",
                  ["output 'y' holds the batch in ONNX's axis 1; gradc's "
                   "outputs hold it first"], 1))
    save(seq([first, helper.make_node("Flatten", ["t"], ["y"], name="flat")],
             output=(3, "N4")), j("batch_moved_flatten.onnx"))
    cases.append(("batch_moved_flatten.onnx",
                  ["node 'flat' (Flatten, opset 14): input 0 ('t') holds the "
                   "batch in ONNX's axis 1 (after a Transpose or Reshape that "
                   "moved it); Flatten needs it first"], 1))
    # A constant computed from a parameter (a slice of a position table)
    # would be a fixed tensor: refused, unless it holds an infinity (a mask).
    table = numpy_helper.from_array(
        np.arange(20, dtype=np.float32).reshape(5, 4), "table")
    save(seq([helper.make_node("Slice", ["table", "zero", "three", "zero"],
                               ["part"], name="part"),
              helper.make_node("Add", ["x", "part"], ["y"], name="add")],
             [table, i64([0], "zero"), i64([3], "three")],
             output=("N", 3, 4)),
         j("computed_constant.onnx"))
    cases.append(("computed_constant.onnx",
                  ["node 'add' (Add, opset 14): input 1 ('part') is a "
                   "Constant node, or computed from constants, of distinct "
                   "values"], 1))
    save(seq([first,
              helper.make_node("Shape", ["t"], ["s"], name="shape"),
              helper.make_node("Gather", ["s", "one"], ["n"], name="batch"),
              helper.make_node("Mul", ["n", "six"], ["n6"], name="times"),
              helper.make_node("Concat", ["two", "n6"], ["to"], name="cat",
                               axis=0),
              helper.make_node("Reshape", ["t", "to"], ["y"], name="split")],
             [i64([1], "one"), i64([6], "six"), i64([2], "two")],
             output=(2, "N6")), j("batch_split.onnx"))
    cases.append(("batch_split.onnx",
                  ["node 'split' (Reshape, opset 14): shape [2, 6 * N] of an "
                   "input [3, -1, 4] splits the batch from the values around "
                   "it"], 1))
    nodes = [helper.make_node("ConstantOfShape", ["big"], ["k"], name="fill"),
             helper.make_node("Conv", ["x", "w"], ["c"], name="conv"),
             helper.make_node("GlobalAveragePool", ["c"], ["g"], name="gap"),
             helper.make_node("Flatten", ["g"], ["f"], name="flat"),
             helper.make_node("Mul", ["f", "k"], ["y"], name="mul")]
    save(conv_model(nodes, inits=[
        numpy_helper.from_array(np.ones((2, 1, 3, 3), np.float32), "w"),
        i64([1 << 20, 1 << 20, 1 << 20], "big")]), j("huge_constant.onnx"))
    cases.append(("huge_constant.onnx",
                  ["node 'fill' (ConstantOfShape, opset 14): shape [1048576, "
                   "1048576, 1048576] is negative or holds more than 16777216 "
                   "values"], 1))
    save(conv_model(input_shape=("N", 8, 8)), j("conv_3d_input.onnx"))
    cases.append(("conv_3d_input.onnx",
                  ["node 'conv' (Conv): gradc imports 1-D and 2-D windows "
                   "only", "a weight of its rank"], 1))

    # A graph output named as the graph input (with another rank) crashed
    # ONNX's shape inference of the Conv reading that input (found by fuzz/:
    # fuzz/corpus/onnx/regression-output-is-input.onnx).
    same = conv_model()
    same.graph.output[0].name = "x"
    save(same, j("output_is_input.onnx"))
    cases.append(("output_is_input.onnx",
                  ["graph output 'x' is a graph input or an initializer"], 1))

    # LayerNormalization: over the last axis of [N, F] or [N, R, F] only.
    scale = numpy_helper.from_array(np.ones(8, np.float32), "s")
    bias = numpy_helper.from_array(np.zeros(8, np.float32), "b")
    nodes = [helper.make_node("LayerNormalization", ["x", "s", "b"], ["y"],
                              name="ln", axis=0)]
    save(conv_model(nodes, inits=[scale, bias], input_shape=("N", 8),
                    opset=17, output=("N", 8)), j("layer_norm_axis.onnx"))
    cases.append(("layer_norm_axis.onnx",
                  ["node 'ln' (LayerNormalization, opset 17): axis 0 is not "
                   "supported"], 1))
    nodes = [helper.make_node("LayerNormalization", ["x", "s", "b"], ["y"],
                              name="ln")]
    save(conv_model(nodes, inits=[scale, bias], opset=17,
                    output=("N", 1, 8, 8)), j("layer_norm_nchw.onnx"))
    cases.append(("layer_norm_nchw.onnx",
                  ["node 'ln' (LayerNormalization, opset 17): expects an "
                   "[N, features] or [N, rows, features] input, got rank 4"],
                  1))

    # Reductions: within each example only (the batch, axis 0, never).
    nodes = [helper.make_node("ReduceMean", ["x"], ["y"], name="mean",
                              axes=[0, 2])]
    save(conv_model(nodes, inits=[], output=(1, 1, 1, 8)),
         j("reduce_batch.onnx"))
    cases.append(("reduce_batch.onnx",
                  ["node 'mean' (ReduceMean, opset 14): axes [0, 2] reduce "
                   "the batch (axis 0)"], 1))
    nodes = [helper.make_node("ReduceMax", ["x"], ["y"], name="max",
                              keepdims=0)]
    save(conv_model(nodes, inits=[], output=()), j("reduce_all.onnx"))
    cases.append(("reduce_all.onnx",
                  ["node 'max' (ReduceMax, opset 14): axes [0, 1, 2, 3] "
                   "reduce the batch (axis 0)"], 1))

    save(conv_model(opset=18), j("new_opset.onnx"))
    cases.append(("new_opset.onnx", ["opset 18", "1 to 17"], 1))

    # External data: only files inside the model's directory, of the size
    # the dims need.
    outside = j("outside.bin")
    with open(outside, "wb") as f:
        f.write(np.ones(18, np.float32).tobytes())
    inner = j("models")
    os.makedirs(inner, exist_ok=True)
    with open(os.path.join(inner, "w.bin"), "wb") as f:
        f.write(np.ones(18, np.float32).tobytes())
    link = os.path.join(inner, "link.bin")
    if not os.path.lexists(link):
        os.symlink(outside, link)
    for name, location, extra, expect in (
            ("ext_ok", "w.bin", {}, None),
            ("ext_dotdot", "../outside.bin", {}, "outside the model's"),
            ("ext_absolute", outside, {}, "outside the model's"),
            ("ext_symlink", "link.bin", {}, "outside the model's"),
            ("ext_long", "w.bin", {"offset": "8"}, "does not hold the 72"),
            ("ext_missing", "none.bin", {}, "none.bin")):
        w = numpy_helper.from_array(np.ones((2, 1, 3, 3), np.float32), "w")
        w.ClearField("raw_data")
        w.data_location = TensorProto.EXTERNAL
        for k, v in dict({"location": location}, **extra).items():
            e = w.external_data.add()
            e.key, e.value = k, v
        path = save(conv_model(inits=[w]), os.path.join(inner, name + ".onnx"))
        if expect is None:
            code, out, err = common.run([gradc, "summary", path])
            check.check(code == 0, "%s: refused" % name, out + err)
        else:
            cases.append((os.path.join("models", name + ".onnx"), [expect], 1))

    # A device named .onnx, and a .pbtxt whose network is a bad file.
    dev = j("zero.onnx")
    if not os.path.lexists(dev):
        os.symlink("/dev/zero", dev)
    cases.append(("zero.onnx", ["is a device"], 1))
    with open(j("wrapper.pbtxt"), "w") as f:
        f.write('network { onnx: "unsupported.onnx" }\n'
                "loss { sparse_categorical_crossentropy {} }\n")
    cases.append(("wrapper.pbtxt", ["unsupported.onnx: error: node 'floor'"],
                  2))
    with open(j("both.pbtxt"), "w") as f:
        f.write('network { onnx: "good.onnx" }\n'
                'input { name: "x" shape: [8, 8, 1] }\n'
                "loss { sparse_categorical_crossentropy {} }\n")
    cases.append(("both.pbtxt", ["remove the input and layer"], 1))

    # Gather: rows (axis 0) of an initializer by the ids of a graph input.
    table = numpy_helper.from_array(np.ones((10, 4), np.float32), "table")
    fixed = numpy_helper.from_array(np.array([1, 2], np.int64), "fixed")
    save(conv_model([helper.make_node("Gather", ["table", "x"], ["e"],
                                      name="gather", axis=1),
                     helper.make_node("Flatten", ["e"], ["y"], name="flat")],
                    [table], input_shape=("N", 3),
                    input_type=TensorProto.INT64), j("gather_axis.onnx"))
    cases.append(("gather_axis.onnx",
                  ["node 'gather' (Gather, opset 14): axis 1 is not supported"], 1))
    # Gather by constant ids folds when the data is a constant too; from an
    # activation it takes one index (a slice), not two.
    save(conv_model([helper.make_node("Gather", ["x", "fixed"], ["y"],
                                      name="gather", axis=1)],
                    [fixed], input_shape=("N", 4),
                    output=("N", 2)), j("gather_activation.onnx"))
    cases.append(("gather_activation.onnx",
                  ["node 'gather' (Gather, opset 14): input 1 ('fixed') "
                   "must be one integer fixed at import (gradc gathers one "
                   "index of an activation: a slice)"], 1))

    for name, expected, lines in cases:
        code, out, err = common.run([gradc, "summary", j(name)])
        got = [l for l in err.splitlines() if l.strip()]
        print("%-28s exit %d: %s" % (name, code, " | ".join(got)[:160]))
        check.check(code == 1, "%s: exit %d, expected 1" % (name, code),
                    out + err)
        check.check(len(got) == lines, "%s: %d error lines, expected %d"
                    % (name, len(got), lines), err)
        for e in expected:
            check.check(e in err, "%s: no '%s' in the error" % (name, e), err)
        check.check(all("error:" in l for l in got),
                    "%s: a line without 'error:'" % name, err)
    check.finish()


if __name__ == "__main__":
    main()
