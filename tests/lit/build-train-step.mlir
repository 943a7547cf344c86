// RUN: gradc-opt %s --gradc-build-train-step -split-input-file -verify-diagnostics | FileCheck %s

// Adam: two state slots per parameter, the step drives the bias correction
// and the dropout mask; the loss is fused with the softmax before autodiff.
module attributes {nn.loss = {kind = "cross_entropy", delta = 1.0 : f64}, nn.optimizer = {kind = "adam", learning_rate = 0.001 : f64, beta_1 = 0.9 : f64, beta_2 = 0.999 : f64, epsilon = 1.0e-7 : f64, weight_decay = 0.0 : f64}} {
  func.func @predict(%w: tensor<4x3xf32> {nn.param = "fc.kernel"}, %b: tensor<3xf32> {nn.param = "fc.bias"}, %x: tensor<2x4xf32> {nn.input = "x"}) -> tensor<2x3xf32> {
    %d = nn.dropout %x {rate = 0.25 : f64, seed = 9 : i64} : tensor<2x4xf32>
    %0 = nn.dense %d, %w, %b : (tensor<2x4xf32>, tensor<4x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
    %1 = nn.softmax %0 : tensor<2x3xf32>
    return %1 : tensor<2x3xf32>
  }
}

// The forward function is kept as it was.
// CHECK-LABEL: func.func @predict
// CHECK:       nn.dropout %{{[^ ,]+}} {rate
// CHECK:       nn.softmax

// @eval_step: no step, so dropout stays the identity; loss and accuracy on
// the logits.
// CHECK-LABEL: func.func @eval_step
// CHECK-SAME:  (%[[W:[a-z0-9]+]]: tensor<4x3xf32> {nn.param = "fc.kernel"}, %[[B:[a-z0-9]+]]: tensor<3xf32> {nn.param = "fc.bias"}, %[[X:[a-z0-9]+]]: tensor<2x4xf32> {nn.input = "x"}, %[[L:[a-z0-9]+]]: tensor<2xi32> {nn.labels})
// CHECK-SAME:  -> (tensor<f32>, tensor<i64>)
// CHECK:       %[[D:.+]] = nn.dropout %[[X]] {rate = 2.500000e-01 : f64, seed = 9 : i64} : tensor<2x4xf32>
// CHECK:       %[[Y:.+]] = nn.dense %[[D]], %[[W]], %[[B]]
// CHECK-NOT:   nn.softmax
// CHECK:       %[[LOSS:.+]] = nn.softmax_cross_entropy %[[Y]], %[[L]]
// CHECK:       %[[N:.+]] = nn.correct_count %[[Y]], %[[L]]
// CHECK-NOT:   _update
// CHECK:       return %[[LOSS]], %[[N]] : tensor<f32>, tensor<i64>

// @train_step(params, state, step, x, labels) -> (loss, count, new params, new state).
// CHECK-LABEL: func.func @train_step
// CHECK-SAME:  (%[[W:[a-z0-9]+]]: tensor<4x3xf32> {nn.param = "fc.kernel"}, %[[B:[a-z0-9]+]]: tensor<3xf32> {nn.param = "fc.bias"},
// CHECK-SAME:  %[[WM:[a-z0-9]+]]: tensor<4x3xf32> {nn.state = "fc.kernel.m"}, %[[WV:[a-z0-9]+]]: tensor<4x3xf32> {nn.state = "fc.kernel.v"},
// CHECK-SAME:  %[[BM:[a-z0-9]+]]: tensor<3xf32> {nn.state = "fc.bias.m"}, %[[BV:[a-z0-9]+]]: tensor<3xf32> {nn.state = "fc.bias.v"},
// CHECK-SAME:  %[[STEP:[a-z0-9]+]]: tensor<i64> {nn.step}, %[[LR:[a-z0-9]+]]: tensor<f32> {nn.learning_rate}, %[[X:[a-z0-9]+]]: tensor<2x4xf32> {nn.input = "x"}, %[[L:[a-z0-9]+]]: tensor<2xi32> {nn.labels})
// CHECK-SAME:  -> (tensor<f32>, tensor<i64>, tensor<4x3xf32>, tensor<3xf32>, tensor<4x3xf32>, tensor<4x3xf32>, tensor<3xf32>, tensor<3xf32>)
// CHECK:       %[[D:.+]] = nn.dropout %[[X]], %[[STEP]] {rate = 2.500000e-01 : f64, seed = 9 : i64} : tensor<2x4xf32>, tensor<i64>
// CHECK:       %[[Y:.+]] = nn.dense %[[D]], %[[W]], %[[B]]
// CHECK:       %[[LOSS:.+]] = nn.softmax_cross_entropy %[[Y]], %[[L]]
// CHECK:       %[[N:.+]] = nn.correct_count %[[Y]], %[[L]]
// CHECK:       %[[SM:.+]] = nn.softmax %[[Y]]
// CHECK:       %[[E:.+]] = nn.sub %[[SM]], %{{.+}}
// CHECK:       %[[DY:.+]] = nn.mul %[[E]], %{{.+}}
// CHECK-DAG:   %[[DW:.+]] = nn.matmul %[[D]], %[[DY]] {transpose_lhs}
// CHECK-DAG:   %[[DB:.+]] = nn.reduce_sum %[[DY]] {axes = array<i64: 0>}
// CHECK:       %[[W2:.+]], %[[WM2:.+]], %[[WV2:.+]] = nn.adam_update %[[W]], %[[DW]], %[[WM]], %[[WV]], %[[STEP]], %[[LR]] {beta_1 = 9.000000e-01 : f64, beta_2 = 0.99899999999999999 : f64, epsilon = 9.9999999999999995E-8 : f64}
// CHECK:       %[[B2:.+]], %[[BM2:.+]], %[[BV2:.+]] = nn.adam_update %[[B]], %[[DB]], %[[BM]], %[[BV]], %[[STEP]], %[[LR]]
// CHECK:       return %[[LOSS]], %[[N]], %[[W2]], %[[B2]], %[[WM2]], %[[WV2]], %[[BM2]], %[[BV2]]

// -----

// SGD: no state, weight decay carried to the update.
module attributes {nn.loss = {kind = "mse"}, nn.optimizer = {kind = "sgd", learning_rate = 0.1 : f64, weight_decay = 1.0e-4 : f64}} {
  func.func @predict(%w: tensor<4x3xf32> {nn.param = "fc.kernel"}, %x: tensor<2x4xf32> {nn.input = "x"}) -> tensor<2x3xf32> {
    %0 = nn.dense %x, %w : (tensor<2x4xf32>, tensor<4x3xf32>) -> tensor<2x3xf32>
    return %0 : tensor<2x3xf32>
  }
}
// CHECK-LABEL: func.func @eval_step
// CHECK:       nn.mse
// CHECK-LABEL: func.func @train_step
// CHECK-SAME:  (%[[W:[a-z0-9]+]]: tensor<4x3xf32> {nn.param = "fc.kernel"}, %{{[a-z0-9]+}}: tensor<i64> {nn.step}, %[[LR:[a-z0-9]+]]: tensor<f32> {nn.learning_rate}, %{{[a-z0-9]+}}: tensor<2x4xf32> {nn.input = "x"}, %{{[a-z0-9]+}}: tensor<2xi32> {nn.labels})
// CHECK-SAME:  -> (tensor<f32>, tensor<i64>, tensor<4x3xf32>)
// CHECK:       %[[DW:.+]] = nn.matmul %{{[^ ,]+}}, %[[G:[0-9]+]] {transpose_lhs}
// CHECK:       %[[W2:.+]] = nn.sgd_update %[[W]], %[[DW]], %[[LR]] {weight_decay = 1.000000e-04 : f64}
// CHECK:       return %{{[^ ,]+}}, %{{[^ ,]+}}, %[[W2]] :

// -----

// Momentum with Nesterov: one velocity per parameter.
module attributes {nn.loss = {kind = "mse"}, nn.optimizer = {kind = "momentum", learning_rate = 0.01 : f64, momentum = 0.9 : f64, nesterov = true, weight_decay = 0.0 : f64}} {
  func.func @predict(%w: tensor<4x3xf32> {nn.param = "fc.kernel"}, %x: tensor<2x4xf32> {nn.input = "x"}) -> tensor<2x3xf32> {
    %0 = nn.dense %x, %w : (tensor<2x4xf32>, tensor<4x3xf32>) -> tensor<2x3xf32>
    return %0 : tensor<2x3xf32>
  }
}
// CHECK-LABEL: func.func @train_step
// CHECK-SAME:  (%[[W:[a-z0-9]+]]: tensor<4x3xf32> {nn.param = "fc.kernel"}, %[[V:[a-z0-9]+]]: tensor<4x3xf32> {nn.state = "fc.kernel.velocity"}, %{{[a-z0-9]+}}: tensor<i64> {nn.step}, %[[LR:[a-z0-9]+]]: tensor<f32> {nn.learning_rate},
// CHECK-SAME:  -> (tensor<f32>, tensor<i64>, tensor<4x3xf32>, tensor<4x3xf32>)
// CHECK:       %[[W2:.+]], %[[V2:.+]] = nn.momentum_update %[[W]], %{{[^ ,]+}}, %[[V]], %[[LR]] {momentum = 9.000000e-01 : f64, nesterov}
// CHECK:       return %{{[^ ,]+}}, %{{[^ ,]+}}, %[[W2]], %[[V2]] :

// -----

// Plain momentum: no nesterov flag.
module attributes {nn.loss = {kind = "mse"}, nn.optimizer = {kind = "momentum", learning_rate = 0.01 : f64, momentum = 0.5 : f64, nesterov = false}} {
  func.func @predict(%w: tensor<4x3xf32> {nn.param = "fc.kernel"}, %x: tensor<2x4xf32> {nn.input = "x"}) -> tensor<2x3xf32> {
    %0 = nn.dense %x, %w : (tensor<2x4xf32>, tensor<4x3xf32>) -> tensor<2x3xf32>
    return %0 : tensor<2x3xf32>
  }
}
// CHECK-LABEL: func.func @train_step
// CHECK:       nn.momentum_update {{.*}} {momentum = 5.000000e-01 : f64} :

// -----

// RMSprop: one mean square per parameter.
module attributes {nn.loss = {kind = "mse"}, nn.optimizer = {kind = "rmsprop", learning_rate = 0.001 : f64, rho = 0.8 : f64, epsilon = 1.0e-6 : f64}} {
  func.func @predict(%w: tensor<4x3xf32> {nn.param = "fc.kernel"}, %x: tensor<2x4xf32> {nn.input = "x"}) -> tensor<2x3xf32> {
    %0 = nn.dense %x, %w : (tensor<2x4xf32>, tensor<4x3xf32>) -> tensor<2x3xf32>
    return %0 : tensor<2x3xf32>
  }
}
// CHECK-LABEL: func.func @train_step
// CHECK-SAME:  (%[[W:[a-z0-9]+]]: tensor<4x3xf32> {nn.param = "fc.kernel"}, %[[S:[a-z0-9]+]]: tensor<4x3xf32> {nn.state = "fc.kernel.mean_square"}, %{{[a-z0-9]+}}: tensor<i64> {nn.step}, %[[LR:[a-z0-9]+]]: tensor<f32> {nn.learning_rate},
// CHECK:       %[[W2:.+]], %[[S2:.+]] = nn.rmsprop_update %[[W]], %{{[^ ,]+}}, %[[S]], %[[LR]] {epsilon = 9.9999999999999995E-7 : f64, rho = 8.000000e-01 : f64}
// CHECK:       return %{{[^ ,]+}}, %{{[^ ,]+}}, %[[W2]], %[[S2]] :

// -----

// expected-error @+1 {{expects a module attribute nn.loss = {kind = "<loss op>"}}}
module attributes {nn.optimizer = {kind = "sgd", learning_rate = 0.1 : f64}} {
  func.func @predict(%w: tensor<4x3xf32>, %x: tensor<2x4xf32>) -> tensor<2x3xf32> {
    %0 = nn.dense %x, %w : (tensor<2x4xf32>, tensor<4x3xf32>) -> tensor<2x3xf32>
    return %0 : tensor<2x3xf32>
  }
}

// -----

// expected-error @+1 {{unknown optimizer 'lbfgs'}}
module attributes {nn.loss = {kind = "mse"}, nn.optimizer = {kind = "lbfgs"}} {
  func.func @predict(%w: tensor<4x3xf32>, %x: tensor<2x4xf32>) -> tensor<2x3xf32> {
    %0 = nn.dense %x, %w : (tensor<2x4xf32>, tensor<4x3xf32>) -> tensor<2x3xf32>
    return %0 : tensor<2x3xf32>
  }
}

// -----

// expected-error @+1 {{expects a @predict function}}
module attributes {nn.loss = {kind = "mse"}, nn.optimizer = {kind = "sgd"}} {
  func.func @forward(%w: tensor<4x3xf32>, %x: tensor<2x4xf32>) -> tensor<2x3xf32> {
    %0 = nn.dense %x, %w : (tensor<2x4xf32>, tensor<4x3xf32>) -> tensor<2x3xf32>
    return %0 : tensor<2x3xf32>
  }
}

// -----

// Batch norm: @eval_step normalizes with the running statistics (buffers);
// @train_step with the batch's, updates the buffers with moving averages
// (the variance unbiased: 2*3 = 6 elements per channel, scale 6/5) and
// returns them after the optimizer state.
module attributes {nn.loss = {kind = "mse", delta = 1.0 : f64}, nn.optimizer = {kind = "sgd", learning_rate = 0.1 : f64, weight_decay = 0.0 : f64}} {
  func.func @predict(%g: tensor<4xf32> {nn.param = "bn.gamma"}, %b: tensor<4xf32> {nn.param = "bn.beta"},
                     %m: tensor<4xf32> {nn.buffer = "bn.moving_mean"}, %v: tensor<4xf32> {nn.buffer = "bn.moving_variance"},
                     %x: tensor<2x3x4xf32> {nn.input = "x"}) -> tensor<2x12xf32> {
    %y = nn.batch_norm %x, %g, %b, %m, %v {epsilon = 1.0e-3 : f64, momentum = 0.9 : f64}
        : (tensor<2x3x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<2x3x4xf32>
    %f = nn.flatten %y : (tensor<2x3x4xf32>) -> tensor<2x12xf32>
    return %f : tensor<2x12xf32>
  }
}

// CHECK-LABEL: func.func @eval_step
// CHECK-SAME:  {nn.buffer = "bn.moving_mean"}
// CHECK:       nn.batch_norm %{{.*}}, %arg0, %arg1, %arg2, %arg3
// CHECK-NOT:   nn.moving_average

// The batch statistics take the labels as `rows`: a padding row (label
// -1) is left out of them, and the running variance's unbiased scale
// counts the other rows' elements (per_row = 3 per channel).
// CHECK-LABEL: func.func @train_step
// CHECK-SAME:  %arg2: tensor<4xf32> {nn.buffer = "bn.moving_mean"}, %arg3: tensor<4xf32> {nn.buffer = "bn.moving_variance"}
// CHECK-SAME:  %[[L:arg7]]: tensor<2xi32> {nn.labels}
// CHECK-NOT:   nn.batch_norm %
// CHECK:       %[[Y:.*]], %[[MEAN:.*]], %[[VAR:.*]] = nn.batch_norm_train %{{.*}}, %arg0, %arg1 rows %[[L]] {epsilon = 1.000000e-03 : f64}
// CHECK-DAG:   %[[M2:.*]] = nn.moving_average %arg2, %[[MEAN]] {momentum = 9.000000e-01 : f64} :
// CHECK-DAG:   %[[V2:.*]] = nn.moving_average %arg3, %[[VAR]] rows %[[L]] {momentum = 9.000000e-01 : f64, per_row = 3 : i64, scale = 1.200000e+00 : f64}
// CHECK:       nn.batch_norm_grad %{{.*}}, %{{.*}}, %arg0, %[[MEAN]], %[[VAR]] rows %[[L]]
// CHECK:       %[[G2:.*]] = nn.sgd_update %arg0
// CHECK:       %[[B2:.*]] = nn.sgd_update %arg1
// CHECK:       return %{{.*}}, %{{.*}}, %[[G2]], %[[B2]], %[[M2]], %[[V2]]

// -----

// A folded conv2d_batch_norm stays folded in @eval_step and unfolds in
// @train_step into conv2d (without the zero bias), batch_norm_train, the
// running averages and the ReLU.
module attributes {nn.loss = {kind = "mse", delta = 1.0 : f64}, nn.optimizer = {kind = "sgd", learning_rate = 0.1 : f64, weight_decay = 0.0 : f64}} {
  func.func @predict(%w: tensor<1x1x2x2xf32> {nn.param = "c.kernel"}, %g: tensor<2xf32> {nn.param = "bn.gamma"}, %b: tensor<2xf32> {nn.param = "bn.beta"},
                     %m: tensor<2xf32> {nn.buffer = "bn.moving_mean"}, %v: tensor<2xf32> {nn.buffer = "bn.moving_variance"},
                     %x: tensor<2x1x1x2xf32> {nn.input = "x"}) -> tensor<2x2xf32> {
    %zero = nn.constant 0.0 : tensor<2xf32>
    %y = nn.conv2d_batch_norm %x, %w, %zero, %g, %b, %m, %v {activation = #nn.activation<relu>, epsilon = 1.0e-3 : f64, momentum = 0.9 : f64}
        : (tensor<2x1x1x2xf32>, tensor<1x1x2x2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<2x1x1x2xf32>
    %f = nn.flatten %y : (tensor<2x1x1x2xf32>) -> tensor<2x2xf32>
    return %f : tensor<2x2xf32>
  }
}

// CHECK-LABEL: func.func @eval_step
// CHECK:       nn.conv2d_batch_norm
// CHECK-LABEL: func.func @train_step
// CHECK-NOT:   nn.conv2d_batch_norm
// CHECK:       %[[C:.*]] = nn.conv2d %{{.*}}, %arg0 : (tensor<2x1x1x2xf32>, tensor<1x1x2x2xf32>) -> tensor<2x1x1x2xf32>
// CHECK:       nn.batch_norm_train %[[C]], %arg1, %arg2
// CHECK:       nn.moving_average %arg3
// CHECK:       nn.moving_average %arg4
// CHECK:       nn.relu

// -----

// Regression (nn.loss's `regression`): the steps take value targets after the
// labels, which then only mark padding rows; the loss reads the targets and
// its gradient is 2 (p - t) scaled by the rows that count.
module attributes {nn.loss = {kind = "mse", delta = 1.0 : f64, regression}, nn.optimizer = {kind = "sgd", learning_rate = 0.1 : f64, weight_decay = 0.0 : f64}} {
  func.func @predict(%w: tensor<3x2xf32> {nn.param = "fc.kernel"}, %x: tensor<4x3xf32> {nn.input = "x"}) -> tensor<4x2xf32> {
    %0 = nn.dense %x, %w : (tensor<4x3xf32>, tensor<3x2xf32>) -> tensor<4x2xf32>
    return %0 : tensor<4x2xf32>
  }
}

// CHECK-LABEL: func.func @eval_step
// CHECK-SAME:  %[[X:[a-z0-9]+]]: tensor<4x3xf32> {nn.input = "x"}, %[[L:[a-z0-9]+]]: tensor<4xi32> {nn.labels}, %[[T:[a-z0-9]+]]: tensor<4x2xf32> {nn.targets})
// CHECK:       %[[Y:.+]] = nn.dense %[[X]]
// CHECK:       nn.mse %[[Y]], %[[L]] targets %[[T]] {{.*}}: (tensor<4x2xf32>, tensor<4xi32>, tensor<4x2xf32>) -> tensor<f32>
// CHECK-LABEL: func.func @train_step
// CHECK-SAME:  %[[STEP:[a-z0-9]+]]: tensor<i64> {nn.step}, %[[LR:[a-z0-9]+]]: tensor<f32> {nn.learning_rate}, %[[X:[a-z0-9]+]]: tensor<4x3xf32> {nn.input = "x"}, %[[L:[a-z0-9]+]]: tensor<4xi32> {nn.labels}, %[[T:[a-z0-9]+]]: tensor<4x2xf32> {nn.targets})
// CHECK:       %[[Y:.+]] = nn.dense %[[X]]
// CHECK:       nn.mse %[[Y]], %[[L]] targets %[[T]]
// CHECK:       %[[ROW:.+]] = nn.one_hot %[[L]] : (tensor<4xi32>) -> tensor<4x1xf32>
// CHECK:       %[[D:.+]] = nn.sub %[[Y]], %[[T]] : tensor<4x2xf32>
// CHECK:       nn.sgd_update

// -----

// Data parallelism (nn.data_parallel = 2 ranks): one nn.allreduce_mean
// averages every gradient before the updates, and the runtime function it
// lowers to is declared.
module attributes {nn.data_parallel = 2 : i64, nn.loss = {kind = "mse", delta = 1.0 : f64}, nn.optimizer = {kind = "sgd", learning_rate = 0.1 : f64, weight_decay = 0.0 : f64}} {
  func.func @predict(%w: tensor<3x2xf32> {nn.param = "fc.kernel"}, %b: tensor<2xf32> {nn.param = "fc.bias"}, %x: tensor<4x3xf32> {nn.input = "x"}) -> tensor<4x2xf32> {
    %0 = nn.dense %x, %w, %b : (tensor<4x3xf32>, tensor<3x2xf32>, tensor<2xf32>) -> tensor<4x2xf32>
    return %0 : tensor<4x2xf32>
  }
}

// CHECK-LABEL: func.func @eval_step
// CHECK-NOT:   nn.allreduce_mean
// CHECK-LABEL: func.func @train_step
// CHECK:       %[[AR:.+]]:2 = nn.allreduce_mean %[[GW:.+]], %[[GB:.+]] {ranks = 2 : i64} : tensor<3x2xf32>, tensor<2xf32> -> tensor<3x2xf32>, tensor<2xf32>
// CHECK:       nn.sgd_update %arg0, %[[AR]]#0
// CHECK:       nn.sgd_update %arg1, %[[AR]]#1
// CHECK:       func.func private @gradc_allreduce_mean(memref<?xf32>) attributes {llvm.emit_c_interface}
