//===- GraphGradientTest.cpp - gradients of whole nn functions ------------===//
//
// The gradients autodiff builds for functions of several ops (a value used
// twice, a residual add, a small conv net, causal self-attention) against
// central differences of the reference evaluator in double precision
// (GradientCheck.h).
//
//===----------------------------------------------------------------------===//

#include "GradientCheck.h"

using namespace gradc;
using namespace gradc::test;

namespace {

TEST(GraphGradient, ValueUsedTwiceAndResidualAdd) {
  expectFunctionGradientsMatch(R"mlir(
    func.func @f(%x: tensor<3x4xf32>, %l: tensor<3xi32>) -> tensor<f32> {
      %a = nn.add %x, %x : tensor<3x4xf32>
      %t = nn.tanh %a : tensor<3x4xf32>
      %r = nn.add %t, %x : tensor<3x4xf32>
      %loss = nn.mse %r, %l : (tensor<3x4xf32>, tensor<3xi32>) -> tensor<f32>
      return %loss : tensor<f32>
    })mlir");
}

TEST(GraphGradient, SmallConvNet) {
  expectFunctionGradientsMatch(R"mlir(
    func.func @f(%w1: tensor<3x3x2x3xf32>, %b1: tensor<3xf32>,
                 %a: tensor<3xf32>, %w2: tensor<12x4xf32>, %b2: tensor<4xf32>,
                 %s: tensor<i64>, %x: tensor<2x6x5x2xf32>, %l: tensor<2xi32>)
        -> tensor<f32> {
      %c = nn.conv2d %x, %w1, %b1 {activation = #nn.activation<leaky_relu>, alpha = 1.0e-01 : f64, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>}
          : (tensor<2x6x5x2xf32>, tensor<3x3x2x3xf32>, tensor<3xf32>) -> tensor<2x3x3x3xf32>
      %p = nn.prelu %c, %a : (tensor<2x3x3x3xf32>, tensor<3xf32>) -> tensor<2x3x3x3xf32>
      %m = nn.max_pool2d %p {window = array<i64: 2, 2>, strides = array<i64: 1, 1>}
          : (tensor<2x3x3x3xf32>) -> tensor<2x2x2x3xf32>
      %f = nn.flatten %m : (tensor<2x2x2x3xf32>) -> tensor<2x12xf32>
      %d = nn.dropout %f, %s {rate = 2.5e-01 : f64, seed = 3 : i64} : tensor<2x12xf32>, tensor<i64>
      %y = nn.dense %d, %w2, %b2 : (tensor<2x12xf32>, tensor<12x4xf32>, tensor<4xf32>) -> tensor<2x4xf32>
      %sm = nn.softmax %y : tensor<2x4xf32>
      %loss = nn.cross_entropy %sm, %l : (tensor<2x4xf32>, tensor<2xi32>) -> tensor<f32>
      return %loss : tensor<f32>
    })mlir");
}

TEST(GraphGradient, CausalMaskGivesTheMaskedScoresNone) {
  expectFunctionGradientsMatch(R"mlir(
    func.func @f(%x: tensor<2x3x4xf32>, %l: tensor<2xi32>) -> tensor<f32> {
      %m = nn.causal_mask %x {fill = -5.0 : f64} : tensor<2x3x4xf32>
      %f = nn.reshape %m : (tensor<2x3x4xf32>) -> tensor<2x12xf32>
      %loss = nn.mse %f, %l : (tensor<2x12xf32>, tensor<2xi32>) -> tensor<f32>
      return %loss : tensor<f32>
    })mlir");
}

TEST(GraphGradient, CausalSelfAttention) {
  // Scores of one head, masked, a softmax over the keys and the mix of the
  // values: the masked scores get no gradient, the others through softmax.
  expectFunctionGradientsMatch(R"mlir(
    func.func @f(%x: tensor<2x1x4x3xf32>, %l: tensor<2xi32>) -> tensor<f32> {
      %s = nn.batch_matmul %x, %x {transpose_rhs} : (tensor<2x1x4x3xf32>, tensor<2x1x4x3xf32>) -> tensor<2x1x4x4xf32>
      %m = nn.causal_mask %s {fill = -3.4028234663852886e+38 : f64} : tensor<2x1x4x4xf32>
      %p = nn.softmax %m : tensor<2x1x4x4xf32>
      %y = nn.batch_matmul %p, %x : (tensor<2x1x4x4xf32>, tensor<2x1x4x3xf32>) -> tensor<2x1x4x3xf32>
      %f = nn.reshape %y : (tensor<2x1x4x3xf32>) -> tensor<2x12xf32>
      %loss = nn.mse %f, %l : (tensor<2x12xf32>, tensor<2xi32>) -> tensor<f32>
      return %loss : tensor<f32>
    })mlir");
}

} // namespace
