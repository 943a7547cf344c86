//===- OptimizerTest.cpp - one step of each optimizer update op -----------===//
//
// Runs nn.sgd_update, nn.momentum_update (plain and Nesterov),
// nn.rmsprop_update and nn.adam_update once through the reference evaluator
// and compares with the closed-form update written out in the test, with
// and without weight decay (L2 added to the gradient), plus one worked
// number per optimizer so that a formula shared by mistake between test and
// evaluator would still be caught.
//
//===----------------------------------------------------------------------===//

#include "GradientCheck.h"

#include <cmath>

using namespace gradc;
using namespace gradc::test;

namespace {

const std::vector<double> kParam = {1.0, -2.0, 0.5, 0.0};
const std::vector<double> kGrad = {0.5, 0.25, -0.75, 0.125};
// A velocity or first moment (any sign), then a mean square (never negative).
const std::vector<double> kState1 = {0.2, -0.1, 0.0, 0.05};
const std::vector<double> kState2 = {0.1, 0.3, 0.02, 0.0};

/// Runs `op` with `attrs` on the parameter, gradient, `state` tensors and
/// (for Adam) the step; returns the new parameter and state.
template <typename T>
std::vector<std::vector<double>>
step(const std::string &op, const std::string &attrs,
     const std::vector<std::vector<double>> &state, int64_t stepValue = 0,
     double lrOperand = 0) {
  int numState = int(state.size());
  std::string t = "tensor<4xf32>";
  std::string args = "%p: " + t + ", %g: " + t, operands = "%p, %g",
              types = t + ", " + t;
  const char *names[] = {"%s1", "%s2"};
  for (int i = 0; i < numState; ++i) {
    args += std::string(", ") + names[i] + ": " + t;
    operands += std::string(", ") + names[i];
    types += ", " + t;
  }
  bool adam = op == "adam_update";
  if (adam) {
    args += ", %step: tensor<i64>";
    operands += ", %step";
    types += ", tensor<i64>";
  }
  if (lrOperand > 0) {
    args += ", %lr: tensor<f32>";
    operands += ", %lr";
    types += ", tensor<f32>";
  }
  int numResults = 1 + numState;
  std::string resultTypes, returned;
  for (int i = 0; i < numResults; ++i) {
    resultTypes += std::string(i ? ", " : "") + t;
    returned += std::string(i ? ", " : "") + "%r#" + std::to_string(i);
  }
  std::string src = "func.func @f(" + args + ") -> (" + resultTypes +
                    ") {\n  %r:" + std::to_string(numResults) + " = nn." + op +
                    " " + operands + " " + attrs + " : (" + types + ") -> (" +
                    resultTypes + ")\n  return " + returned + " : " +
                    resultTypes + "\n}\n";
  auto ctx = makeContext();
  auto module = parse(*ctx, src);
  if (!module)
    return {};
  auto vec = [](const std::vector<double> &v) {
    return HostTensor<T>({4}, std::vector<T>(v.begin(), v.end()));
  };
  std::vector<HostValue<T>> in = {vec(kParam), vec(kGrad)};
  for (const std::vector<double> &s : state)
    in.push_back(vec(s));
  if (adam)
    in.push_back(HostTensor<int64_t>({}, {stepValue}));
  if (lrOperand > 0)
    in.push_back(HostTensor<T>({}, {T(lrOperand)}));
  auto results = valueOrFail(
      evaluate<T>(module->lookupSymbol<mlir::func::FuncOp>("f"), in));
  std::vector<std::vector<double>> out;
  for (auto &r : results) {
    auto &data = std::get<HostTensor<T>>(r).data;
    out.emplace_back(data.begin(), data.end());
  }
  return out;
}

void expectNear(const std::vector<double> &actual,
                const std::vector<double> &expected, double tol = 1e-12) {
  ASSERT_EQ(actual.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i)
    EXPECT_NEAR(actual[i], expected[i], tol) << "element " << i;
}

/// g + wd * p for every element.
std::vector<double> decayed(double wd) {
  std::vector<double> g(4);
  for (int i = 0; i < 4; ++i)
    g[i] = kGrad[i] + wd * kParam[i];
  return g;
}

TEST(Optimizer, Sgd) {
  for (double wd : {0.0, 0.1}) {
    SCOPED_TRACE("weight decay " + std::to_string(wd));
    auto out = step<double>("sgd_update",
                            "{learning_rate = 1.0e-01 : f64, weight_decay = " +
                                std::to_string(wd) + " : f64}",
                            {});
    ASSERT_EQ(out.size(), 1u);
    std::vector<double> g = decayed(wd), p(4);
    for (int i = 0; i < 4; ++i)
      p[i] = kParam[i] - 0.1 * g[i];
    expectNear(out[0], p);
    // p = 1, g = 0.5: 1 - 0.1 * 0.5 = 0.95; with decay g' = 0.6: 0.94.
    EXPECT_NEAR(out[0][0], wd == 0 ? 0.95 : 0.94, 1e-12);
  }
}

TEST(Optimizer, MomentumAndNesterov) {
  for (bool nesterov : {false, true}) {
    for (double wd : {0.0, 0.01}) {
      SCOPED_TRACE(std::string(nesterov ? "nesterov" : "momentum") +
                   ", weight decay " + std::to_string(wd));
      auto out = step<double>(
          "momentum_update",
          "{learning_rate = 1.0e-01 : f64, momentum = 9.0e-01 : f64, " +
              std::string(nesterov ? "nesterov, " : "") +
              "weight_decay = " + std::to_string(wd) + " : f64}",
          {kState1});
      ASSERT_EQ(out.size(), 2u);
      std::vector<double> g = decayed(wd), p(4), v(4);
      for (int i = 0; i < 4; ++i) {
        v[i] = 0.9 * kState1[i] + g[i];
        p[i] = kParam[i] - 0.1 * (nesterov ? g[i] + 0.9 * v[i] : v[i]);
      }
      expectNear(out[0], p);
      expectNear(out[1], v);
      if (wd == 0) {
        // v' = 0.9 * 0.2 + 0.5 = 0.68; p' = 1 - 0.1 * 0.68, or with
        // Nesterov 1 - 0.1 * (0.5 + 0.9 * 0.68).
        EXPECT_NEAR(out[1][0], 0.68, 1e-12);
        EXPECT_NEAR(out[0][0], nesterov ? 0.8888 : 0.932, 1e-12);
      }
    }
  }
}

TEST(Optimizer, Rmsprop) {
  for (double wd : {0.0, 0.05}) {
    SCOPED_TRACE("weight decay " + std::to_string(wd));
    auto out = step<double>("rmsprop_update",
                            "{learning_rate = 1.0e-02 : f64, rho = 9.0e-01 : "
                            "f64, epsilon = 1.0e-07 : f64, weight_decay = " +
                                std::to_string(wd) + " : f64}",
                            {kState2});
    ASSERT_EQ(out.size(), 2u);
    std::vector<double> g = decayed(wd), p(4), s(4);
    for (int i = 0; i < 4; ++i) {
      s[i] = 0.9 * kState2[i] + 0.1 * g[i] * g[i];
      p[i] = kParam[i] - 0.01 * g[i] / (std::sqrt(s[i]) + 1e-7);
    }
    expectNear(out[0], p);
    expectNear(out[1], s);
    if (wd == 0) {
      // s' = 0.9 * 0.1 + 0.1 * 0.25 = 0.115; p' = 1 - 0.005 / sqrt(0.115).
      EXPECT_NEAR(out[1][0], 0.115, 1e-12);
      EXPECT_NEAR(out[0][0], 1 - 0.005 / (0.33911649915626341 + 1e-7), 1e-12);
    }
  }
}

TEST(Optimizer, AdamIsBiasCorrectedByTheStep) {
  for (int64_t t0 : {0, 9}) {
    for (double wd : {0.0, 0.02}) {
      SCOPED_TRACE("step " + std::to_string(t0) + ", weight decay " +
                   std::to_string(wd));
      auto out = step<double>(
          "adam_update",
          "{learning_rate = 1.0e-03 : f64, beta_1 = 9.0e-01 : f64, beta_2 = "
          "9.99e-01 : f64, epsilon = 1.0e-07 : f64, weight_decay = " +
              std::to_string(wd) + " : f64}",
          {kState1, kState2}, t0);
      ASSERT_EQ(out.size(), 3u);
      double t = double(t0 + 1);
      std::vector<double> g = decayed(wd), p(4), m(4), v(4);
      for (int i = 0; i < 4; ++i) {
        m[i] = 0.9 * kState1[i] + 0.1 * g[i];
        v[i] = 0.999 * kState2[i] + 0.001 * g[i] * g[i];
        double mHat = m[i] / (1 - std::pow(0.9, t));
        double vHat = v[i] / (1 - std::pow(0.999, t));
        p[i] = kParam[i] - 1e-3 * mHat / (std::sqrt(vHat) + 1e-7);
      }
      expectNear(out[0], p);
      expectNear(out[1], m);
      expectNear(out[2], v);
      if (wd == 0 && t0 == 0) {
        // m' = 0.18 + 0.05 = 0.23, v' = 0.0999 + 0.00025 = 0.10015; the
        // first step divides by 1 - 0.9 and 1 - 0.999.
        EXPECT_NEAR(out[1][0], 0.23, 1e-12);
        EXPECT_NEAR(out[2][0], 0.10015, 1e-12);
        EXPECT_NEAR(out[0][0], 1 - 1e-3 * 2.3 / (std::sqrt(100.15) + 1e-7),
                    1e-12);
      }
    }
  }
}

TEST(Optimizer, FloatMatchesDouble) {
  std::string attrs = "{learning_rate = 1.0e-03 : f64, beta_1 = 9.0e-01 : "
                      "f64, beta_2 = 9.99e-01 : f64, epsilon = 1.0e-07 : f64}";
  auto d = step<double>("adam_update", attrs, {kState1, kState2}, 4);
  auto f = step<float>("adam_update", attrs, {kState1, kState2}, 4);
  ASSERT_EQ(d.size(), 3u);
  ASSERT_EQ(f.size(), 3u);
  for (int k = 0; k < 3; ++k)
    expectNear(f[k], d[k], 1e-6);
}

// @train_step passes the learning rate as an operand; it must act as the
// attribute does, for every optimizer.
TEST(Optimizer, LearningRateOperandActsAsTheAttribute) {
  struct Case {
    const char *op, *attrs;
    int state;
  } cases[] = {
      {"sgd_update", "weight_decay = 0.01 : f64", 0},
      {"momentum_update", "momentum = 0.9 : f64, nesterov", 1},
      {"rmsprop_update", "rho = 0.9 : f64, epsilon = 1.0e-7 : f64", 1},
      {"adam_update",
       "beta_1 = 0.9 : f64, beta_2 = 0.999 : f64, epsilon = 1.0e-7 : f64", 2},
  };
  for (const Case &c : cases) {
    // A velocity or first moment, then a mean square (RMSprop's only state).
    std::vector<std::vector<double>> state;
    if (c.state == 1)
      state = {std::string(c.op) == "rmsprop_update" ? kState2 : kState1};
    if (c.state == 2)
      state = {kState1, kState2};
    auto withAttr = step<double>(
        c.op, std::string("{learning_rate = 0.05 : f64, ") + c.attrs + "}",
        state, 3);
    auto withOperand =
        step<double>(c.op, std::string("{") + c.attrs + "}", state, 3, 0.05);
    ASSERT_FALSE(withAttr.empty()) << c.op;
    ASSERT_EQ(withAttr.size(), withOperand.size()) << c.op;
    for (size_t r = 0; r < withAttr.size(); ++r)
      for (size_t i = 0; i < withAttr[r].size(); ++i)
        EXPECT_NEAR(withAttr[r][i], withOperand[r][i], 1e-9)
            << c.op << " result " << r << " element " << i;
    EXPECT_NE(withAttr[0], kParam) << c.op << " did not move the parameter";
  }
}

} // namespace
