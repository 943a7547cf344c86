// RUN: gradc-opt %s | gradc-opt | FileCheck %s

// CHECK-LABEL: func.func @dense_unknown_features
// CHECK:       nn.dense
func.func @dense_unknown_features(%x: tensor<2x?xf32>, %w: tensor<4x3xf32>) -> tensor<2x3xf32> {
  %0 = nn.dense %x, %w : (tensor<2x?xf32>, tensor<4x3xf32>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// CHECK-LABEL: func.func @conv_unknown_height_width
// CHECK:       nn.conv2d
func.func @conv_unknown_height_width(%x: tensor<1x?x?x1xf32>, %w: tensor<3x3x1x4xf32>) -> tensor<1x?x?x4xf32> {
  %0 = nn.conv2d %x, %w : (tensor<1x?x?x1xf32>, tensor<3x3x1x4xf32>) -> tensor<1x?x?x4xf32>
  return %0 : tensor<1x?x?x4xf32>
}

// CHECK-LABEL: func.func @pool_unknown_height
// CHECK:       nn.max_pool2d
func.func @pool_unknown_height(%x: tensor<1x?x4x1xf32>) -> tensor<1x?x2x1xf32> {
  %0 = nn.max_pool2d %x {window = array<i64: 2, 2>, strides = array<i64: 2, 2>} : (tensor<1x?x4x1xf32>) -> tensor<1x?x2x1xf32>
  return %0 : tensor<1x?x2x1xf32>
}

// CHECK-LABEL: func.func @loss_unknown_labels
// CHECK:       nn.mse
func.func @loss_unknown_labels(%p: tensor<4x3xf32>, %l: tensor<?xi32>) -> tensor<f32> {
  %0 = nn.mse %p, %l : (tensor<4x3xf32>, tensor<?xi32>) -> tensor<f32>
  return %0 : tensor<f32>
}

// An unknown batch already works and must keep working.
// CHECK-LABEL: func.func @unknown_batch
// CHECK:       nn.conv2d {{.*}} -> tensor<?x6x6x4xf32>
// CHECK:       nn.flatten {{.*}} -> tensor<?x144xf32>
func.func @unknown_batch(%x: tensor<?x8x8x1xf32>, %w: tensor<3x3x1x4xf32>) -> tensor<?x144xf32> {
  %0 = nn.conv2d %x, %w : (tensor<?x8x8x1xf32>, tensor<3x3x1x4xf32>) -> tensor<?x6x6x4xf32>
  %1 = nn.flatten %0 : (tensor<?x6x6x4xf32>) -> tensor<?x144xf32>
  return %1 : tensor<?x144xf32>
}
