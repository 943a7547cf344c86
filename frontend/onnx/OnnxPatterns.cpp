//===- OnnxPatterns.cpp - one operator exported as several nodes ----------===//
//
// The one job of this file: recognizing the chains of nodes PyTorch exports
// for one operator that the opsets gradc reads do not have, and replacing
// each by that one node, before the operators are checked and converted.
// Today: GELU (ONNX has Gelu from opset 20 only), which PyTorch 1.13 writes
// as
//   exact: Mul(Mul(x, Add(Erf(Div(x, sqrt 2)), 1)), 0.5)
//   tanh:  Mul(0.5, Mul(x, Add(1, Tanh(Mul(beta, Add(x, Mul(kappa,
//          Mul(x, Mul(x, x)))))))))   (beta = sqrt(2 / pi), kappa = 0.044715)
// with the operands of Add and Mul in either order; and SiLU and the hard
// swish (ONNX has Swish from opset 24 only, HardSwish from 14), which
// PyTorch, tf2onnx and gradc's opset-13 export write as
//   Mul(x, Sigmoid(x)) -> Swish,  Mul(x, HardSigmoid(x)) -> HardSwish
// (alpha 1/6, beta 0.5). A chain is replaced only
// when its inner values have no other use; anything else is left as it is
// (and its operators then reported as unsupported, if they are).
//
//===----------------------------------------------------------------------===//

#include "frontend/onnx/OnnxImport.h"

#include <cmath>
#include <cstring>
#include <map>
#include <optional>
#include <set>

namespace gradc::onnximport {
namespace {

/// A `T` stored as the raw bytes of a one-element tensor.
template <typename T> std::optional<double> rawScalar(const std::string &raw) {
  T v;
  if (raw.size() != sizeof v)
    return std::nullopt;
  std::memcpy(&v, raw.data(), sizeof v);
  return double(v);
}

/// The value of a one-element FLOAT or DOUBLE tensor.
std::optional<double> scalarValue(const onnx::TensorProto &t) {
  int64_t n = 1;
  for (int64_t d : t.dims())
    n *= d;
  if (n != 1 || t.data_location() == onnx::TensorProto::EXTERNAL)
    return std::nullopt;
  if (t.data_type() == onnx::TensorProto::FLOAT)
    return t.float_data_size() == 1 ? std::optional<double>(t.float_data(0))
                                    : rawScalar<float>(t.raw_data());
  if (t.data_type() == onnx::TensorProto::DOUBLE)
    return t.double_data_size() == 1 ? std::optional<double>(t.double_data(0))
                                     : rawScalar<double>(t.raw_data());
  return std::nullopt;
}

class ChainMatcher {
public:
  explicit ChainMatcher(const onnx::GraphProto &g) : g(g) {
    for (const auto &t : g.initializer())
      if (auto v = scalarValue(t))
        scalars[t.name()] = *v;
    for (int i = 0; i < g.node_size(); ++i) {
      const onnx::NodeProto &n = g.node(i);
      for (const std::string &in : n.input())
        consumers[in].push_back(i);
      for (const std::string &out : n.output())
        producer[out] = i;
      if (n.op_type() == "Constant" && n.output_size() == 1)
        for (const auto &a : n.attribute())
          if (a.name() == "value" && a.has_t())
            if (auto v = scalarValue(a.t()))
              scalars[n.output(0)] = *v;
    }
    for (const auto &o : g.output())
      graphOutputs.insert(o.name());
  }

  /// The nodes with every chain replaced by one node.
  google::protobuf::RepeatedPtrField<onnx::NodeProto> fused() {
    std::map<int, onnx::NodeProto> replace; // the chain's last node -> one
    std::set<int> drop;
    for (int i = 0; i < g.node_size(); ++i) {
      std::vector<int> chain;
      std::string x;
      if (const char *op = matchSwish(i, chain)) {
        const onnx::NodeProto &last = g.node(chain.back());
        onnx::NodeProto swish;
        swish.set_name(last.name());
        swish.set_op_type(op);
        swish.add_input(g.node(i).input(0));
        swish.add_output(last.output(0));
        replace[chain.back()] = std::move(swish);
        drop.insert(i);
        continue;
      }
      bool tanh = g.node(i).op_type() == "Tanh";
      if (!(g.node(i).op_type() == "Erf" ? matchExact(i, chain, x)
            : tanh                       ? matchTanh(i, chain, x)
                                         : false))
        continue;
      onnx::NodeProto gelu;
      const onnx::NodeProto &last = g.node(chain.back());
      gelu.set_name(last.name());
      gelu.set_op_type("Gelu");
      gelu.add_input(x);
      gelu.add_output(last.output(0));
      auto &a = *gelu.add_attribute();
      a.set_name("approximate");
      a.set_type(onnx::AttributeProto::STRING);
      a.set_s(tanh ? "tanh" : "none");
      replace[chain.back()] = std::move(gelu);
      drop.insert(chain.begin(), chain.end() - 1);
    }
    google::protobuf::RepeatedPtrField<onnx::NodeProto> out;
    for (int i = 0; i < g.node_size(); ++i)
      if (replace.count(i))
        *out.Add() = std::move(replace[i]);
      else if (!drop.count(i))
        *out.Add() = g.node(i);
    return out;
  }

private:
  bool isScalar(const std::string &v, double want) const {
    auto it = scalars.find(v);
    return it != scalars.end() &&
           std::abs(it->second - want) <= 1e-5 * std::max(1.0, std::abs(want));
  }
  /// The node computing `v`, if it is an `op` whose output has one use
  /// (inner values of a chain have no other reader).
  const onnx::NodeProto *producerOf(const std::string &v, const char *op,
                                    std::vector<int> &chain) const {
    auto it = producer.find(v);
    if (it == producer.end() || g.node(it->second).op_type() != op ||
        !singleUse(v))
      return nullptr;
    chain.insert(chain.begin(), it->second);
    return &g.node(it->second);
  }
  /// The one node reading the output of `node`, if it is an `op`.
  const onnx::NodeProto *consumerOf(int node, const char *op,
                                    std::vector<int> &chain) const {
    const std::string &v = g.node(node).output(0);
    if (!singleUse(v))
      return nullptr;
    int next = consumers.at(v)[0];
    if (g.node(next).op_type() != op || g.node(next).input_size() != 2)
      return nullptr;
    chain.push_back(next);
    return &g.node(next);
  }
  bool singleUse(const std::string &v) const {
    auto it = consumers.find(v);
    return it != consumers.end() && it->second.size() == 1 &&
           !graphOutputs.count(v);
  }
  /// The operand of two-input `n` other than `v`.
  static std::string other(const onnx::NodeProto &n, const std::string &v) {
    return n.input(0) == v ? n.input(1) : n.input(0);
  }

  /// The tail both forms share: 0.5 * (x * (1 + the output of `node`)),
  /// appended to `chain`.
  bool matchHalfXOnePlus(int node, const std::string &x,
                         std::vector<int> &chain) const {
    const onnx::NodeProto *add = consumerOf(node, "Add", chain);
    if (!add || !isScalar(other(*add, g.node(node).output(0)), 1.0))
      return false;
    const onnx::NodeProto *mx = consumerOf(chain.back(), "Mul", chain);
    if (!mx || other(*mx, add->output(0)) != x)
      return false;
    const onnx::NodeProto *half = consumerOf(chain.back(), "Mul", chain);
    return half && isScalar(other(*half, mx->output(0)), 0.5);
  }

  /// Sigmoid (node i) of x -> Mul x: "Swish"; HardSigmoid (alpha 1/6, beta
  /// 0.5) of x -> Mul x: "HardSwish"; else null.
  const char *matchSwish(int i, std::vector<int> &chain) const {
    const onnx::NodeProto &n = g.node(i);
    bool sigmoid = n.op_type() == "Sigmoid";
    if (!(sigmoid || n.op_type() == "HardSigmoid") || n.input_size() != 1 ||
        n.output_size() != 1)
      return nullptr;
    if (!sigmoid) {
      double alpha = 0.2, beta = 0.5;
      for (const auto &a : n.attribute()) {
        if (a.type() != onnx::AttributeProto::FLOAT)
          return nullptr;
        if (a.name() == "alpha")
          alpha = a.f();
        else if (a.name() == "beta")
          beta = a.f();
        else
          return nullptr;
      }
      if (std::abs(alpha - 1.0 / 6.0) > 1e-6 || beta != 0.5)
        return nullptr;
    }
    chain = {i};
    const onnx::NodeProto *mul = consumerOf(i, "Mul", chain);
    if (!mul || other(*mul, n.output(0)) != n.input(0))
      return nullptr;
    return sigmoid ? "Swish" : "HardSwish";
  }

  /// Div(x, sqrt 2) -> Erf (node e) -> Add 1 -> Mul x -> Mul 0.5.
  bool matchExact(int e, std::vector<int> &chain, std::string &x) const {
    chain = {e};
    const onnx::NodeProto *div = producerOf(g.node(e).input(0), "Div", chain);
    if (!div || div->input_size() != 2 ||
        !isScalar(div->input(1), std::sqrt(2.0)))
      return false;
    x = div->input(0);
    return matchHalfXOnePlus(e, x, chain);
  }

  /// x * x (either order) or the same Mul with x as both operands.
  bool isSquareOf(const onnx::NodeProto *n, const std::string &x) const {
    return n && n->input_size() == 2 && n->input(0) == x && n->input(1) == x;
  }

  /// Mul(x, Mul(x, x)) -> Mul kappa -> Add x -> Mul beta -> Tanh (node t)
  /// -> Add 1 -> Mul x -> Mul 0.5.
  bool matchTanh(int t, std::vector<int> &chain, std::string &x) const {
    chain = {t};
    const onnx::NodeProto *beta = producerOf(g.node(t).input(0), "Mul", chain);
    if (!beta || beta->input_size() != 2)
      return false;
    bool betaFirst = isScalar(beta->input(0), std::sqrt(2.0 / M_PI));
    if (!betaFirst && !isScalar(beta->input(1), std::sqrt(2.0 / M_PI)))
      return false;
    const onnx::NodeProto *sum =
        producerOf(beta->input(betaFirst ? 1 : 0), "Add", chain);
    if (!sum || sum->input_size() != 2)
      return false;
    // One operand of the sum is x, the other kappa * x^3.
    for (int k = 0; k < 2; ++k) {
      std::vector<int> inner = chain;
      x = sum->input(1 - k);
      const onnx::NodeProto *kappa = producerOf(sum->input(k), "Mul", inner);
      if (!kappa || kappa->input_size() != 2)
        continue;
      bool kappaFirst = isScalar(kappa->input(0), 0.044715);
      if (!kappaFirst && !isScalar(kappa->input(1), 0.044715))
        continue;
      const onnx::NodeProto *cube =
          producerOf(kappa->input(kappaFirst ? 1 : 0), "Mul", inner);
      if (!cube || cube->input_size() != 2)
        continue;
      std::vector<int> withSquare = inner;
      bool cubed = false;
      for (int s = 0; s < 2 && !cubed; ++s) {
        withSquare = inner;
        cubed = cube->input(1 - s) == x &&
                isSquareOf(producerOf(cube->input(s), "Mul", withSquare), x);
      }
      if (!cubed)
        continue;
      chain = withSquare;
      return matchHalfXOnePlus(t, x, chain);
    }
    return false;
  }

  const onnx::GraphProto &g;
  std::map<std::string, double> scalars;
  std::map<std::string, std::vector<int>> consumers;
  std::map<std::string, int> producer;
  std::set<std::string> graphOutputs;
};

} // namespace

google::protobuf::RepeatedPtrField<onnx::NodeProto>
fuseExportedPatterns(const onnx::GraphProto &g) {
  return ChainMatcher(g).fused();
}

} // namespace gradc::onnximport
