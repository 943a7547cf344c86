//===- OnnxOperators.cpp - the table of ONNX operators --------------------===//
//
// The one job of this file: the one list of the operators gradc imports.
// Each row names an operator, its converter (a member of OnnxImport, in the
// Onnx<Family>Ops.cpp of its family) and the rules the driver's pre-check
// applies to its nodes before ONNX's checker and shape inference run. The
// list of supportedOnnxOps(), the driver's dispatch and its pre-check all
// read this table: adding an operator is a converter and a row here.
//
//===----------------------------------------------------------------------===//

#include "frontend/OnnxImporter.h"
#include "frontend/onnx/OnnxImport.h"
#include "ir/UnaryFunctions.h"

#include <algorithm>

namespace gradc::onnximport {

const std::vector<OnnxOperator> &onnxOperators() {
  using I = OnnxImport;
  constexpr OutputRank OfInput = OutputRank::OfInput, Two = OutputRank::Two,
                       Unknown = OutputRank::Unknown,
                       Broadcast = OutputRank::Broadcast,
                       Keepdims = OutputRank::OfInputIfKeepdims;
  // In the order docs/onnx.md lists them.
  static const std::vector<OnnxOperator> table = [] {
    std::vector<OnnxOperator> rows = {
        // clang-format off
        // name, converter, 4-D inputs, window 'pads', output rank
        {"Conv",               &I::conv,            2, true,  OfInput},
        {"BatchNormalization", &I::batchNorm,       0, false, OfInput},
        {"LayerNormalization", &I::layerNorm,       0, false, OfInput},
        {"Relu",               &I::activationOp,    0, false, OfInput},
        {"LeakyRelu",          &I::activationOp,    0, false, OfInput},
        {"PRelu",              &I::prelu,           0, false, OfInput},
        {"Sigmoid",            &I::activationOp,    0, false, OfInput},
        {"Tanh",               &I::activationOp,    0, false, OfInput},
        {"Gelu",               &I::activationOp,    0, false, OfInput},
        {"Celu",               &I::composedActivation, 0, false, OfInput},
        {"Shrink",             &I::composedActivation, 0, false, OfInput},
        // (here: the operators of ir/UnaryFunctions.def, below)
        {"Softmax",            &I::softmax,         0, false, OfInput},
        {"LogSoftmax",         &I::softmax,         0, false, OfInput},
        {"MaxPool",            &I::pool,            1, true,  OfInput},
        {"AveragePool",        &I::pool,            1, true,  OfInput},
        {"GlobalAveragePool",  &I::globalPool,      1, false, OfInput},
        {"GlobalMaxPool",      &I::globalPool,      1, false, OfInput},
        {"ReduceMean",         &I::reduce,          0, false, Keepdims},
        {"ReduceSum",          &I::reduce,          0, false, Keepdims},
        {"ReduceMax",          &I::reduce,          0, false, Keepdims},
        {"ReduceMin",          &I::reduce,          0, false, Keepdims},
        {"ReduceL1",           &I::reduce,          0, false, Keepdims},
        {"ReduceL2",           &I::reduce,          0, false, Keepdims},
        {"ReduceSumSquare",    &I::reduce,          0, false, Keepdims},
        {"ReduceLogSum",       &I::reduce,          0, false, Keepdims},
        {"ReduceLogSumExp",    &I::reduce,          0, false, Keepdims},
        {"Gemm",               &I::gemm,            0, false, Two},
        {"MatMul",             &I::gemm,            0, false, OfInput},
        {"Gather",             &I::gatherOp,        0, false, Unknown},
        {"LSTM",               &I::recurrent,       0, false, Unknown},
        {"GRU",                &I::recurrent,       0, false, Unknown},
        {"Add",                &I::binary,          0, false, Broadcast},
        {"Sub",                &I::binary,          0, false, Broadcast},
        {"Mul",                &I::binary,          0, false, Broadcast},
        {"Div",                &I::binary,          0, false, Broadcast},
        {"Pow",                &I::binary,          0, false, Broadcast},
        {"Max",                &I::binary,          0, false, Broadcast},
        {"Min",                &I::binary,          0, false, Broadcast},
        {"Sum",                &I::binary,          0, false, Broadcast},
        {"Clip",               &I::clip,            0, false, OfInput},
        {"Flatten",            &I::flatten,         0, false, Two},
        {"Reshape",            &I::reshape,         0, false, Unknown},
        {"Concat",             &I::concat,          0, false, OfInput},
        {"Split",              &I::split,           0, false, OfInput},
        {"Transpose",          &I::transpose,       0, false, OfInput},
        {"Dropout",            &I::dropout,         0, false, OfInput},
        {"Identity",           &I::identity,        0, false, OfInput},
        {"Constant",           &I::constantOp,      0, false, Unknown},
        {"Pad",                &I::pad,             0, false, OfInput},
        {"Unsqueeze",          &I::reshapeConstant, 0, false, Unknown},
        {"Squeeze",            &I::reshapeConstant, 0, false, Unknown},
        {"Expand",             &I::expand,          0, false, Unknown},
        {"Equal",              &I::foldElementwise, 0, false, Unknown},
        {"Where",              &I::foldElementwise, 0, false, Unknown},
        {"Shape",              &I::shapeOp,         0, false, Unknown},
        {"Slice",              &I::sliceOp,         0, false, Unknown},
        {"Cast",               &I::castOp,          0, false, OfInput},
        {"ConstantOfShape",    &I::constantOfShape, 0, false, Unknown},
        {"Range",              &I::rangeOp,         0, false, Unknown},
        // clang-format on
    };
    // The elementwise functions' operators (their column onnxIn), after
    // Gelu.
    std::vector<OnnxOperator> unary;
    for (const nn::UnaryFnInfo &f : nn::unaryFns())
      if (*f.onnxIn)
        unary.push_back({f.onnxIn, &I::unaryOp, 0, false, OfInput});
    auto gelu =
        std::find_if(rows.begin(), rows.end(), [](const OnnxOperator &o) {
          return std::string(o.name) == "Gelu";
        });
    rows.insert(gelu + 1, unary.begin(), unary.end());
    return rows;
  }();
  return table;
}

const OnnxOperator *findOnnxOperator(const std::string &opType) {
  const std::vector<OnnxOperator> &table = onnxOperators();
  auto it =
      std::find_if(table.begin(), table.end(),
                   [&](const OnnxOperator &o) { return opType == o.name; });
  return it == table.end() ? nullptr : &*it;
}

} // namespace gradc::onnximport

namespace gradc {

const std::vector<std::string> &supportedOnnxOps() {
  static const std::vector<std::string> ops = [] {
    std::vector<std::string> names;
    for (const onnximport::OnnxOperator &o : onnximport::onnxOperators())
      names.push_back(o.name);
    return names;
  }();
  return ops;
}

} // namespace gradc
