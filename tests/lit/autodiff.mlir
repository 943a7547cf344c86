// RUN: gradc-opt %s --gradc-autodiff -split-input-file -verify-diagnostics | FileCheck %s

// A dense layer, a relu and a loss: one gradient result per float argument,
// built in reverse from a seed of 1.
// CHECK-LABEL: func.func @dense_relu_mse
// CHECK-SAME:  (%[[W:[a-z0-9]+]]: tensor<4x3xf32>, %[[B:[a-z0-9]+]]: tensor<3xf32>, %[[X:[a-z0-9]+]]: tensor<2x4xf32>, %[[L:[a-z0-9]+]]: tensor<2xi32>)
// CHECK-SAME:  -> (tensor<f32>, tensor<4x3xf32>, tensor<3xf32>, tensor<2x4xf32>)
// CHECK-NOT:   nn.differentiate
// CHECK:       %[[Y:.+]] = nn.dense %[[X]], %[[W]], %[[B]]
// CHECK:       %[[R:.+]] = nn.relu %[[Y]]
// CHECK:       %[[LOSS:.+]] = nn.mse %[[R]], %[[L]]
// CHECK:       %[[ONE:.+]] = nn.constant 1.000000e+00 : tensor<f32>
// CHECK:       %[[DR:.+]] = nn.loss_grad %[[R]], %[[L]], %[[ONE]] {kind = #nn.loss<mse>}
// CHECK:       %[[DY:.+]] = nn.activation_grad %[[DR]], %[[Y]] {kind = #nn.activation<relu>}
// CHECK-DAG:   %[[DX:.+]] = nn.matmul %[[DY]], %[[W]] {transpose_rhs} : (tensor<2x3xf32>, tensor<4x3xf32>) -> tensor<2x4xf32>
// CHECK-DAG:   %[[DW:.+]] = nn.matmul %[[X]], %[[DY]] {transpose_lhs} : (tensor<2x4xf32>, tensor<2x3xf32>) -> tensor<4x3xf32>
// CHECK-DAG:   %[[DB:.+]] = nn.bias_grad %[[DY]] : (tensor<2x3xf32>) -> tensor<3xf32>
// CHECK:       return %[[LOSS]], %[[DW]], %[[DB]], %[[DX]]
func.func @dense_relu_mse(%w: tensor<4x3xf32>, %b: tensor<3xf32>, %x: tensor<2x4xf32>, %l: tensor<2xi32>) -> tensor<f32> attributes {nn.differentiate} {
  %0 = nn.dense %x, %w, %b : (tensor<2x4xf32>, tensor<4x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  %1 = nn.relu %0 : tensor<2x3xf32>
  %2 = nn.mse %1, %l : (tensor<2x3xf32>, tensor<2xi32>) -> tensor<f32>
  return %2 : tensor<f32>
}

// -----

// %x feeds two ops: its gradient is the sum of both contributions. An
// argument the loss does not depend on gets a zero gradient.
// CHECK-LABEL: func.func @used_twice
// CHECK-SAME:  (%[[X:[a-z0-9]+]]: tensor<2x3xf32>, %{{.*}}: tensor<3xf32>, %{{.*}}: tensor<2xi32>)
// CHECK-DAG:   %[[S:.+]] = nn.sigmoid %[[X]]
// CHECK-DAG:   %[[T:.+]] = nn.tanh %[[X]]
// CHECK-DAG:   %[[GT:.+]] = nn.activation_grad %{{.*}}, %[[T]] {kind = #nn.activation<tanh>}
// CHECK-DAG:   %[[GS:.+]] = nn.activation_grad %{{.*}}, %[[S]] {kind = #nn.activation<sigmoid>}
// CHECK:       %[[DX:.+]] = nn.add %[[GT]], %[[GS]] : tensor<2x3xf32>
// CHECK:       %[[ZERO:.+]] = nn.constant 0.000000e+00 : tensor<3xf32>
// CHECK:       return %{{.*}}, %[[DX]], %[[ZERO]]
func.func @used_twice(%x: tensor<2x3xf32>, %unused: tensor<3xf32>, %l: tensor<2xi32>) -> tensor<f32> attributes {nn.differentiate} {
  %0 = nn.sigmoid %x : tensor<2x3xf32>
  %1 = nn.tanh %x : tensor<2x3xf32>
  %2 = nn.add %0, %1 : tensor<2x3xf32>
  %3 = nn.mse %2, %l : (tensor<2x3xf32>, tensor<2xi32>) -> tensor<f32>
  return %3 : tensor<f32>
}

// -----

// One op that uses a value twice also accumulates.
// CHECK-LABEL: func.func @add_to_itself
// CHECK:       %[[G:.+]] = nn.loss_grad
// CHECK:       %[[DX:.+]] = nn.add %[[G]], %[[G]]
// CHECK:       return %{{.*}}, %[[DX]]
func.func @add_to_itself(%x: tensor<2x3xf32>, %l: tensor<2xi32>) -> tensor<f32> attributes {nn.differentiate} {
  %0 = nn.add %x, %x : tensor<2x3xf32>
  %1 = nn.mse %0, %l : (tensor<2x3xf32>, tensor<2xi32>) -> tensor<f32>
  return %1 : tensor<f32>
}

// -----

// The conv/pool/flatten/dropout/prelu chain: every backward op appears, the
// fused relu is differentiated from the conv output, and the dropout mask is
// replayed with the same step and seed.
// CHECK-LABEL: func.func @cnn
// CHECK-SAME:  (%[[W:[a-z0-9]+]]: tensor<3x3x1x2xf32>, %[[B:[a-z0-9]+]]: tensor<2xf32>, %[[A:[a-z0-9]+]]: tensor<8xf32>, %[[X:[a-z0-9]+]]: tensor<1x6x6x1xf32>, %[[STEP:[a-z0-9]+]]: tensor<i64>, %[[L:[a-z0-9]+]]: tensor<1xi32>)
// CHECK-SAME:  -> (tensor<f32>, tensor<3x3x1x2xf32>, tensor<2xf32>, tensor<8xf32>, tensor<1x6x6x1xf32>)
// CHECK:       %[[C:.+]] = nn.conv2d %[[X]], %[[W]], %[[B]] {activation = #nn.activation<relu>}
// CHECK:       %[[D:.+]] = nn.dropout %{{.*}}, %[[STEP]]
// CHECK:       %[[DP:.+]] = nn.loss_grad %{{.*}}, %[[L]], %{{.*}} {kind = #nn.loss<softmax_cross_entropy>}
// CHECK:       %[[GI:.+]], %[[GA:.+]] = nn.prelu_grad %[[DP]], %[[D]], %[[A]]
// CHECK:       %[[GD:.+]] = nn.dropout %[[GI]], %[[STEP]] {rate = 5.000000e-01 : f64, seed = 3 : i64}
// CHECK:       %[[GF:.+]] = nn.reshape %[[GD]] : (tensor<1x8xf32>) -> tensor<1x2x2x2xf32>
// CHECK:       %[[GP:.+]] = nn.max_pool2d_grad %[[C]], %[[GF]]
// CHECK:       %[[GC:.+]] = nn.activation_grad %[[GP]], %[[C]] {kind = #nn.activation<relu>}
// CHECK-DAG:   %[[GX:.+]] = nn.conv2d_grad_input %[[GC]], %[[W]]
// CHECK-DAG:   %[[GW:.+]] = nn.conv2d_grad_filter %[[X]], %[[GC]]
// CHECK-DAG:   %[[GB:.+]] = nn.bias_grad %[[GC]]
// CHECK:       return %{{.*}}, %[[GW]], %[[GB]], %[[GA]], %[[GX]]
func.func @cnn(%w: tensor<3x3x1x2xf32>, %b: tensor<2xf32>, %a: tensor<8xf32>, %x: tensor<1x6x6x1xf32>, %step: tensor<i64>, %l: tensor<1xi32>) -> tensor<f32> attributes {nn.differentiate} {
  %0 = nn.conv2d %x, %w, %b {activation = #nn.activation<relu>} : (tensor<1x6x6x1xf32>, tensor<3x3x1x2xf32>, tensor<2xf32>) -> tensor<1x4x4x2xf32>
  %1 = nn.max_pool2d %0 {window = array<i64: 2, 2>, strides = array<i64: 2, 2>} : (tensor<1x4x4x2xf32>) -> tensor<1x2x2x2xf32>
  %2 = nn.flatten %1 : (tensor<1x2x2x2xf32>) -> tensor<1x8xf32>
  %3 = nn.dropout %2, %step {rate = 0.5 : f64, seed = 3 : i64} : tensor<1x8xf32>, tensor<i64>
  %4 = nn.prelu %3, %a : (tensor<1x8xf32>, tensor<8xf32>) -> tensor<1x8xf32>
  %5 = nn.softmax_cross_entropy %4, %l : (tensor<1x8xf32>, tensor<1xi32>) -> tensor<f32>
  return %5 : tensor<f32>
}

// -----

// Functions without the attribute are left alone.
// CHECK-LABEL: func.func @not_marked
// CHECK-SAME:  -> tensor<f32>
// CHECK-NOT:   nn.loss_grad
func.func @not_marked(%x: tensor<2x3xf32>, %l: tensor<2xi32>) -> tensor<f32> {
  %0 = nn.mse %x, %l : (tensor<2x3xf32>, tensor<2xi32>) -> tensor<f32>
  return %0 : tensor<f32>
}

// -----

func.func @through_matmul(%a: tensor<2x4xf32>, %b: tensor<4x3xf32>, %l: tensor<2xi32>) -> tensor<f32> attributes {nn.differentiate} {
  // expected-error @+1 {{no gradient rule for 'nn.matmul'}}
  %0 = nn.matmul %a, %b : (tensor<2x4xf32>, tensor<4x3xf32>) -> tensor<2x3xf32>
  %1 = nn.mse %0, %l : (tensor<2x3xf32>, tensor<2xi32>) -> tensor<f32>
  return %1 : tensor<f32>
}

// -----

// A matmul off the path from the arguments to the loss needs no rule.
// CHECK-LABEL: func.func @matmul_off_the_path
// CHECK:       nn.matmul
// CHECK:       nn.loss_grad
func.func @matmul_off_the_path(%x: tensor<2x3xf32>, %l: tensor<2xi32>) -> (tensor<f32>, tensor<3x3xf32>) attributes {nn.differentiate} {
  %c = nn.constant 1.0 : tensor<2x3xf32>
  %0 = nn.matmul %c, %c {transpose_lhs} : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<3x3xf32>
  %1 = nn.mse %x, %l : (tensor<2x3xf32>, tensor<2xi32>) -> tensor<f32>
  return %1, %0 : tensor<f32>, tensor<3x3xf32>
}

// -----

// expected-error @+1 {{expects the first result to be a 0-D loss}}
func.func @not_a_loss(%a: tensor<2x4xf32>) -> tensor<2x4xf32> attributes {nn.differentiate} {
  %0 = nn.relu %a : tensor<2x4xf32>
  return %0 : tensor<2x4xf32>
}
