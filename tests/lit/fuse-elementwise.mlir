// RUN: gradc-opt %s --gradc-fuse-elementwise --split-input-file | FileCheck %s

// A reshape of a matmul's result is not folded into the matmul: it stays a
// named op that the vectorizer tiles (upstream makes it a 5-D generic).
// CHECK-LABEL: func.func @matmul_then_expand
// CHECK:       linalg.matmul_transpose_b
// CHECK:       tensor.expand_shape
// CHECK-NOT:   linalg.generic
func.func @matmul_then_expand(%dy: tensor<64x500xf32>, %w: tensor<800x500xf32>, %init: tensor<64x800xf32>) -> tensor<64x4x4x50xf32> {
  %0 = linalg.matmul_transpose_b ins(%dy, %w : tensor<64x500xf32>, tensor<800x500xf32>) outs(%init : tensor<64x800xf32>) -> tensor<64x800xf32>
  %1 = tensor.expand_shape %0 [[0], [1, 2, 3]] output_shape [64, 4, 4, 50] : tensor<64x800xf32> into tensor<64x4x4x50xf32>
  return %1 : tensor<64x4x4x50xf32>
}

// -----

// Elementwise producers and consumers still fuse into one generic, also
// across a reshape between two generics.
#id2 = affine_map<(d0, d1) -> (d0, d1)>
#id4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
// CHECK-LABEL: func.func @elementwise_chain
// CHECK:       linalg.generic
// CHECK:         arith.addf
// CHECK:         arith.maximumf
// CHECK-NOT:   linalg.generic
func.func @elementwise_chain(%a: tensor<64x800xf32>, %b: tensor<64x800xf32>) -> tensor<64x4x4x50xf32> {
  %e = tensor.empty() : tensor<64x800xf32>
  %0 = linalg.generic {indexing_maps = [#id2, #id2, #id2], iterator_types = ["parallel", "parallel"]} ins(%a, %b : tensor<64x800xf32>, tensor<64x800xf32>) outs(%e : tensor<64x800xf32>) {
  ^bb0(%x: f32, %y: f32, %o: f32):
    %s = arith.addf %x, %y : f32
    linalg.yield %s : f32
  } -> tensor<64x800xf32>
  %1 = tensor.expand_shape %0 [[0], [1, 2, 3]] output_shape [64, 4, 4, 50] : tensor<64x800xf32> into tensor<64x4x4x50xf32>
  %e4 = tensor.empty() : tensor<64x4x4x50xf32>
  %zero = arith.constant 0.0 : f32
  %2 = linalg.generic {indexing_maps = [#id4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%1 : tensor<64x4x4x50xf32>) outs(%e4 : tensor<64x4x4x50xf32>) {
  ^bb0(%x: f32, %o: f32):
    %r = arith.maximumf %x, %zero : f32
    linalg.yield %r : f32
  } -> tensor<64x4x4x50xf32>
  return %2 : tensor<64x4x4x50xf32>
}
