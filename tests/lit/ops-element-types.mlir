// RUN: gradc-opt %s -split-input-file -verify-diagnostics
// Every op checks that its float operands and results share one element type.

func.func @max_pool_element_type(%x: tensor<1x4x4x1xf32>) {
  // expected-error @+1 {{expects one float element type, got 'f32' and 'f64'}}
  %0 = nn.max_pool2d %x {window = array<i64: 2, 2>, strides = array<i64: 2, 2>} : (tensor<1x4x4x1xf32>) -> tensor<1x2x2x1xf64>
  return
}

// -----

func.func @avg_pool_grad_element_type(%x: tensor<1x4x4x1xf32>, %dy: tensor<1x2x2x1xf64>) {
  // expected-error @+1 {{expects one float element type, got 'f32' and 'f64'}}
  %0 = nn.avg_pool2d_grad %x, %dy {window = array<i64: 2, 2>, strides = array<i64: 2, 2>} : (tensor<1x4x4x1xf32>, tensor<1x2x2x1xf64>) -> tensor<1x4x4x1xf32>
  return
}

// -----

func.func @flatten_element_type(%x: tensor<2x3x3xf32>) {
  // expected-error @+1 {{expects one float element type, got 'f32' and 'f64'}}
  %0 = nn.flatten %x : (tensor<2x3x3xf32>) -> tensor<2x9xf64>
  return
}

// -----

func.func @reduce_sum_element_type(%dy: tensor<2x3xf32>) {
  // expected-error @+1 {{expects one float element type, got 'f32' and 'f64'}}
  %0 = nn.reduce_sum %dy {axes = array<i64: 0>} : (tensor<2x3xf32>) -> tensor<3xf64>
  return
}

// -----

func.func @sgd_update_element_type(%p: tensor<3xf32>, %g: tensor<3xf64>) {
  // expected-error @+1 {{expects one float element type, got 'f32' and 'f64'}}
  %0 = nn.sgd_update %p, %g {learning_rate = 0.1 : f64} : (tensor<3xf32>, tensor<3xf64>) -> tensor<3xf32>
  return
}
