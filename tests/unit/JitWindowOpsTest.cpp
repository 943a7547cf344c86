//===- JitWindowOpsTest.cpp - JIT-compiled conv and pooling ops -----------===//
//
// Convolutions (forward, input and filter gradients) and pooling (max,
// average and their gradients) JIT-compiled and compared with the reference
// evaluator in float (JitCompare.h), on odd shapes, stride 2, asymmetric
// pads, dilation, windows that leave the last rows unread, and tied inputs:
// the max pooling gradient goes to the first maximum of each window in
// row-major order.
//
//===----------------------------------------------------------------------===//

#include "JitCompare.h"

#include "gtest/gtest.h"

#include <ostream>
#include <tuple>

using namespace gradc;
using namespace gradc::test;

namespace {

//===----------------------------------------------------------------------===//
// Convolutions
//===----------------------------------------------------------------------===//

struct ConvGeom {
  std::string name;
  int64_t n, h, w, c, kh, kw, f;
  std::vector<int64_t> strides{1, 1}, pads{0, 0, 0, 0}, dilations{1, 1};
  bool bias = false;
  std::string activation = "none";

  int64_t out(int64_t in, int64_t k, int64_t s, int64_t d, int64_t p0,
              int64_t p1) const {
    return (in + p0 + p1 - d * (k - 1) - 1) / s + 1;
  }
  std::vector<int64_t> x() const { return {n, h, w, c}; }
  std::vector<int64_t> filter() const { return {kh, kw, c, f}; }
  std::vector<int64_t> y() const {
    return {n, out(h, kh, strides[0], dilations[0], pads[0], pads[1]),
            out(w, kw, strides[1], dilations[1], pads[2], pads[3]), f};
  }
  std::string attrs(bool forward) const {
    std::string a = "{strides = " + ints(strides) + ", pads = " + ints(pads) +
                    ", dilations = " + ints(dilations);
    if (forward)
      a += ", activation = #nn.activation<" + activation +
           ">, alpha = 2.0e-01 : f64";
    return a + "}";
  }
};

std::ostream &operator<<(std::ostream &os, const ConvGeom &g) {
  return os << g.name;
}

class JitConv : public ::testing::TestWithParam<ConvGeom> {};

TEST_P(JitConv, Forward) {
  const ConvGeom &g = GetParam();
  std::string args = "%x: " + tt(g.x()) + ", %w: " + tt(g.filter());
  std::string operands = "%x, %w", types = tt(g.x()) + ", " + tt(g.filter());
  if (g.bias) {
    args += ", %b: " + tt({g.f});
    operands += ", %b";
    types += ", " + tt({g.f});
  }
  expectJitMatches(single(args,
                          "nn.conv2d " + operands + " " + g.attrs(true) +
                              " : (" + types + ") -> " + tt(g.y()),
                          tt(g.y())));
}

TEST_P(JitConv, GradInput) {
  const ConvGeom &g = GetParam();
  expectJitMatches(single("%dy: " + tt(g.y()) + ", %w: " + tt(g.filter()),
                          "nn.conv2d_grad_input %dy, %w " + g.attrs(false) +
                              " : (" + tt(g.y()) + ", " + tt(g.filter()) +
                              ") -> " + tt(g.x()),
                          tt(g.x())));
}

TEST_P(JitConv, GradFilter) {
  const ConvGeom &g = GetParam();
  expectJitMatches(single("%x: " + tt(g.x()) + ", %dy: " + tt(g.y()),
                          "nn.conv2d_grad_filter %x, %dy " + g.attrs(false) +
                              " : (" + tt(g.x()) + ", " + tt(g.y()) + ") -> " +
                              tt(g.filter()),
                          tt(g.filter())));
}

ConvGeom conv(std::string name, std::vector<int64_t> s, bool bias = false,
              std::string activation = "none") {
  ConvGeom g{std::move(name), s[0], s[1], s[2], s[3], s[4], s[5], s[6]};
  g.bias = bias;
  g.activation = std::move(activation);
  return g;
}

ConvGeom with(ConvGeom g, std::vector<int64_t> strides,
              std::vector<int64_t> pads, std::vector<int64_t> dilations) {
  g.strides = std::move(strides);
  g.pads = std::move(pads);
  g.dilations = std::move(dilations);
  return g;
}

INSTANTIATE_TEST_SUITE_P(
    Geometries, JitConv,
    ::testing::Values(
        conv("Basic3x3Bias", {2, 7, 6, 3, 3, 3, 5}, true),
        conv("NoBiasRelu", {2, 6, 5, 2, 3, 3, 4}, false, "relu"),
        conv("BiasLeakyRelu", {1, 5, 7, 3, 2, 3, 3}, true, "leaky_relu"),
        conv("OneByOne", {3, 5, 5, 1, 1, 1, 1}, true),
        with(conv("Stride2", {2, 9, 8, 3, 3, 3, 4}, true, "relu"), {2, 2},
             {0, 0, 0, 0}, {1, 1}),
        with(conv("AsymmetricPads", {2, 7, 6, 2, 3, 2, 3}, true), {1, 1},
             {1, 0, 2, 1}, {1, 1}),
        with(conv("Dilation2", {1, 9, 10, 2, 3, 3, 3}, false, "leaky_relu"),
             {1, 1}, {0, 0, 0, 0}, {2, 2}),
        with(conv("Stride2PadsDilation2", {2, 11, 9, 3, 3, 2, 5}, true), {2, 2},
             {2, 1, 0, 1}, {2, 2}),
        with(conv("Stride3LeavesLastRows", {2, 10, 11, 2, 2, 2, 3}, true),
             {3, 3}, {0, 0, 0, 0}, {1, 1}),
        with(conv("Stride2x1PadsLeaveRows", {1, 8, 7, 3, 3, 3, 2}, false,
                  "relu"),
             {2, 1}, {0, 1, 1, 0}, {1, 1}),
        with(conv("SamePadding", {2, 6, 6, 4, 3, 3, 4}, true, "relu"), {1, 1},
             {1, 1, 1, 1}, {1, 1}),
        with(conv("MixedStridesDilations", {1, 12, 9, 2, 2, 3, 3}, false),
             {3, 2}, {1, 2, 0, 2}, {2, 1})),
    [](const ::testing::TestParamInfo<ConvGeom> &info) {
      return info.param.name;
    });

//===----------------------------------------------------------------------===//
// Pooling
//===----------------------------------------------------------------------===//

struct PoolGeom {
  std::string name;
  std::vector<int64_t> x; // N H W C
  std::vector<int64_t> window, strides, pads{0, 0, 0, 0};

  std::vector<int64_t> y() const {
    auto out = [&](int i) {
      return (x[1 + i] + pads[2 * i] + pads[2 * i + 1] - window[i]) /
                 strides[i] +
             1;
    };
    return {x[0], out(0), out(1), x[3]};
  }
  std::string attrs() const {
    return "{window = " + ints(window) + ", strides = " + ints(strides) +
           ", pads = " + ints(pads) + "}";
  }
};

std::ostream &operator<<(std::ostream &os, const PoolGeom &g) {
  return os << g.name;
}

/// The tied-input variants every pooling geometry also runs with.
enum class Ties { None, Quantized, Constant };

JitCase tiesCase(Ties t) {
  JitCase c;
  c.quantize = t == Ties::Quantized;
  if (t == Ties::Constant)
    c.constant = 0.5f;
  return c;
}

using PoolParam = std::tuple<PoolGeom, Ties>;

class JitPool : public ::testing::TestWithParam<PoolParam> {};

std::string poolTestName(const ::testing::TestParamInfo<PoolParam> &info) {
  const char *ties[] = {"", "Quantized", "Constant"};
  return std::get<0>(info.param).name + ties[int(std::get<1>(info.param))];
}

std::string poolSrc(const PoolGeom &g, const std::string &op) {
  return single("%x: " + tt(g.x),
                "nn." + op + " %x " + g.attrs() + " : (" + tt(g.x) + ") -> " +
                    tt(g.y()),
                tt(g.y()));
}

std::string poolGradSrc(const PoolGeom &g, const std::string &op) {
  return single("%x: " + tt(g.x) + ", %dy: " + tt(g.y()),
                "nn." + op + " %x, %dy " + g.attrs() + " : (" + tt(g.x) + ", " +
                    tt(g.y()) + ") -> " + tt(g.x),
                tt(g.x));
}

TEST_P(JitPool, Max) {
  auto [g, ties] = GetParam();
  expectJitMatches(poolSrc(g, "max_pool2d"), tiesCase(ties));
}

TEST_P(JitPool, Avg) {
  auto [g, ties] = GetParam();
  expectJitMatches(poolSrc(g, "avg_pool2d"), tiesCase(ties));
}

TEST_P(JitPool, MaxGrad) {
  auto [g, ties] = GetParam();
  // Ties in the input only: the output gradient stays random, so that a
  // gradient sent to the wrong one of tied elements shows.
  JitCase c = tiesCase(ties);
  c.tiedArgument = 0;
  expectJitMatches(poolGradSrc(g, "max_pool2d_grad"), c);
}

TEST_P(JitPool, AvgGrad) {
  auto [g, ties] = GetParam();
  expectJitMatches(poolGradSrc(g, "avg_pool2d_grad"), tiesCase(ties));
}

INSTANTIATE_TEST_SUITE_P(
    Geometries, JitPool,
    ::testing::Combine(
        ::testing::Values(
            PoolGeom{"Window2Stride2", {2, 6, 8, 3}, {2, 2}, {2, 2}},
            PoolGeom{"Overlapping3x3Stride2", {2, 7, 9, 2}, {3, 3}, {2, 2}},
            PoolGeom{"Overlapping3x3Stride2Pads",
                     {1, 8, 7, 3},
                     {3, 3},
                     {2, 2},
                     {1, 1, 1, 1}},
            PoolGeom{"AsymmetricPadsStride2x1",
                     {2, 7, 6, 2},
                     {3, 3},
                     {2, 1},
                     {0, 1, 2, 0}},
            PoolGeom{
                "Window2x3Stride3LeavesLastRows", {1, 8, 8, 3}, {2, 3}, {3, 3}},
            PoolGeom{"Stride1", {2, 5, 4, 1}, {2, 2}, {1, 1}, {1, 0, 0, 1}},
            // Windows of more than 16 offsets: the gradient scatters them
            // in a loop instead of straight-line code.
            PoolGeom{"Window5x4Stride2PadsLooped",
                     {2, 9, 8, 3},
                     {5, 4},
                     {2, 2},
                     {1, 2, 0, 1}},
            PoolGeom{"GlobalWindow7x6Looped", {2, 7, 6, 2}, {7, 6}, {1, 1}}),
        ::testing::Values(Ties::None, Ties::Quantized, Ties::Constant)),
    poolTestName);

/// Constant inputs at several values: every window is one tie, which the
/// gradient must resolve to its first element in row-major order.
TEST(JitMaxPoolGradTies, FirstMaximumOfEachWindowGetsTheGradient) {
  for (const PoolGeom &g :
       {PoolGeom{"", {2, 7, 6, 2}, {3, 3}, {2, 2}, {1, 1, 1, 1}},
        PoolGeom{"", {2, 7, 6, 2}, {3, 2}, {2, 1}, {0, 2, 1, 0}}})
    for (double v : {0.0, -3.0, 1e30}) {
      JitCase c;
      c.opts.ranges[0] = {v, v};
      expectJitMatches(poolGradSrc(g, "max_pool2d_grad"), c);
      expectJitMatches(poolSrc(g, "max_pool2d"), c);
    }
}

} // namespace
