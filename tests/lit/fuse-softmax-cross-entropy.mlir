// RUN: gradc-opt %s --gradc-fuse-softmax-cross-entropy -split-input-file | FileCheck %s

// CHECK-LABEL: func.func @fused
// CHECK-SAME:  (%[[LOGITS:[a-z0-9]+]]: tensor<4x3xf32>, %[[L:[a-z0-9]+]]: tensor<4xi32>)
// CHECK-NOT:   nn.softmax %
// CHECK:       %[[LOSS:.+]] = nn.softmax_cross_entropy %[[LOGITS]], %[[L]] : (tensor<4x3xf32>, tensor<4xi32>) -> tensor<f32>
// CHECK-NOT:   nn.cross_entropy
// CHECK:       return %[[LOSS]]
func.func @fused(%logits: tensor<4x3xf32>, %l: tensor<4xi32>) -> tensor<f32> {
  %p = nn.softmax %logits : tensor<4x3xf32>
  %0 = nn.cross_entropy %p, %l : (tensor<4x3xf32>, tensor<4xi32>) -> tensor<f32>
  return %0 : tensor<f32>
}

// -----

// The probabilities are returned as well: the softmax stays for them, and
// the loss still reads the logits.
// CHECK-LABEL: func.func @softmax_also_returned
// CHECK-SAME:  (%[[LOGITS:[a-z0-9]+]]: tensor<4x3xf32>, %[[L:[a-z0-9]+]]: tensor<4xi32>)
// CHECK-DAG:   %[[P:.+]] = nn.softmax %[[LOGITS]] : tensor<4x3xf32>
// CHECK-DAG:   %[[LOSS:.+]] = nn.softmax_cross_entropy %[[LOGITS]], %[[L]]
// CHECK-NOT:   nn.cross_entropy
// CHECK:       return %[[LOSS]], %[[P]]
func.func @softmax_also_returned(%logits: tensor<4x3xf32>, %l: tensor<4xi32>) -> (tensor<f32>, tensor<4x3xf32>) {
  %p = nn.softmax %logits : tensor<4x3xf32>
  %0 = nn.cross_entropy %p, %l : (tensor<4x3xf32>, tensor<4xi32>) -> tensor<f32>
  return %0, %p : tensor<f32>, tensor<4x3xf32>
}

// -----

// Cross-entropy on probabilities that do not come from a softmax is kept.
// CHECK-LABEL: func.func @not_a_softmax
// CHECK:       nn.sigmoid
// CHECK:       nn.cross_entropy
// CHECK-NOT:   nn.softmax_cross_entropy
func.func @not_a_softmax(%x: tensor<4x3xf32>, %l: tensor<4xi32>) -> tensor<f32> {
  %p = nn.sigmoid %x : tensor<4x3xf32>
  %0 = nn.cross_entropy %p, %l : (tensor<4x3xf32>, tensor<4xi32>) -> tensor<f32>
  return %0 : tensor<f32>
}

// -----

// Other losses on a softmax are not cross-entropy and stay as they are.
// CHECK-LABEL: func.func @mse_on_softmax
// CHECK:       %[[P:.+]] = nn.softmax
// CHECK:       nn.mse %[[P]]
func.func @mse_on_softmax(%x: tensor<4x3xf32>, %l: tensor<4xi32>) -> tensor<f32> {
  %p = nn.softmax %x : tensor<4x3xf32>
  %0 = nn.mse %p, %l : (tensor<4x3xf32>, tensor<4xi32>) -> tensor<f32>
  return %0 : tensor<f32>
}
