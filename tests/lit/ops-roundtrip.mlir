// RUN: gradc-opt %s | gradc-opt | FileCheck %s
// RUN: gradc-opt %s --mlir-print-op-generic | gradc-opt | FileCheck %s

// Every op of the nn dialect parses, verifies and prints back to a form that
// parses again to the same thing.

// CHECK-LABEL: func.func @forward
func.func @forward(%x: tensor<2x8x8x3xf32>, %w: tensor<3x3x3x4xf32>,
                   %b: tensor<4xf32>, %dw: tensor<36x10xf32>,
                   %db: tensor<10xf32>, %alpha: tensor<10xf32>,
                   %step: tensor<i64>) -> tensor<2x10xf32> {
  // CHECK: nn.conv2d %{{.*}}, %{{.*}}, %{{.*}} {activation = #nn.activation<relu>, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>} : (tensor<2x8x8x3xf32>, tensor<3x3x3x4xf32>, tensor<4xf32>) -> tensor<2x4x4x4xf32>
  %c = nn.conv2d %x, %w, %b {activation = #nn.activation<relu>, strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>}
      : (tensor<2x8x8x3xf32>, tensor<3x3x3x4xf32>, tensor<4xf32>) -> tensor<2x4x4x4xf32>
  // CHECK: nn.conv2d %{{.*}}, %{{.*}} {dilations = array<i64: 2, 2>} : (tensor<2x8x8x3xf32>, tensor<3x3x3x4xf32>) -> tensor<2x4x4x4xf32>
  %c2 = nn.conv2d %x, %w {dilations = array<i64: 2, 2>}
      : (tensor<2x8x8x3xf32>, tensor<3x3x3x4xf32>) -> tensor<2x4x4x4xf32>
  // CHECK: nn.add %{{.*}}, %{{.*}} : tensor<2x4x4x4xf32>
  %s = nn.add %c, %c2 : tensor<2x4x4x4xf32>
  // CHECK: nn.max_pool2d %{{.*}} {strides = array<i64: 1, 1>, window = array<i64: 2, 2>} : (tensor<2x4x4x4xf32>) -> tensor<2x3x3x4xf32>
  %mp = nn.max_pool2d %s {window = array<i64: 2, 2>, strides = array<i64: 1, 1>}
      : (tensor<2x4x4x4xf32>) -> tensor<2x3x3x4xf32>
  // CHECK: nn.avg_pool2d %{{.*}} {pads = array<i64: 0, 1, 0, 1>, strides = array<i64: 1, 1>, window = array<i64: 3, 3>} : (tensor<2x4x4x4xf32>) -> tensor<2x3x3x4xf32>
  %ap = nn.avg_pool2d %s {window = array<i64: 3, 3>, strides = array<i64: 1, 1>, pads = array<i64: 0, 1, 0, 1>}
      : (tensor<2x4x4x4xf32>) -> tensor<2x3x3x4xf32>
  // CHECK: nn.leaky_relu %{{.*}} {alpha = 1.000000e-01 : f64} : tensor<2x3x3x4xf32>
  %lr = nn.leaky_relu %ap {alpha = 0.1 : f64} : tensor<2x3x3x4xf32>
  // CHECK: nn.reshape %{{.*}} : (tensor<2x3x3x4xf32>) -> tensor<2x36xf32>
  %r = nn.reshape %lr : (tensor<2x3x3x4xf32>) -> tensor<2x36xf32>
  // CHECK: nn.flatten %{{.*}} : (tensor<2x3x3x4xf32>) -> tensor<2x36xf32>
  %f = nn.flatten %mp : (tensor<2x3x3x4xf32>) -> tensor<2x36xf32>
  // CHECK: nn.relu %{{.*}} : tensor<2x36xf32>
  %re = nn.relu %f : tensor<2x36xf32>
  // CHECK: nn.sigmoid %{{.*}} : tensor<2x36xf32>
  %sg = nn.sigmoid %r : tensor<2x36xf32>
  // CHECK: nn.tanh %{{.*}} : tensor<2x36xf32>
  %th = nn.tanh %sg : tensor<2x36xf32>
  // CHECK: nn.transpose %{{.*}} {perm = array<i64: 1, 0>} : (tensor<2x36xf32>) -> tensor<36x2xf32>
  %tr = nn.transpose %th {perm = array<i64: 1, 0>} : (tensor<2x36xf32>) -> tensor<36x2xf32>
  // CHECK: nn.gelu %{{.*}} : tensor<2x36xf32>
  %ge = nn.gelu %th : tensor<2x36xf32>
  // CHECK: nn.gelu %{{.*}} {approximate = true} : tensor<2x36xf32>
  %gt = nn.gelu %ge {approximate = true} : tensor<2x36xf32>
  // CHECK: nn.gelu_grad %{{.*}}, %{{.*}} {approximate = true} : tensor<2x36xf32>
  %gg = nn.gelu_grad %gt, %ge {approximate = true} : tensor<2x36xf32>
  %sum = nn.add %re, %th : tensor<2x36xf32>
  // CHECK: nn.dropout %{{.*}}, %{{.*}} {rate = 5.000000e-01 : f64, seed = 42 : i64} : tensor<2x36xf32>, tensor<i64>
  %d = nn.dropout %sum, %step {rate = 0.5 : f64, seed = 42 : i64} : tensor<2x36xf32>, tensor<i64>
  // CHECK: nn.dropout %{{.*}} {rate = 2.500000e-01 : f64} : tensor<2x36xf32>
  %d2 = nn.dropout %d {rate = 0.25 : f64} : tensor<2x36xf32>
  // CHECK: nn.dense %{{.*}}, %{{.*}}, %{{.*}} : (tensor<2x36xf32>, tensor<36x10xf32>, tensor<10xf32>) -> tensor<2x10xf32>
  %de = nn.dense %d2, %dw, %db : (tensor<2x36xf32>, tensor<36x10xf32>, tensor<10xf32>) -> tensor<2x10xf32>
  // CHECK: nn.dense %{{.*}}, %{{.*}} : (tensor<2x36xf32>, tensor<36x10xf32>) -> tensor<2x10xf32>
  %de2 = nn.dense %d2, %dw : (tensor<2x36xf32>, tensor<36x10xf32>) -> tensor<2x10xf32>
  // CHECK: nn.prelu %{{.*}}, %{{.*}} : (tensor<2x10xf32>, tensor<10xf32>) -> tensor<2x10xf32>
  %pr = nn.prelu %de, %alpha : (tensor<2x10xf32>, tensor<10xf32>) -> tensor<2x10xf32>
  // CHECK: nn.log_softmax %{{.*}} : tensor<2x10xf32>
  %ls = nn.log_softmax %pr : tensor<2x10xf32>
  %a = nn.add %ls, %de2 : tensor<2x10xf32>
  // CHECK: nn.softmax %{{.*}} : tensor<2x10xf32>
  %sm = nn.softmax %a : tensor<2x10xf32>
  return %sm : tensor<2x10xf32>
}

// CHECK-LABEL: func.func @losses
func.func @losses(%p: tensor<4x3xf32>, %p1: tensor<4x1xf64>, %l: tensor<4xi32>)
    -> (tensor<f32>, tensor<f32>, tensor<f64>, tensor<f32>, tensor<f32>,
        tensor<f32>, tensor<f32>, tensor<f32>, tensor<f32>) {
  // CHECK: nn.cross_entropy %{{.*}}, %{{.*}} : (tensor<4x3xf32>, tensor<4xi32>) -> tensor<f32>
  %0 = nn.cross_entropy %p, %l : (tensor<4x3xf32>, tensor<4xi32>) -> tensor<f32>
  // CHECK: nn.softmax_cross_entropy %{{.*}}, %{{.*}} : (tensor<4x3xf32>, tensor<4xi32>) -> tensor<f32>
  %1 = nn.softmax_cross_entropy %p, %l : (tensor<4x3xf32>, tensor<4xi32>) -> tensor<f32>
  // CHECK: nn.binary_cross_entropy %{{.*}}, %{{.*}} : (tensor<4x1xf64>, tensor<4xi32>) -> tensor<f64>
  %2 = nn.binary_cross_entropy %p1, %l : (tensor<4x1xf64>, tensor<4xi32>) -> tensor<f64>
  // CHECK: nn.mse %{{.*}}, %{{.*}} : (tensor<4x3xf32>, tensor<4xi32>) -> tensor<f32>
  %3 = nn.mse %p, %l : (tensor<4x3xf32>, tensor<4xi32>) -> tensor<f32>
  // CHECK: nn.mae %{{.*}}, %{{.*}} : (tensor<4x3xf32>, tensor<4xi32>) -> tensor<f32>
  %4 = nn.mae %p, %l : (tensor<4x3xf32>, tensor<4xi32>) -> tensor<f32>
  // CHECK: nn.huber %{{.*}}, %{{.*}} {delta = 5.000000e-01 : f64} : (tensor<4x3xf32>, tensor<4xi32>) -> tensor<f32>
  %5 = nn.huber %p, %l {delta = 0.5 : f64} : (tensor<4x3xf32>, tensor<4xi32>) -> tensor<f32>
  // CHECK: nn.hinge %{{.*}}, %{{.*}} : (tensor<4x3xf32>, tensor<4xi32>) -> tensor<f32>
  %6 = nn.hinge %p, %l : (tensor<4x3xf32>, tensor<4xi32>) -> tensor<f32>
  // CHECK: nn.squared_hinge %{{.*}}, %{{.*}} : (tensor<4x3xf32>, tensor<4xi32>) -> tensor<f32>
  %7 = nn.squared_hinge %p, %l : (tensor<4x3xf32>, tensor<4xi32>) -> tensor<f32>
  // CHECK: nn.categorical_hinge %{{.*}}, %{{.*}} : (tensor<4x3xf32>, tensor<4xi32>) -> tensor<f32>
  %8 = nn.categorical_hinge %p, %l : (tensor<4x3xf32>, tensor<4xi32>) -> tensor<f32>
  return %0, %1, %2, %3, %4, %5, %6, %7, %8 : tensor<f32>, tensor<f32>, tensor<f64>, tensor<f32>, tensor<f32>, tensor<f32>, tensor<f32>, tensor<f32>, tensor<f32>
}

// CHECK-LABEL: func.func @backward
func.func @backward(%x: tensor<2x8x8x3xf32>, %w: tensor<3x3x3x4xf32>,
                    %dy: tensor<2x6x6x4xf32>, %a: tensor<4x8xf32>,
                    %b: tensor<4x3xf32>)
    -> (tensor<2x8x8x3xf32>, tensor<3x3x3x4xf32>, tensor<2x6x6x4xf32>,
        tensor<2x6x6x4xf32>, tensor<8x3xf32>, tensor<4x4xf32>, tensor<f32>) {
  // CHECK: nn.conv2d_grad_input %{{.*}}, %{{.*}} : (tensor<2x6x6x4xf32>, tensor<3x3x3x4xf32>) -> tensor<2x8x8x3xf32>
  %dx = nn.conv2d_grad_input %dy, %w : (tensor<2x6x6x4xf32>, tensor<3x3x3x4xf32>) -> tensor<2x8x8x3xf32>
  // CHECK: nn.conv2d_grad_filter %{{.*}}, %{{.*}} : (tensor<2x8x8x3xf32>, tensor<2x6x6x4xf32>) -> tensor<3x3x3x4xf32>
  %dw = nn.conv2d_grad_filter %x, %dy : (tensor<2x8x8x3xf32>, tensor<2x6x6x4xf32>) -> tensor<3x3x3x4xf32>
  // CHECK: nn.max_pool2d_grad %{{.*}}, %{{.*}} {strides = array<i64: 2, 2>, window = array<i64: 2, 2>} : (tensor<2x6x6x4xf32>, tensor<2x3x3x4xf32>) -> tensor<2x6x6x4xf32>
  %pooled = nn.constant 1.0 : tensor<2x3x3x4xf32>
  %dmp = nn.max_pool2d_grad %dy, %pooled {window = array<i64: 2, 2>, strides = array<i64: 2, 2>}
      : (tensor<2x6x6x4xf32>, tensor<2x3x3x4xf32>) -> tensor<2x6x6x4xf32>
  // CHECK: nn.avg_pool2d_grad %{{.*}}, %{{.*}} {pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 3, 3>, window = array<i64: 2, 2>} : (tensor<2x6x6x4xf32>, tensor<2x3x3x4xf32>) -> tensor<2x6x6x4xf32>
  %dap = nn.avg_pool2d_grad %dy, %pooled {window = array<i64: 2, 2>, strides = array<i64: 3, 3>, pads = array<i64: 1, 1, 1, 1>}
      : (tensor<2x6x6x4xf32>, tensor<2x3x3x4xf32>) -> tensor<2x6x6x4xf32>
  // CHECK: nn.matmul %{{.*}}, %{{.*}} {transpose_lhs} : (tensor<4x8xf32>, tensor<4x3xf32>) -> tensor<8x3xf32>
  %mm = nn.matmul %a, %b {transpose_lhs} : (tensor<4x8xf32>, tensor<4x3xf32>) -> tensor<8x3xf32>
  // CHECK: nn.matmul %{{.*}}, %{{.*}} {transpose_rhs} : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x4xf32>
  %mm2 = nn.matmul %a, %a {transpose_rhs} : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x4xf32>
  // CHECK: nn.constant 1.000000e+00 : tensor<f32>
  %one = nn.constant 1.0 : tensor<f32>
  return %dx, %dw, %dmp, %dap, %mm, %mm2, %one
      : tensor<2x8x8x3xf32>, tensor<3x3x3x4xf32>, tensor<2x6x6x4xf32>,
        tensor<2x6x6x4xf32>, tensor<8x3xf32>, tensor<4x4xf32>, tensor<f32>
}

// The product of two activations: attention's q k^T, a broadcast batch
// dimension, a transposed lhs and one matrix for every batch index.
// CHECK-LABEL: func.func @batch_matmul
func.func @batch_matmul(%q: tensor<2x4x8x16xf32>, %k: tensor<2x4x8x16xf32>,
    %v: tensor<2x1x16x3xf32>, %w: tensor<16x3xf32>)
    -> (tensor<2x4x8x8xf32>, tensor<2x4x8x3xf32>, tensor<2x4x16x16xf32>,
        tensor<2x4x8x3xf32>) {
  // CHECK: nn.batch_matmul %{{.*}}, %{{.*}} {transpose_rhs} : (tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>) -> tensor<2x4x8x8xf32>
  %s = nn.batch_matmul %q, %k {transpose_rhs} : (tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>) -> tensor<2x4x8x8xf32>
  // CHECK: nn.batch_matmul %{{.*}}, %{{.*}} : (tensor<2x4x8x16xf32>, tensor<2x1x16x3xf32>) -> tensor<2x4x8x3xf32>
  %o = nn.batch_matmul %q, %v : (tensor<2x4x8x16xf32>, tensor<2x1x16x3xf32>) -> tensor<2x4x8x3xf32>
  // CHECK: nn.batch_matmul %{{.*}}, %{{.*}} {transpose_lhs} : (tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>) -> tensor<2x4x16x16xf32>
  %g = nn.batch_matmul %k, %q {transpose_lhs} : (tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>) -> tensor<2x4x16x16xf32>
  // CHECK: nn.batch_matmul %{{.*}}, %{{.*}} : (tensor<2x4x8x16xf32>, tensor<16x3xf32>) -> tensor<2x4x8x3xf32>
  %d = nn.batch_matmul %q, %w : (tensor<2x4x8x16xf32>, tensor<16x3xf32>) -> tensor<2x4x8x3xf32>
  return %s, %o, %g, %d : tensor<2x4x8x8xf32>, tensor<2x4x8x3xf32>,
      tensor<2x4x16x16xf32>, tensor<2x4x8x3xf32>
}

// The primitives gradient rules are composed of.
// CHECK-LABEL: func.func @primitives
func.func @primitives(%a: tensor<4x3xf32>, %b: tensor<4x3xf32>, %l: tensor<4xi32>,
                      %dy: tensor<2x6x6x4xf32>, %s: tensor<f32>)
    -> (tensor<4x3xf32>, tensor<4xf32>, tensor<2x6x6x4xf32>, tensor<4x3xf32>) {
  // CHECK: nn.sub %{{.*}}, %{{.*}} : tensor<4x3xf32>
  %0 = nn.sub %a, %b : tensor<4x3xf32>
  // CHECK: nn.mul %{{.*}}, %{{.*}} : tensor<4x3xf32>
  %1 = nn.mul %0, %b : tensor<4x3xf32>
  // CHECK: nn.div %{{.*}}, %{{.*}} : tensor<4x3xf32>
  %2 = nn.div %1, %a : tensor<4x3xf32>
  // CHECK: nn.maximum %{{.*}}, %{{.*}} : tensor<4x3xf32>
  %3 = nn.maximum %2, %a : tensor<4x3xf32>
  // CHECK: nn.minimum %{{.*}}, %{{.*}} : tensor<4x3xf32>
  %4 = nn.minimum %3, %b : tensor<4x3xf32>
  // CHECK: nn.exp %{{.*}} : tensor<4x3xf32>
  %5 = nn.exp %4 : tensor<4x3xf32>
  // CHECK: nn.log %{{.*}} : tensor<4x3xf32>
  %6 = nn.log %5 : tensor<4x3xf32>
  // CHECK: nn.rsqrt %{{.*}} : tensor<4x3xf32>
  %7 = nn.rsqrt %5 : tensor<4x3xf32>
  // CHECK: nn.sign %{{.*}} : tensor<4x3xf32>
  %8 = nn.sign %6 : tensor<4x3xf32>
  // CHECK: nn.compare %{{.*}}, %{{.*}} {predicate = #nn.compare<ge>} : tensor<4x3xf32>
  %9 = nn.compare %7, %8 {predicate = #nn.compare<ge>} : tensor<4x3xf32>
  // CHECK: nn.select %{{.*}}, %{{.*}}, %{{.*}} : tensor<4x3xf32>
  %10 = nn.select %9, %a, %b : tensor<4x3xf32>
  // CHECK: nn.reduce_max %{{.*}} {axes = array<i64: 1>} : (tensor<4x3xf32>) -> tensor<4xf32>
  %11 = nn.reduce_max %10 {axes = array<i64: 1>} : (tensor<4x3xf32>) -> tensor<4xf32>
  // CHECK: nn.reduce_sum %{{.*}} {axes = array<i64: 0, 1, 2>} : (tensor<2x6x6x4xf32>) -> tensor<4xf32>
  %12 = nn.reduce_sum %dy {axes = array<i64: 0, 1, 2>} : (tensor<2x6x6x4xf32>) -> tensor<4xf32>
  // CHECK: nn.broadcast %{{.*}} {dims = array<i64: 3>} : (tensor<4xf32>) -> tensor<2x6x6x4xf32>
  %13 = nn.broadcast %12 {dims = array<i64: 3>} : (tensor<4xf32>) -> tensor<2x6x6x4xf32>
  // CHECK: nn.broadcast %{{.*}} {dims = array<i64>} : (tensor<f32>) -> tensor<4x3xf32>
  %14 = nn.broadcast %s {dims = array<i64>} : (tensor<f32>) -> tensor<4x3xf32>
  // CHECK: nn.argmax %{{.*}} : (tensor<4x3xf32>) -> tensor<4xi32>
  %15 = nn.argmax %14 : (tensor<4x3xf32>) -> tensor<4xi32>
  // CHECK: nn.one_hot %{{.*}} : (tensor<4xi32>) -> tensor<4x3xf32>
  %16 = nn.one_hot %15 : (tensor<4xi32>) -> tensor<4x3xf32>
  return %10, %11, %13, %16 : tensor<4x3xf32>, tensor<4xf32>, tensor<2x6x6x4xf32>, tensor<4x3xf32>
}

// CHECK-LABEL: func.func @metrics_and_updates
func.func @metrics_and_updates(%p: tensor<4x3xf32>, %l: tensor<4xi32>,
                               %w: tensor<10xf32>, %g: tensor<10xf32>,
                               %s1: tensor<10xf32>, %s2: tensor<10xf32>,
                               %step: tensor<i64>)
    -> (tensor<i64>, tensor<10xf32>, tensor<10xf32>, tensor<10xf32>,
        tensor<10xf32>, tensor<10xf32>, tensor<10xf32>, tensor<10xf32>,
        tensor<10xf32>) {
  // CHECK: nn.correct_count %{{.*}}, %{{.*}} : (tensor<4x3xf32>, tensor<4xi32>) -> tensor<i64>
  %c = nn.correct_count %p, %l : (tensor<4x3xf32>, tensor<4xi32>) -> tensor<i64>
  // CHECK: nn.sgd_update %{{.*}}, %{{.*}} {learning_rate = 1.000000e-02 : f64, weight_decay = 5.000000e-04 : f64} : (tensor<10xf32>, tensor<10xf32>) -> tensor<10xf32>
  %0 = nn.sgd_update %w, %g {learning_rate = 0.01 : f64, weight_decay = 5.0e-4 : f64}
      : (tensor<10xf32>, tensor<10xf32>) -> tensor<10xf32>
  // CHECK: nn.momentum_update %{{.*}}, %{{.*}}, %{{.*}} {learning_rate = 1.000000e-02 : f64, momentum = 9.000000e-01 : f64, nesterov} : (tensor<10xf32>, tensor<10xf32>, tensor<10xf32>) -> (tensor<10xf32>, tensor<10xf32>)
  %1:2 = nn.momentum_update %w, %g, %s1 {learning_rate = 0.01 : f64, momentum = 0.9 : f64, nesterov}
      : (tensor<10xf32>, tensor<10xf32>, tensor<10xf32>) -> (tensor<10xf32>, tensor<10xf32>)
  // CHECK: nn.rmsprop_update %{{.*}}, %{{.*}}, %{{.*}} {epsilon = 9.9999999999999995E-8 : f64, learning_rate = 1.000000e-03 : f64, rho = 9.000000e-01 : f64} : (tensor<10xf32>, tensor<10xf32>, tensor<10xf32>) -> (tensor<10xf32>, tensor<10xf32>)
  %2:2 = nn.rmsprop_update %w, %g, %s1 {learning_rate = 0.001 : f64, rho = 0.9 : f64, epsilon = 1.0e-07 : f64}
      : (tensor<10xf32>, tensor<10xf32>, tensor<10xf32>) -> (tensor<10xf32>, tensor<10xf32>)
  // CHECK: nn.adam_update %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {beta_1 = 9.000000e-01 : f64, beta_2 = 0.99899999999999999 : f64, epsilon = 9.9999999999999995E-8 : f64, learning_rate = 1.000000e-03 : f64} : (tensor<10xf32>, tensor<10xf32>, tensor<10xf32>, tensor<10xf32>, tensor<i64>) -> (tensor<10xf32>, tensor<10xf32>, tensor<10xf32>)
  %3:3 = nn.adam_update %w, %g, %s1, %s2, %step {learning_rate = 0.001 : f64, beta_1 = 0.9 : f64, beta_2 = 0.999 : f64, epsilon = 1.0e-07 : f64}
      : (tensor<10xf32>, tensor<10xf32>, tensor<10xf32>, tensor<10xf32>, tensor<i64>) -> (tensor<10xf32>, tensor<10xf32>, tensor<10xf32>)
  return %c, %0, %1#0, %1#1, %2#0, %2#1, %3#0, %3#1, %3#2
      : tensor<i64>, tensor<10xf32>, tensor<10xf32>, tensor<10xf32>,
        tensor<10xf32>, tensor<10xf32>, tensor<10xf32>, tensor<10xf32>,
        tensor<10xf32>
}

// The learning rate as an operand, as @train_step passes it.
// CHECK-LABEL: func.func @updates_with_lr_operand
func.func @updates_with_lr_operand(%w: tensor<10xf32>, %g: tensor<10xf32>,
                                   %m: tensor<10xf32>, %step: tensor<i64>,
                                   %lr: tensor<f32>)
    -> (tensor<10xf32>, tensor<10xf32>, tensor<10xf32>, tensor<10xf32>) {
  // CHECK: nn.sgd_update %{{.*}}, %{{.*}}, %{{.*}} : (tensor<10xf32>, tensor<10xf32>, tensor<f32>) -> tensor<10xf32>
  %0 = nn.sgd_update %w, %g, %lr : (tensor<10xf32>, tensor<10xf32>, tensor<f32>) -> tensor<10xf32>
  // CHECK: nn.adam_update %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {beta_1
  // CHECK-SAME: (tensor<10xf32>, tensor<10xf32>, tensor<10xf32>, tensor<10xf32>, tensor<i64>, tensor<f32>)
  %1:3 = nn.adam_update %w, %g, %m, %m, %step, %lr {beta_1 = 0.9 : f64, beta_2 = 0.999 : f64, epsilon = 1.0e-07 : f64}
      : (tensor<10xf32>, tensor<10xf32>, tensor<10xf32>, tensor<10xf32>, tensor<i64>, tensor<f32>) -> (tensor<10xf32>, tensor<10xf32>, tensor<10xf32>)
  return %0, %1#0, %1#1, %1#2 : tensor<10xf32>, tensor<10xf32>, tensor<10xf32>, tensor<10xf32>
}

// CHECK-LABEL: func.func @embedding
func.func @embedding(%ids: tensor<4x8xi64>, %ids32: tensor<4xi32>,
                     %table: tensor<50x16xf32>, %dy: tensor<4x8x16xf32>)
    -> (tensor<4x8x16xf32>, tensor<4x16xf32>, tensor<50x16xf32>) {
  // CHECK: nn.embedding %{{.*}}, %{{.*}} : (tensor<4x8xi64>, tensor<50x16xf32>) -> tensor<4x8x16xf32>
  %0 = nn.embedding %ids, %table : (tensor<4x8xi64>, tensor<50x16xf32>) -> tensor<4x8x16xf32>
  // CHECK: nn.embedding %{{.*}}, %{{.*}} : (tensor<4xi32>, tensor<50x16xf32>) -> tensor<4x16xf32>
  %1 = nn.embedding %ids32, %table : (tensor<4xi32>, tensor<50x16xf32>) -> tensor<4x16xf32>
  // CHECK: nn.embedding_grad %{{.*}}, %{{.*}} : (tensor<4x8xi64>, tensor<4x8x16xf32>) -> tensor<50x16xf32>
  %2 = nn.embedding_grad %ids, %dy : (tensor<4x8xi64>, tensor<4x8x16xf32>) -> tensor<50x16xf32>
  return %0, %1, %2 : tensor<4x8x16xf32>, tensor<4x16xf32>, tensor<50x16xf32>
}

// CHECK-LABEL: func.func @attention
func.func @attention(%q: tensor<2x4x8x16xf32>, %k: tensor<2x4x8x16xf32>, %v: tensor<2x4x8x16xf32>) -> (tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>) {
  // CHECK: nn.attention %{{.*}}, %{{.*}}, %{{.*}} {causal, scale = 2.500000e-01 : f64} : (tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>) -> (tensor<2x4x8x16xf32>, tensor<2x4x8xf32>)
  %o, %lse = nn.attention %q, %k, %v {scale = 0.25 : f64, causal} : (tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>) -> (tensor<2x4x8x16xf32>, tensor<2x4x8xf32>)
  // CHECK: nn.attention_grad
  %dq, %dk, %dv = nn.attention_grad %o, %q, %k, %v, %o, %lse {scale = 0.25 : f64, causal} : (tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>, tensor<2x4x8xf32>) -> (tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>)
  // CHECK: nn.causal_mask %{{.*}} {fill = 0.000000e+00 : f64, transposed}
  %m = nn.causal_mask %dq {fill = 0.0 : f64, transposed} : tensor<2x4x8x16xf32>
  return %dk, %m : tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>
}
