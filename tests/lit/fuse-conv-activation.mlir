// RUN: gradc-opt %s --gradc-fuse-conv-activation -split-input-file | FileCheck %s

// CHECK-LABEL: func.func @relu_with_bias
// CHECK-SAME:  (%[[X:[a-z0-9]+]]: tensor<1x8x8x1xf32>, %[[W:[a-z0-9]+]]: tensor<3x3x1x4xf32>, %[[B:[a-z0-9]+]]: tensor<4xf32>)
// CHECK:       %[[Y:.+]] = nn.conv2d %[[X]], %[[W]], %[[B]] {activation = #nn.activation<relu>} : (tensor<1x8x8x1xf32>, tensor<3x3x1x4xf32>, tensor<4xf32>) -> tensor<1x6x6x4xf32>
// CHECK-NOT:   nn.relu
// CHECK:       return %[[Y]]
func.func @relu_with_bias(%x: tensor<1x8x8x1xf32>, %w: tensor<3x3x1x4xf32>, %b: tensor<4xf32>) -> tensor<1x6x6x4xf32> {
  %0 = nn.conv2d %x, %w, %b : (tensor<1x8x8x1xf32>, tensor<3x3x1x4xf32>, tensor<4xf32>) -> tensor<1x6x6x4xf32>
  %1 = nn.relu %0 : tensor<1x6x6x4xf32>
  return %1 : tensor<1x6x6x4xf32>
}

// -----

// CHECK-LABEL: func.func @relu_without_bias
// CHECK:       %[[Y:.+]] = nn.conv2d %{{[^ ,]+}}, %{{[^ ,]+}} {activation = #nn.activation<relu>, strides = array<i64: 2, 2>} : (tensor<1x8x8x1xf32>, tensor<3x3x1x4xf32>) -> tensor<1x3x3x4xf32>
// CHECK-NOT:   nn.relu
// CHECK:       return %[[Y]]
func.func @relu_without_bias(%x: tensor<1x8x8x1xf32>, %w: tensor<3x3x1x4xf32>) -> tensor<1x3x3x4xf32> {
  %0 = nn.conv2d %x, %w {strides = array<i64: 2, 2>} : (tensor<1x8x8x1xf32>, tensor<3x3x1x4xf32>) -> tensor<1x3x3x4xf32>
  %1 = nn.relu %0 : tensor<1x3x3x4xf32>
  return %1 : tensor<1x3x3x4xf32>
}

// -----

// CHECK-LABEL: func.func @leaky_relu
// CHECK:       %[[Y:.+]] = nn.conv2d %{{[^ ,]+}}, %{{[^ ,]+}}, %{{[^ ,]+}} {activation = #nn.activation<leaky_relu>, alpha = 1.000000e-01 : f64}
// CHECK-NOT:   nn.leaky_relu
// CHECK:       return %[[Y]]
func.func @leaky_relu(%x: tensor<1x8x8x1xf32>, %w: tensor<3x3x1x4xf32>, %b: tensor<4xf32>) -> tensor<1x6x6x4xf32> {
  %0 = nn.conv2d %x, %w, %b : (tensor<1x8x8x1xf32>, tensor<3x3x1x4xf32>, tensor<4xf32>) -> tensor<1x6x6x4xf32>
  %1 = nn.leaky_relu %0 {alpha = 0.1 : f64} : tensor<1x6x6x4xf32>
  return %1 : tensor<1x6x6x4xf32>
}

// -----

// A negative slope does not keep the sign of the pre-activation, so the
// backward pass could not recover it from the fused output: no fusion.
// CHECK-LABEL: func.func @leaky_relu_negative_alpha
// CHECK:       %[[C:.+]] = nn.conv2d %{{[^ ,]+}}, %{{[^ ,]+}} : (
// CHECK:       nn.leaky_relu %[[C]] {alpha = -5.000000e-01 : f64}
func.func @leaky_relu_negative_alpha(%x: tensor<1x8x8x1xf32>, %w: tensor<3x3x1x4xf32>) -> tensor<1x6x6x4xf32> {
  %0 = nn.conv2d %x, %w : (tensor<1x8x8x1xf32>, tensor<3x3x1x4xf32>) -> tensor<1x6x6x4xf32>
  %1 = nn.leaky_relu %0 {alpha = -0.5 : f64} : tensor<1x6x6x4xf32>
  return %1 : tensor<1x6x6x4xf32>
}

// -----

// The pre-activation conv result is also returned: fusing would lose it.
// CHECK-LABEL: func.func @conv_has_another_user
// CHECK:       %[[C:.+]] = nn.conv2d %{{[^ ,]+}}, %{{[^ ,]+}}, %{{[^ ,]+}} : (
// CHECK-NOT:   activation
// CHECK:       %[[R:.+]] = nn.relu %[[C]]
// CHECK:       return %[[R]], %[[C]]
func.func @conv_has_another_user(%x: tensor<1x8x8x1xf32>, %w: tensor<3x3x1x4xf32>, %b: tensor<4xf32>) -> (tensor<1x6x6x4xf32>, tensor<1x6x6x4xf32>) {
  %0 = nn.conv2d %x, %w, %b : (tensor<1x8x8x1xf32>, tensor<3x3x1x4xf32>, tensor<4xf32>) -> tensor<1x6x6x4xf32>
  %1 = nn.relu %0 : tensor<1x6x6x4xf32>
  return %1, %0 : tensor<1x6x6x4xf32>, tensor<1x6x6x4xf32>
}

// -----

// Two activations of one conv: neither may be fused.
// CHECK-LABEL: func.func @two_activations
// CHECK:       %[[C:.+]] = nn.conv2d
// CHECK-DAG:   nn.relu %[[C]]
// CHECK-DAG:   nn.leaky_relu %[[C]]
func.func @two_activations(%x: tensor<1x8x8x1xf32>, %w: tensor<3x3x1x4xf32>) -> (tensor<1x6x6x4xf32>, tensor<1x6x6x4xf32>) {
  %0 = nn.conv2d %x, %w : (tensor<1x8x8x1xf32>, tensor<3x3x1x4xf32>) -> tensor<1x6x6x4xf32>
  %1 = nn.relu %0 : tensor<1x6x6x4xf32>
  %2 = nn.leaky_relu %0 {alpha = 0.2 : f64} : tensor<1x6x6x4xf32>
  return %1, %2 : tensor<1x6x6x4xf32>, tensor<1x6x6x4xf32>
}

// -----

// A conv that already carries an activation does not take a second one.
// CHECK-LABEL: func.func @already_fused
// CHECK:       %[[C:.+]] = nn.conv2d %{{[^ ,]+}}, %{{[^ ,]+}} {activation = #nn.activation<relu>}
// CHECK:       nn.relu %[[C]]
func.func @already_fused(%x: tensor<1x8x8x1xf32>, %w: tensor<3x3x1x4xf32>) -> tensor<1x6x6x4xf32> {
  %0 = nn.conv2d %x, %w {activation = #nn.activation<relu>} : (tensor<1x8x8x1xf32>, tensor<3x3x1x4xf32>) -> tensor<1x6x6x4xf32>
  %1 = nn.relu %0 : tensor<1x6x6x4xf32>
  return %1 : tensor<1x6x6x4xf32>
}

// -----

// A relu whose input is not a conv is left alone.
// CHECK-LABEL: func.func @relu_of_dense
// CHECK:       nn.dense
// CHECK:       nn.relu
func.func @relu_of_dense(%x: tensor<2x4xf32>, %w: tensor<4x3xf32>) -> tensor<2x3xf32> {
  %0 = nn.dense %x, %w : (tensor<2x4xf32>, tensor<4x3xf32>) -> tensor<2x3xf32>
  %1 = nn.relu %0 : tensor<2x3xf32>
  return %1 : tensor<2x3xf32>
}
