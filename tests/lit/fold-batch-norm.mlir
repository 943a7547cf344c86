// RUN: gradc-opt %s --gradc-fold-batch-norm --gradc-fuse-conv-activation -split-input-file | FileCheck %s
// RUN: gradc-opt %s --gradc-fold-batch-norm --gradc-lower-nn-to-linalg -split-input-file | FileCheck %s --check-prefix=LINALG

// A conv2d feeding only a batch norm folds into conv2d_batch_norm (a zero
// constant stands for a missing bias), which then takes the ReLU too. Its
// lowering scales the filter per output channel and convolves once.
// CHECK-LABEL: func.func @fold
// CHECK:       %[[ZERO:.*]] = nn.constant 0.000000e+00 : tensor<4xf32>
// CHECK:       %[[Y:.*]] = nn.conv2d_batch_norm %arg0, %arg1, %[[ZERO]], %arg2, %arg3, %arg4, %arg5 {activation = #nn.activation<relu>, epsilon = 1.000000e-03 : f64, momentum = {{.*}}, pads = array<i64: 1, 1, 1, 1>}
// CHECK-NOT:   nn.batch_norm
// CHECK-NOT:   nn.relu
// CHECK:       return %[[Y]]
// LINALG-LABEL: func.func @fold
// LINALG:       math.sqrt
// LINALG:       linalg.generic {{.*}} ins(%arg1, %{{.*}} : tensor<3x3x2x4xf32>, tensor<4xf32>)
// LINALG:       linalg.conv_2d_nhwc_hwcf
// LINALG-NOT:   linalg.conv_2d_nhwc_hwcf
// LINALG-NOT:   nn.
func.func @fold(%x: tensor<2x5x5x2xf32>, %w: tensor<3x3x2x4xf32>, %g: tensor<4xf32>, %b: tensor<4xf32>,
                %m: tensor<4xf32>, %v: tensor<4xf32>) -> tensor<2x5x5x4xf32> {
  %c = nn.conv2d %x, %w {pads = array<i64: 1, 1, 1, 1>} : (tensor<2x5x5x2xf32>, tensor<3x3x2x4xf32>) -> tensor<2x5x5x4xf32>
  %y = nn.batch_norm %c, %g, %b, %m, %v {epsilon = 1.0e-3 : f64, momentum = 0.99 : f64}
      : (tensor<2x5x5x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<2x5x5x4xf32>
  %r = nn.relu %y : tensor<2x5x5x4xf32>
  return %r : tensor<2x5x5x4xf32>
}

// -----

// A conv whose output is used elsewhere, or that already has an
// activation, stays as it is.
// CHECK-LABEL: func.func @no_fold
// LINALG-LABEL: func.func @no_fold
// CHECK:       nn.conv2d %arg0, %arg1 {activation = #nn.activation<relu>
// CHECK:       nn.batch_norm
// CHECK:       nn.conv2d %arg0, %arg1 :
// CHECK:       nn.batch_norm
// CHECK:       nn.add
func.func @no_fold(%x: tensor<2x5x5x4xf32>, %w: tensor<1x1x4x4xf32>, %g: tensor<4xf32>, %b: tensor<4xf32>,
                   %m: tensor<4xf32>, %v: tensor<4xf32>) -> tensor<2x5x5x4xf32> {
  %c = nn.conv2d %x, %w {activation = #nn.activation<relu>} : (tensor<2x5x5x4xf32>, tensor<1x1x4x4xf32>) -> tensor<2x5x5x4xf32>
  %y = nn.batch_norm %c, %g, %b, %m, %v {epsilon = 1.0e-3 : f64, momentum = 0.99 : f64}
      : (tensor<2x5x5x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<2x5x5x4xf32>
  %c2 = nn.conv2d %x, %w : (tensor<2x5x5x4xf32>, tensor<1x1x4x4xf32>) -> tensor<2x5x5x4xf32>
  %y2 = nn.batch_norm %c2, %g, %b, %m, %v {epsilon = 1.0e-3 : f64, momentum = 0.99 : f64}
      : (tensor<2x5x5x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<2x5x5x4xf32>
  %s = nn.add %y2, %c2 : tensor<2x5x5x4xf32>
  %t = nn.add %s, %y : tensor<2x5x5x4xf32>
  return %t : tensor<2x5x5x4xf32>
}
