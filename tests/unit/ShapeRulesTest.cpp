//===- ShapeRulesTest.cpp - tests of the conv/pool shape rules ------------===//
//
// Table-driven tests of windowOutputSize, samePadding and windowOutputHW:
// VALID and SAME padding (the odd element at the end, as TensorFlow does),
// strides, dilations, explicit pads, windows that do not fit and invalid
// parameters, plus an exhaustive comparison of SAME with ceil(in / stride).
//
//===----------------------------------------------------------------------===//

#include "ir/ShapeRules.h"

#include "gtest/gtest.h"

#include <cctype>
#include <limits>

using namespace gradc;

namespace {

constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
constexpr int64_t kMin = std::numeric_limits<int64_t>::min();

/// A test name from a case's description: "stride 2 odd" -> stride_2_odd.
template <typename Case>
std::string caseName(const testing::TestParamInfo<Case> &info) {
  std::string name;
  for (const char *p = info.param.what; *p; ++p)
    name += std::isalnum(static_cast<unsigned char>(*p)) ? *p : '_';
  return name;
}

struct OutputSizeCase {
  const char *what;
  int64_t in, k, stride, dilation, padBegin, padEnd;
  int64_t expected; // -1: the window does not fit
};

const OutputSizeCase kOutputSizeCases[] = {
    {"valid 3x3", 28, 3, 1, 1, 0, 0, 26},
    {"valid 5x5", 28, 5, 1, 1, 0, 0, 24},
    {"window equals input", 5, 5, 1, 1, 0, 0, 1},
    {"1x1 window", 7, 1, 1, 1, 0, 0, 7},
    {"stride 2 even", 28, 2, 2, 1, 0, 0, 14},
    {"stride 2 odd input drops the last row", 27, 2, 2, 1, 0, 0, 13},
    {"stride 3", 10, 3, 3, 1, 0, 0, 3},
    {"stride 3 remainder", 11, 3, 3, 1, 0, 0, 3},
    {"stride larger than window", 10, 1, 3, 1, 0, 0, 4},
    {"dilation 2", 10, 3, 1, 2, 0, 0, 6},
    {"dilation 2 stride 2", 10, 3, 2, 2, 0, 0, 3},
    {"dilation 3 exact fit", 7, 3, 1, 3, 0, 0, 1},
    {"explicit symmetric pads", 5, 3, 1, 1, 1, 1, 5},
    {"explicit asymmetric pads", 5, 3, 2, 1, 0, 1, 2},
    {"pads only at the end", 4, 3, 1, 1, 0, 2, 4},
    {"pads make the window fit", 2, 3, 1, 1, 1, 0, 1},
    {"window larger than input", 3, 5, 1, 1, 0, 0, -1},
    {"dilated window larger than input", 4, 3, 1, 2, 0, 0, -1},
    {"too small even with pads", 2, 5, 1, 1, 1, 1, -1},
    {"zero stride", 10, 3, 0, 1, 0, 0, -1},
    {"negative stride", 10, 3, -1, 1, 0, 0, -1},
    {"zero window", 10, 0, 1, 1, 0, 0, -1},
    {"zero dilation", 10, 3, 1, 0, 0, 0, -1},
    // Sizes a hand-written .mlir file can carry: no overflow, just -1.
    {"huge window", 10, kMax, 1, 1, 0, 0, -1},
    {"huge dilated window", 10, kMax / 2, 1, 4, 0, 0, -1},
    {"huge pads", 10, 3, 1, 1, kMax, kMax, -1},
    {"huge input and pads", kMax, 3, 1, 1, 0, kMax, -1},
    {"huge stride", 10, 3, kMax, 1, 0, 0, 1},
};

class OutputSizeTest : public testing::TestWithParam<OutputSizeCase> {};

TEST_P(OutputSizeTest, MatchesTheRule) {
  const OutputSizeCase &c = GetParam();
  EXPECT_EQ(
      windowOutputSize(c.in, c.k, c.stride, c.dilation, c.padBegin, c.padEnd),
      c.expected)
      << c.what;
}

INSTANTIATE_TEST_SUITE_P(ShapeRules, OutputSizeTest,
                         testing::ValuesIn(kOutputSizeCases),
                         caseName<OutputSizeCase>);

struct SameCase {
  const char *what;
  int64_t in, k, stride, dilation;
  int64_t begin, end;
};

const SameCase kSameCases[] = {
    {"3x3 stride 1: even total", 28, 3, 1, 1, 1, 1},
    {"2x2 stride 1: odd total, extra at the end", 28, 2, 1, 1, 0, 1},
    {"4x4 stride 1: odd total 3", 10, 4, 1, 1, 1, 2},
    {"5x5 stride 1", 28, 5, 1, 1, 2, 2},
    {"3x3 stride 2 even input: odd total", 28, 3, 2, 1, 0, 1},
    {"3x3 stride 2 odd input: even total", 27, 3, 2, 1, 1, 1},
    {"2x2 stride 2: no padding", 28, 2, 2, 1, 0, 0},
    {"3x3 stride 3", 10, 3, 3, 1, 1, 1},
    {"3x3 stride 3 odd total", 11, 3, 3, 1, 0, 1},
    {"5x5 stride 3", 7, 5, 3, 1, 2, 2},
    {"1x1 stride 3: never padded", 10, 1, 3, 1, 0, 0},
    {"3x3 dilation 2", 10, 3, 1, 2, 2, 2},
    {"2x2 dilation 2: span 3", 9, 2, 1, 2, 1, 1},
    {"2x2 dilation 3: odd total", 9, 2, 1, 3, 1, 2},
    {"window larger than input", 3, 7, 1, 1, 3, 3},
    {"input 1", 1, 3, 2, 1, 1, 1},
};

class SamePaddingTest : public testing::TestWithParam<SameCase> {};

TEST_P(SamePaddingTest, SplitsWithTheOddElementAtTheEnd) {
  const SameCase &c = GetParam();
  auto pads = samePadding(c.in, c.k, c.stride, c.dilation);
  EXPECT_EQ(pads[0], c.begin) << c.what;
  EXPECT_EQ(pads[1], c.end) << c.what;
  // TensorFlow: SAME gives ceil(in / stride).
  EXPECT_EQ(windowOutputSize(c.in, c.k, c.stride, c.dilation, pads[0], pads[1]),
            (c.in + c.stride - 1) / c.stride)
      << c.what;
}

INSTANTIATE_TEST_SUITE_P(ShapeRules, SamePaddingTest,
                         testing::ValuesIn(kSameCases), caseName<SameCase>);

TEST(ShapeRules, SamePaddingAgreesWithTensorFlowEverywhere) {
  for (int64_t in = 1; in <= 40; ++in)
    for (int64_t k = 1; k <= 7; ++k)
      for (int64_t s = 1; s <= 4; ++s)
        for (int64_t d = 1; d <= 3; ++d) {
          auto p = samePadding(in, k, s, d);
          int64_t out = (in + s - 1) / s;
          int64_t total =
              std::max<int64_t>((out - 1) * s + d * (k - 1) + 1 - in, 0);
          SCOPED_TRACE(testing::Message()
                       << "in " << in << " k " << k << " stride " << s
                       << " dilation " << d);
          ASSERT_EQ(p[0] + p[1], total);
          ASSERT_EQ(p[1] - p[0], total % 2);
          ASSERT_EQ(windowOutputSize(in, k, s, d, p[0], p[1]), out);
        }
}

TEST(ShapeRules, SamePaddingOfHugeSizesDoesNotOverflow) {
  auto p = samePadding(kMax, 3, 1, 1);
  EXPECT_EQ(p[0], 1);
  EXPECT_EQ(p[1], 1);
  p = samePadding(kMax, 1, kMax, 1);
  EXPECT_EQ(p[0] + p[1], 0);
  p = samePadding(10, kMax, 1, 2);
  EXPECT_GE(p[0], 0);
  EXPECT_GE(p[1], p[0]);
}

Window2D window(std::array<int64_t, 2> size,
                std::array<int64_t, 2> strides = {1, 1},
                std::array<int64_t, 2> dilations = {1, 1},
                std::array<int64_t, 4> pads = {0, 0, 0, 0}) {
  Window2D w;
  w.size = size;
  w.strides = strides;
  w.dilations = dilations;
  w.pads = pads;
  return w;
}

struct HWCase {
  const char *what;
  std::array<int64_t, 2> in;
  Window2D w;
  std::array<int64_t, 2> out; // when `error` is empty
  const char *error;
};

const HWCase kHWCases[] = {
    {"valid 3x3", {28, 28}, window({3, 3}), {26, 26}, ""},
    {"rectangular window", {28, 20}, window({5, 3}), {24, 18}, ""},
    {"per-axis strides", {28, 28}, window({2, 2}, {2, 1}), {14, 27}, ""},
    {"per-axis dilations",
     {10, 10},
     window({3, 3}, {1, 1}, {2, 1}),
     {6, 8},
     ""},
    {"pads per axis",
     {5, 5},
     window({3, 3}, {1, 1}, {1, 1}, {1, 1, 0, 0}),
     {5, 3},
     ""},
    {"window too large",
     {3, 3},
     window({5, 5}),
     {},
     "expects window 5x5 (dilation 1x1) to fit input 3x3 (padding 0,0,0,0)"},
    {"width does not fit",
     {8, 2},
     window({3, 3}, {1, 1}, {1, 1}, {0, 0, 0, 0}),
     {},
     "expects window 3x3 (dilation 1x1) to fit input 8x2 (padding 0,0,0,0)"},
    {"dilated window too large",
     {4, 4},
     window({3, 3}, {1, 1}, {2, 2}),
     {},
     "expects window 3x3 (dilation 2x2) to fit input 4x4 (padding 0,0,0,0)"},
    {"pads not enough",
     {2, 2},
     window({5, 5}, {1, 1}, {1, 1}, {1, 0, 1, 1}),
     {},
     "expects window 5x5 (dilation 1x1) to fit input 2x2 (padding 1,0,1,1)"},
    {"zero window",
     {8, 8},
     window({0, 3}),
     {},
     "expects a positive window, got 0x3"},
    {"negative window",
     {8, 8},
     window({3, -2}),
     {},
     "expects a positive window, got 3x-2"},
    {"zero stride",
     {8, 8},
     window({3, 3}, {1, 0}),
     {},
     "expects positive strides, got 1x0"},
    {"zero dilation",
     {8, 8},
     window({3, 3}, {1, 1}, {0, 1}),
     {},
     "expects positive dilations, got 0x1"},
    {"negative pad",
     {8, 8},
     window({3, 3}, {1, 1}, {1, 1}, {0, 0, -1, 0}),
     {},
     "expects non-negative pads, got 0,0,-1,0"},
    {"int64 minimum pad",
     {8, 8},
     window({3, 3}, {1, 1}, {1, 1}, {kMin, 0, 0, 0}),
     {},
     "expects non-negative pads"},
    {"huge window does not overflow",
     {8, 8},
     window({kMax, 3}, {1, 1}, {2, 1}),
     {},
     "to fit input 8x8"},
};

class WindowHWTest : public testing::TestWithParam<HWCase> {};

TEST_P(WindowHWTest, ComputesOrNamesTheSizes) {
  const HWCase &c = GetParam();
  std::array<int64_t, 2> out{-7, -7};
  std::string error;
  bool ok = windowOutputHW(c.in, c.w, out, error);
  if (std::string(c.error).empty()) {
    ASSERT_TRUE(ok) << c.what << ": " << error;
    EXPECT_EQ(out, c.out) << c.what;
    EXPECT_EQ(error, "") << c.what;
    EXPECT_EQ(checkWindowParams(c.w), "") << c.what;
  } else {
    ASSERT_FALSE(ok) << c.what;
    EXPECT_NE(error.find(c.error), std::string::npos)
        << c.what << ": got \"" << error << "\"";
  }
}

INSTANTIATE_TEST_SUITE_P(ShapeRules, WindowHWTest, testing::ValuesIn(kHWCases),
                         caseName<HWCase>);

TEST(ShapeRules, DefaultWindowIsValid) {
  EXPECT_EQ(checkWindowParams(Window2D()), "");
}

TEST(ShapeRules, ExplicitPadsMatchSamePadding) {
  // A SAME convolution written with the explicit pads SAME computes gives the
  // same output as TensorFlow.
  for (int64_t in : {7, 8, 28, 31})
    for (int64_t s : {1, 2, 3}) {
      auto p = samePadding(in, 3, s, 1);
      Window2D w = window({3, 3}, {s, s}, {1, 1}, {p[0], p[1], p[0], p[1]});
      std::array<int64_t, 2> out;
      std::string error;
      ASSERT_TRUE(windowOutputHW({in, in}, w, out, error)) << error;
      EXPECT_EQ(out[0], (in + s - 1) / s);
      EXPECT_EQ(out[1], (in + s - 1) / s);
    }
}

} // namespace
