// RUN: gradc-opt %s --gradc-fuse-attention -split-input-file | FileCheck %s

// The multi_head_attention layer's form: q scaled, q k^T, causal mask,
// softmax, the product with v.
// CHECK-LABEL: func.func @layer_form
// CHECK-SAME:  (%[[Q:[a-z0-9]+]]: tensor<2x4x8x16xf32>, %[[K:[a-z0-9]+]]: tensor<2x4x8x16xf32>, %[[V:[a-z0-9]+]]: tensor<2x4x8x16xf32>)
// CHECK:       %[[O:.+]], %{{.+}} = nn.attention %[[Q]], %[[K]], %[[V]] {causal, scale = 2.500000e-01 : f64} : (tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>) -> (tensor<2x4x8x16xf32>, tensor<2x4x8xf32>)
// CHECK-NOT:   nn.softmax
// CHECK-NOT:   nn.batch_matmul
// CHECK:       return %[[O]]
func.func @layer_form(%q: tensor<2x4x8x16xf32>, %k: tensor<2x4x8x16xf32>, %v: tensor<2x4x8x16xf32>) -> tensor<2x4x8x16xf32> {
  %c = nn.constant 2.500000e-01 : tensor<2x4x8x16xf32>
  %qs = nn.mul %q, %c : tensor<2x4x8x16xf32>
  %s = nn.batch_matmul %qs, %k {transpose_rhs} : (tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>) -> tensor<2x4x8x8xf32>
  %m = nn.causal_mask %s {fill = -3.4028234663852886e+38 : f64} : tensor<2x4x8x8xf32>
  %p = nn.softmax %m : tensor<2x4x8x8xf32>
  %o = nn.batch_matmul %p, %v : (tensor<2x4x8x8xf32>, tensor<2x4x8x16xf32>) -> tensor<2x4x8x16xf32>
  return %o : tensor<2x4x8x16xf32>
}

// -----

// The scores divided by sqrt(d) after the product (as ONNX graphs write
// it); no mask;
// keys and values of another length and width than the queries.
// CHECK-LABEL: func.func @divided_scores
// CHECK:       nn.attention %arg0, %arg1, %arg2 {scale = 5.000000e-01 : f64} : (tensor<3x5x4xf32>, tensor<3x7x4xf32>, tensor<3x7x6xf32>) -> (tensor<3x5x6xf32>, tensor<3x5xf32>)
func.func @divided_scores(%q: tensor<3x5x4xf32>, %k: tensor<3x7x4xf32>, %v: tensor<3x7x6xf32>) -> tensor<3x5x6xf32> {
  %s = nn.batch_matmul %q, %k {transpose_rhs} : (tensor<3x5x4xf32>, tensor<3x7x4xf32>) -> tensor<3x5x7xf32>
  %c = nn.constant 2.000000e+00 : tensor<3x5x7xf32>
  %d = nn.div %s, %c : tensor<3x5x7xf32>
  %p = nn.softmax %d : tensor<3x5x7xf32>
  %o = nn.batch_matmul %p, %v : (tensor<3x5x7xf32>, tensor<3x7x6xf32>) -> tensor<3x5x6xf32>
  return %o : tensor<3x5x6xf32>
}

// -----

// The attention weights are also returned: nothing fuses.
// CHECK-LABEL: func.func @weights_returned
// CHECK-NOT:   nn.attention
// CHECK:       nn.softmax
func.func @weights_returned(%q: tensor<3x5x4xf32>, %k: tensor<3x5x4xf32>, %v: tensor<3x5x4xf32>) -> (tensor<3x5x4xf32>, tensor<3x5x5xf32>) {
  %s = nn.batch_matmul %q, %k {transpose_rhs} : (tensor<3x5x4xf32>, tensor<3x5x4xf32>) -> tensor<3x5x5xf32>
  %p = nn.softmax %s : tensor<3x5x5xf32>
  %o = nn.batch_matmul %p, %v : (tensor<3x5x5xf32>, tensor<3x5x4xf32>) -> tensor<3x5x4xf32>
  return %o, %p : tensor<3x5x4xf32>, tensor<3x5x5xf32>
}

// -----

// A mask that lets the future through (fill 0) is not attention's mask;
// nor is a product without k^T.
// CHECK-LABEL: func.func @not_attention
// CHECK-NOT:   nn.attention
func.func @not_attention(%q: tensor<3x5x4xf32>, %k: tensor<3x5x4xf32>, %kt: tensor<3x4x5xf32>, %v: tensor<3x5x4xf32>) -> (tensor<3x5x4xf32>, tensor<3x5x4xf32>) {
  %s = nn.batch_matmul %q, %k {transpose_rhs} : (tensor<3x5x4xf32>, tensor<3x5x4xf32>) -> tensor<3x5x5xf32>
  %m = nn.causal_mask %s {fill = 0.0 : f64} : tensor<3x5x5xf32>
  %p = nn.softmax %m : tensor<3x5x5xf32>
  %o = nn.batch_matmul %p, %v : (tensor<3x5x5xf32>, tensor<3x5x4xf32>) -> tensor<3x5x4xf32>
  %s2 = nn.batch_matmul %q, %kt : (tensor<3x5x4xf32>, tensor<3x4x5xf32>) -> tensor<3x5x5xf32>
  %p2 = nn.softmax %s2 : tensor<3x5x5xf32>
  %o2 = nn.batch_matmul %p2, %v : (tensor<3x5x5xf32>, tensor<3x5x4xf32>) -> tensor<3x5x4xf32>
  return %o, %o2 : tensor<3x5x4xf32>, tensor<3x5x4xf32>
}

// -----

// A scale after the mask scales its fill: 1e-10 * -3.4e38 is no longer a
// mask, and nothing fuses.
// CHECK-LABEL: func.func @scaled_mask
// CHECK-NOT:   nn.attention
// CHECK:       nn.causal_mask
func.func @scaled_mask(%q: tensor<3x5x4xf32>, %k: tensor<3x5x4xf32>, %v: tensor<3x5x4xf32>) -> tensor<3x5x4xf32> {
  %s = nn.batch_matmul %q, %k {transpose_rhs} : (tensor<3x5x4xf32>, tensor<3x5x4xf32>) -> tensor<3x5x5xf32>
  %m = nn.causal_mask %s {fill = -3.4028234663852886e+38 : f64} : tensor<3x5x5xf32>
  %c = nn.constant 1.000000e-10 : tensor<3x5x5xf32>
  %x = nn.mul %m, %c : tensor<3x5x5xf32>
  %p = nn.softmax %x : tensor<3x5x5xf32>
  %o = nn.batch_matmul %p, %v : (tensor<3x5x5xf32>, tensor<3x5x4xf32>) -> tensor<3x5x4xf32>
  return %o : tensor<3x5x4xf32>
}
