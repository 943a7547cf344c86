// RUN: gradc-opt %s | gradc-opt | FileCheck %s
// RUN: gradc-opt %s --mlir-print-op-generic | gradc-opt | FileCheck %s
// RUN: gradc-opt %s --gradc-lower-nn-to-linalg | FileCheck %s --check-prefix=LINALG

// The ops of modern CNN layers round-trip, and each lowers to linalg.

// CHECK-LABEL: func.func @grouped_conv
// LINALG-LABEL: func.func @grouped_conv
func.func @grouped_conv(%x: tensor<2x6x6x4xf32>, %w: tensor<3x3x2x6xf32>) -> tensor<2x4x4x6xf32> {
  // CHECK: nn.conv2d %{{.*}}, %{{.*}} {groups = 2 : i64}
  // LINALG-COUNT-2: linalg.conv_2d_nhwc_hwcf
  // LINALG-NOT: nn.
  %y = nn.conv2d %x, %w {groups = 2 : i64} : (tensor<2x6x6x4xf32>, tensor<3x3x2x6xf32>) -> tensor<2x4x4x6xf32>
  return %y : tensor<2x4x4x6xf32>
}

// CHECK-LABEL: func.func @depthwise_conv
// LINALG-LABEL: func.func @depthwise_conv
func.func @depthwise_conv(%x: tensor<2x6x6x4xf32>, %w: tensor<3x3x1x4xf32>) -> tensor<2x4x4x4xf32> {
  // CHECK: nn.conv2d %{{.*}}, %{{.*}} {groups = 4 : i64}
  // LINALG: linalg.depthwise_conv_2d_nhwc_hwc
  %y = nn.conv2d %x, %w {groups = 4 : i64} : (tensor<2x6x6x4xf32>, tensor<3x3x1x4xf32>) -> tensor<2x4x4x4xf32>
  return %y : tensor<2x4x4x4xf32>
}

// CHECK-LABEL: func.func @grouped_conv_grads
// LINALG-LABEL: func.func @grouped_conv_grads
func.func @grouped_conv_grads(%x: tensor<2x6x6x4xf32>, %w: tensor<3x3x2x6xf32>, %dy: tensor<2x4x4x6xf32>) -> (tensor<2x6x6x4xf32>, tensor<3x3x2x6xf32>) {
  // CHECK: nn.conv2d_grad_input %{{.*}}, %{{.*}} {groups = 2 : i64}
  // CHECK: nn.conv2d_grad_filter %{{.*}}, %{{.*}} {groups = 2 : i64}
  // LINALG-COUNT-4: linalg.conv_2d_nhwc_hwcf
  // LINALG-NOT: nn.
  %dx = nn.conv2d_grad_input %dy, %w {groups = 2 : i64} : (tensor<2x4x4x6xf32>, tensor<3x3x2x6xf32>) -> tensor<2x6x6x4xf32>
  %dw = nn.conv2d_grad_filter %x, %dy {groups = 2 : i64} : (tensor<2x6x6x4xf32>, tensor<2x4x4x6xf32>) -> tensor<3x3x2x6xf32>
  return %dx, %dw : tensor<2x6x6x4xf32>, tensor<3x3x2x6xf32>
}

// CHECK-LABEL: func.func @global_pools
// LINALG-LABEL: func.func @global_pools
func.func @global_pools(%x: tensor<2x5x5x3xf32>) -> (tensor<2x3xf32>, tensor<2x3xf32>) {
  // CHECK: nn.global_avg_pool2d %{{.*}} : (tensor<2x5x5x3xf32>) -> tensor<2x3xf32>
  // CHECK: nn.global_max_pool2d %{{.*}} : (tensor<2x5x5x3xf32>) -> tensor<2x3xf32>
  // LINALG: linalg.generic {{.*}}iterator_types = ["parallel", "reduction", "reduction", "parallel"]
  // LINALG: arith.addf
  // LINALG: arith.mulf %{{.*}}, %cst{{.*}}
  // LINALG: linalg.generic {{.*}}iterator_types = ["parallel", "reduction", "reduction", "parallel"]
  // LINALG: arith.maximumf
  %a = nn.global_avg_pool2d %x : (tensor<2x5x5x3xf32>) -> tensor<2x3xf32>
  %m = nn.global_max_pool2d %x : (tensor<2x5x5x3xf32>) -> tensor<2x3xf32>
  return %a, %m : tensor<2x3xf32>, tensor<2x3xf32>
}

// CHECK-LABEL: func.func @concat_slice
// LINALG-LABEL: func.func @concat_slice
func.func @concat_slice(%a: tensor<2x4x4x3xf32>, %b: tensor<2x4x4x5xf32>) -> tensor<2x4x4x5xf32> {
  // CHECK: nn.concat %{{.*}}, %{{.*}} {axis = 3 : i64} : (tensor<2x4x4x3xf32>, tensor<2x4x4x5xf32>) -> tensor<2x4x4x8xf32>
  // CHECK: nn.slice %{{.*}} {axis = 3 : i64, offset = 3 : i64, size = 5 : i64}
  // LINALG: tensor.insert_slice %{{.*}} into %{{.*}}[0, 0, 0, 0] [2, 4, 4, 3]
  // LINALG: tensor.insert_slice %{{.*}} into %{{.*}}[0, 0, 0, 3] [2, 4, 4, 5]
  // LINALG: tensor.extract_slice %{{.*}}[0, 0, 0, 3] [2, 4, 4, 5]
  %c = nn.concat %a, %b {axis = 3 : i64} : (tensor<2x4x4x3xf32>, tensor<2x4x4x5xf32>) -> tensor<2x4x4x8xf32>
  %s = nn.slice %c {axis = 3 : i64, offset = 3 : i64, size = 5 : i64} : (tensor<2x4x4x8xf32>) -> tensor<2x4x4x5xf32>
  return %s : tensor<2x4x4x5xf32>
}

// CHECK-LABEL: func.func @batch_norm
// LINALG-LABEL: func.func @batch_norm
func.func @batch_norm(%x: tensor<2x4x4x3xf32>, %g: tensor<3xf32>, %b: tensor<3xf32>, %m: tensor<3xf32>, %v: tensor<3xf32>) -> tensor<2x4x4x3xf32> {
  // CHECK: nn.batch_norm %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {epsilon = 1.000000e-03 : f64, momentum = 0.98{{[0-9]*}} : f64}
  // LINALG: math.sqrt
  // LINALG: linalg.generic {{.*}}iterator_types = ["parallel", "parallel", "parallel", "parallel"]
  // LINALG-NOT: nn.
  %y = nn.batch_norm %x, %g, %b, %m, %v {epsilon = 1.0e-3 : f64, momentum = 0.99 : f64}
      : (tensor<2x4x4x3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>) -> tensor<2x4x4x3xf32>
  return %y : tensor<2x4x4x3xf32>
}

// CHECK-LABEL: func.func @batch_norm_train
// LINALG-LABEL: func.func @batch_norm_train
func.func @batch_norm_train(%x: tensor<2x4x4x3xf32>, %g: tensor<3xf32>, %b: tensor<3xf32>, %run: tensor<3xf32>)
    -> (tensor<2x4x4x3xf32>, tensor<3xf32>) {
  // CHECK: nn.batch_norm_train %{{.*}}, %{{.*}}, %{{.*}} {epsilon = 1.000000e-03 : f64}
  // CHECK: nn.moving_average %{{.*}}, %{{.*}} {momentum = 0.98{{[0-9]*}} : f64, scale = 1.03{{[0-9]*}} : f64}
  // The mean, then the centred squares: reductions into [C].
  // LINALG: linalg.generic {{.*}}iterator_types = ["reduction", "reduction", "reduction", "parallel"]
  // LINALG: linalg.generic {{.*}}iterator_types = ["reduction", "reduction", "reduction", "parallel"]
  // The running average writes into its buffer.
  // LINALG: linalg.generic {{.*}} ins(%{{.*}} : tensor<3xf32>) outs(%arg3 : tensor<3xf32>)
  // LINALG-NOT: nn.
  %y, %mean, %var = nn.batch_norm_train %x, %g, %b {epsilon = 1.0e-3 : f64}
      : (tensor<2x4x4x3xf32>, tensor<3xf32>, tensor<3xf32>) -> (tensor<2x4x4x3xf32>, tensor<3xf32>, tensor<3xf32>)
  %r = nn.moving_average %run, %var {momentum = 0.99 : f64, scale = 1.032258 : f64}
      : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  return %y, %r : tensor<2x4x4x3xf32>, tensor<3xf32>
}

// CHECK-LABEL: func.func @batch_norm_grad
// LINALG-LABEL: func.func @batch_norm_grad
func.func @batch_norm_grad(%dy: tensor<2x4x4x3xf32>, %x: tensor<2x4x4x3xf32>, %g: tensor<3xf32>, %m: tensor<3xf32>, %v: tensor<3xf32>)
    -> (tensor<2x4x4x3xf32>, tensor<3xf32>, tensor<3xf32>) {
  // CHECK: nn.batch_norm_grad %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {epsilon = 1.000000e-03 : f64}
  // LINALG-COUNT-2: iterator_types = ["reduction", "reduction", "reduction", "parallel"]
  // LINALG: iterator_types = ["parallel", "parallel", "parallel", "parallel"]
  // LINALG-NOT: nn.
  %dx, %dg, %db = nn.batch_norm_grad %dy, %x, %g, %m, %v {epsilon = 1.0e-3 : f64}
      : (tensor<2x4x4x3xf32>, tensor<2x4x4x3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>)
      -> (tensor<2x4x4x3xf32>, tensor<3xf32>, tensor<3xf32>)
  return %dx, %dg, %db : tensor<2x4x4x3xf32>, tensor<3xf32>, tensor<3xf32>
}

// CHECK-LABEL: func.func @conv2d_batch_norm
// LINALG-LABEL: func.func @conv2d_batch_norm
func.func @conv2d_batch_norm(%x: tensor<2x6x6x4xf32>, %w: tensor<3x3x1x4xf32>, %c: tensor<4xf32>) -> tensor<2x4x4x4xf32> {
  // CHECK: nn.conv2d_batch_norm %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {activation = #nn.activation<leaky_relu>, alpha = 1.000000e-01 : f64, epsilon = 1.000000e-05 : f64, groups = 4 : i64, momentum = 0.000000e+00 : f64}
  // LINALG: linalg.depthwise_conv_2d_nhwc_hwc
  // LINALG-NOT: nn.
  %y = nn.conv2d_batch_norm %x, %w, %c, %c, %c, %c, %c {activation = #nn.activation<leaky_relu>, alpha = 0.1 : f64, epsilon = 1.0e-5 : f64, groups = 4 : i64, momentum = 0.0 : f64}
      : (tensor<2x6x6x4xf32>, tensor<3x3x1x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<2x4x4x4xf32>
  return %y : tensor<2x4x4x4xf32>
}
