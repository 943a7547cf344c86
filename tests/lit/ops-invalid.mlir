// RUN: gradc-opt %s -split-input-file -verify-diagnostics

// One case per verifier message of ir/NNOps.cpp and ir/ShapeRules.cpp.

func.func @conv_channels(%x: tensor<1x8x8x1xf32>, %w: tensor<3x3x3x4xf32>) {
  // expected-error @+1 {{expects filter input channels 3 to equal input channels 1}}
  %0 = nn.conv2d %x, %w : (tensor<1x8x8x1xf32>, tensor<3x3x3x4xf32>) -> tensor<1x6x6x4xf32>
  return
}

// -----

func.func @conv_window_too_big(%x: tensor<1x3x3x1xf32>, %w: tensor<5x5x1x4xf32>) {
  // expected-error @+1 {{expects window 5x5 (dilation 1x1) to fit input 3x3 (padding 0,0,0,0)}}
  %0 = nn.conv2d %x, %w : (tensor<1x3x3x1xf32>, tensor<5x5x1x4xf32>) -> tensor<1x1x1x4xf32>
  return
}

// -----

func.func @conv_dilated_window_too_big(%x: tensor<1x5x5x1xf32>, %w: tensor<3x3x1x4xf32>) {
  // expected-error @+1 {{expects window 3x3 (dilation 3x3) to fit input 5x5 (padding 0,0,0,0)}}
  %0 = nn.conv2d %x, %w {dilations = array<i64: 3, 3>} : (tensor<1x5x5x1xf32>, tensor<3x3x1x4xf32>) -> tensor<1x1x1x4xf32>
  return
}

// -----

func.func @conv_pads_count(%x: tensor<1x8x8x1xf32>, %w: tensor<3x3x1x4xf32>) {
  // expected-error @+1 {{expects 2 window sizes, 2 strides, 2 dilations and 4 pads, got 2, 2, 2 and 2}}
  %0 = nn.conv2d %x, %w {pads = array<i64: 1, 1>} : (tensor<1x8x8x1xf32>, tensor<3x3x1x4xf32>) -> tensor<1x8x8x4xf32>
  return
}

// -----

func.func @conv_strides_count(%x: tensor<1x8x8x1xf32>, %w: tensor<3x3x1x4xf32>) {
  // expected-error @+1 {{expects 2 window sizes, 2 strides, 2 dilations and 4 pads, got 2, 1, 2 and 4}}
  %0 = nn.conv2d %x, %w {strides = array<i64: 2>} : (tensor<1x8x8x1xf32>, tensor<3x3x1x4xf32>) -> tensor<1x3x3x4xf32>
  return
}

// -----

func.func @conv_zero_stride(%x: tensor<1x8x8x1xf32>, %w: tensor<3x3x1x4xf32>) {
  // expected-error @+1 {{expects positive strides, got 0x1}}
  %0 = nn.conv2d %x, %w {strides = array<i64: 0, 1>} : (tensor<1x8x8x1xf32>, tensor<3x3x1x4xf32>) -> tensor<1x6x6x4xf32>
  return
}

// -----

func.func @conv_zero_dilation(%x: tensor<1x8x8x1xf32>, %w: tensor<3x3x1x4xf32>) {
  // expected-error @+1 {{expects positive dilations, got 1x0}}
  %0 = nn.conv2d %x, %w {dilations = array<i64: 1, 0>} : (tensor<1x8x8x1xf32>, tensor<3x3x1x4xf32>) -> tensor<1x6x6x4xf32>
  return
}

// -----

func.func @conv_negative_pad(%x: tensor<1x8x8x1xf32>, %w: tensor<3x3x1x4xf32>) {
  // expected-error @+1 {{expects non-negative pads, got 0,-1,0,0}}
  %0 = nn.conv2d %x, %w {pads = array<i64: 0, -1, 0, 0>} : (tensor<1x8x8x1xf32>, tensor<3x3x1x4xf32>) -> tensor<1x5x6x4xf32>
  return
}

// -----

func.func @conv_empty_filter(%x: tensor<1x8x8x1xf32>, %w: tensor<0x3x1x4xf32>) {
  // expected-error @+1 {{expects a positive window, got 0x3}}
  %0 = nn.conv2d %x, %w : (tensor<1x8x8x1xf32>, tensor<0x3x1x4xf32>) -> tensor<1x8x6x4xf32>
  return
}

// -----

func.func @conv_output_shape(%x: tensor<1x8x8x1xf32>, %w: tensor<3x3x1x4xf32>) {
  // expected-error @+1 {{expects output of shape 1x6x6x4, got 1x8x8x4}}
  %0 = nn.conv2d %x, %w : (tensor<1x8x8x1xf32>, tensor<3x3x1x4xf32>) -> tensor<1x8x8x4xf32>
  return
}

// -----

func.func @conv_input_rank(%x: tensor<8x8xf32>, %w: tensor<3x3x1x4xf32>) {
  // expected-error @+1 {{expects input (NHWC) of rank 4, got rank 2 (8x8)}}
  %0 = nn.conv2d %x, %w : (tensor<8x8xf32>, tensor<3x3x1x4xf32>) -> tensor<1x6x6x4xf32>
  return
}

// -----

func.func @conv_bias_shape(%x: tensor<1x8x8x1xf32>, %w: tensor<3x3x1x4xf32>, %b: tensor<3xf32>) {
  // expected-error @+1 {{expects bias of shape 4, got 3}}
  %0 = nn.conv2d %x, %w, %b : (tensor<1x8x8x1xf32>, tensor<3x3x1x4xf32>, tensor<3xf32>) -> tensor<1x6x6x4xf32>
  return
}

// -----

func.func @conv_activation(%x: tensor<1x8x8x1xf32>, %w: tensor<3x3x1x4xf32>) {
  // expected-error @+1 {{expects activation none, relu or leaky_relu, got sigmoid}}
  %0 = nn.conv2d %x, %w {activation = #nn.activation<sigmoid>} : (tensor<1x8x8x1xf32>, tensor<3x3x1x4xf32>) -> tensor<1x6x6x4xf32>
  return
}

// -----

func.func @conv_element_type(%x: tensor<1x8x8x1xf32>, %w: tensor<3x3x1x4xf64>) {
  // expected-error @+1 {{expects one float element type, got 'f32' and 'f64'}}
  %0 = nn.conv2d %x, %w : (tensor<1x8x8x1xf32>, tensor<3x3x1x4xf64>) -> tensor<1x6x6x4xf32>
  return
}

// -----

func.func @pool_window_too_big(%x: tensor<1x2x2x1xf32>) {
  // expected-error @+1 {{expects window 3x3 (dilation 1x1) to fit input 2x2 (padding 0,0,0,0)}}
  %0 = nn.max_pool2d %x {window = array<i64: 3, 3>, strides = array<i64: 1, 1>} : (tensor<1x2x2x1xf32>) -> tensor<1x1x1x1xf32>
  return
}

// -----

func.func @pool_pads_not_smaller_than_window(%x: tensor<1x4x4x1xf32>) {
  // expected-error @+1 {{expects pads smaller than the window 2x2, got 0,0,2,0}}
  %0 = nn.avg_pool2d %x {window = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 2, 0>} : (tensor<1x4x4x1xf32>) -> tensor<1x2x3x1xf32>
  return
}

// -----

func.func @pool_window_count(%x: tensor<1x4x4x1xf32>) {
  // expected-error @+1 {{expects 2 window sizes, 2 strides, 2 dilations and 4 pads, got 3, 2, 2 and 4}}
  %0 = nn.max_pool2d %x {window = array<i64: 2, 2, 2>, strides = array<i64: 2, 2>} : (tensor<1x4x4x1xf32>) -> tensor<1x2x2x1xf32>
  return
}

// -----

func.func @pool_output_shape(%x: tensor<1x4x4x3xf32>) {
  // expected-error @+1 {{expects output of shape 1x2x2x3, got 1x2x2x1}}
  %0 = nn.max_pool2d %x {window = array<i64: 2, 2>, strides = array<i64: 2, 2>} : (tensor<1x4x4x3xf32>) -> tensor<1x2x2x1xf32>
  return
}

// -----

func.func @dense_mismatch(%x: tensor<2x4xf32>, %w: tensor<5x3xf32>) {
  // expected-error @+1 {{expects weight rows 5 to equal input features 4}}
  %0 = nn.dense %x, %w : (tensor<2x4xf32>, tensor<5x3xf32>) -> tensor<2x3xf32>
  return
}

// -----

func.func @dense_rank(%x: tensor<2x2x2xf32>, %w: tensor<4x3xf32>) {
  // expected-error @+1 {{expects input [N, K] of rank 2, got rank 3 (2x2x2)}}
  %0 = nn.dense %x, %w : (tensor<2x2x2xf32>, tensor<4x3xf32>) -> tensor<2x3xf32>
  return
}

// -----

func.func @dense_bias(%x: tensor<2x4xf32>, %w: tensor<4x3xf32>, %b: tensor<4xf32>) {
  // expected-error @+1 {{expects bias of shape 3, got 4}}
  %0 = nn.dense %x, %w, %b : (tensor<2x4xf32>, tensor<4x3xf32>, tensor<4xf32>) -> tensor<2x3xf32>
  return
}

// -----

func.func @dense_element_type(%x: tensor<2x4xf32>, %w: tensor<4x3xf32>) {
  // expected-error @+1 {{expects one float element type, got 'f32' and 'f64'}}
  %0 = nn.dense %x, %w : (tensor<2x4xf32>, tensor<4x3xf32>) -> tensor<2x3xf64>
  return
}

// -----

func.func @flatten_count(%x: tensor<2x3x3x4xf32>) {
  // expected-error @+1 {{expects output of shape 2x36, got 2x35}}
  %0 = nn.flatten %x : (tensor<2x3x3x4xf32>) -> tensor<2x35xf32>
  return
}

// -----

func.func @flatten_rank(%x: tensor<4xf32>) {
  // expected-error @+1 {{expects input of rank >= 2, got 4}}
  %0 = nn.flatten %x : (tensor<4xf32>) -> tensor<4x1xf32>
  return
}

// -----

func.func @reshape_count(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{expects 6 elements in the output (2x3), got 8 (2x4)}}
  %0 = nn.reshape %x : (tensor<2x3xf32>) -> tensor<2x4xf32>
  return
}

// -----

func.func @reshape_element_type(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{expects one float element type, got 'f32' and 'f64'}}
  %0 = nn.reshape %x : (tensor<2x3xf32>) -> tensor<6xf64>
  return
}

// -----

func.func @prelu_alpha(%x: tensor<2x10xf32>, %a: tensor<5xf32>) {
  // expected-error @+1 {{expects alpha of shape 10, got 5}}
  %0 = nn.prelu %x, %a : (tensor<2x10xf32>, tensor<5xf32>) -> tensor<2x10xf32>
  return
}

// -----

func.func @prelu_scalar(%x: tensor<f32>, %a: tensor<1xf32>) {
  // expected-error @+1 {{expects input of rank >= 1}}
  %0 = nn.prelu %x, %a : (tensor<f32>, tensor<1xf32>) -> tensor<f32>
  return
}

// -----

func.func @prelu_output(%x: tensor<2x10xf32>, %a: tensor<10xf32>) {
  // expected-error @+1 {{expects output of shape 2x10, got 10x2}}
  %0 = nn.prelu %x, %a : (tensor<2x10xf32>, tensor<10xf32>) -> tensor<10x2xf32>
  return
}

// -----

func.func @dropout_rate(%x: tensor<2x10xf32>) {
  // expected-error @+1 {{expects rate in [0, 1), got 1.000000e+00}}
  %0 = nn.dropout %x {rate = 1.0 : f64} : tensor<2x10xf32>
  return
}

// -----

func.func @dropout_negative_rate(%x: tensor<2x10xf32>) {
  // expected-error @+1 {{expects rate in [0, 1), got -5.000000e-01}}
  %0 = nn.dropout %x {rate = -0.5 : f64} : tensor<2x10xf32>
  return
}

// -----

func.func @loss_label_count(%p: tensor<4x3xf32>, %l: tensor<3xi32>) {
  // expected-error @+1 {{expects 4 labels to match 4 predictions, got 3}}
  %0 = nn.cross_entropy %p, %l : (tensor<4x3xf32>, tensor<3xi32>) -> tensor<f32>
  return
}

// -----

func.func @loss_rank(%p: tensor<4xf32>, %l: tensor<4xi32>) {
  // expected-error @+1 {{expects predictions [N, C] of rank 2, got rank 1 (4)}}
  %0 = nn.mse %p, %l : (tensor<4xf32>, tensor<4xi32>) -> tensor<f32>
  return
}

// -----

func.func @loss_labels_rank(%p: tensor<4x3xf32>, %l: tensor<4x1xi32>) {
  // expected-error @+1 {{expects labels [N] of rank 1, got rank 2 (4x1)}}
  %0 = nn.mae %p, %l : (tensor<4x3xf32>, tensor<4x1xi32>) -> tensor<f32>
  return
}

// -----

func.func @softmax_ce_one_class(%p: tensor<4x1xf32>, %l: tensor<4xi32>) {
  // expected-error @+1 {{expects at least 2 classes, got 1}}
  %0 = nn.softmax_cross_entropy %p, %l : (tensor<4x1xf32>, tensor<4xi32>) -> tensor<f32>
  return
}

// -----

func.func @categorical_hinge_one_class(%p: tensor<4x1xf32>, %l: tensor<4xi32>) {
  // expected-error @+1 {{expects at least 2 classes, got 1}}
  %0 = nn.categorical_hinge %p, %l : (tensor<4x1xf32>, tensor<4xi32>) -> tensor<f32>
  return
}

// -----

func.func @huber_delta(%p: tensor<4x3xf32>, %l: tensor<4xi32>) {
  // expected-error @+1 {{expects a positive delta, got 0.000000e+00}}
  %0 = nn.huber %p, %l {delta = 0.0 : f64} : (tensor<4x3xf32>, tensor<4xi32>) -> tensor<f32>
  return
}

// -----

func.func @loss_element_type(%p: tensor<4x3xf32>, %l: tensor<4xi32>) {
  // expected-error @+1 {{expects one float element type, got 'f32' and 'f64'}}
  %0 = nn.hinge %p, %l : (tensor<4x3xf32>, tensor<4xi32>) -> tensor<f64>
  return
}

// -----

func.func @compare_predicate(%a: tensor<4x3xf32>, %b: tensor<4x3xf32>) {
  // expected-error @+2 {{expected ::gradc::nn::ComparePredicate to be one of: gt, ge, lt, le, eq}}
  // expected-error @+1 {{failed to parse NN_ComparePredicateAttr parameter 'value'}}
  %0 = nn.compare %a, %b {predicate = #nn.compare<ne>} : tensor<4x3xf32>
  return
}

// -----

func.func @activation_kind(%x: tensor<1x5x5x1xf32>, %w: tensor<3x3x1x2xf32>) {
  // expected-error @+2 {{expected ::gradc::nn::ActivationKind to be one of: none, relu, leaky_relu, sigmoid, tanh, softmax, log_softmax}}
  // expected-error @+1 {{failed to parse NN_ActivationKindAttr parameter 'value'}}
  %0 = nn.conv2d %x, %w {activation = #nn.activation<gelu>} : (tensor<1x5x5x1xf32>, tensor<3x3x1x2xf32>) -> tensor<1x3x3x2xf32>
  return
}

// -----

func.func @conv_grad_input_shape(%dy: tensor<1x6x6x4xf32>, %w: tensor<3x3x1x4xf32>) {
  // expected-error @+1 {{expects output of shape 1x5x5x4, got 1x6x6x4}}
  %0 = nn.conv2d_grad_input %dy, %w : (tensor<1x6x6x4xf32>, tensor<3x3x1x4xf32>) -> tensor<1x7x7x1xf32>
  return
}

// -----

func.func @conv_grad_filter_channels(%x: tensor<1x8x8x2xf32>, %dy: tensor<1x6x6x4xf32>) {
  // expected-error @+1 {{expects filter input channels 1 to equal input channels 2}}
  %0 = nn.conv2d_grad_filter %x, %dy : (tensor<1x8x8x2xf32>, tensor<1x6x6x4xf32>) -> tensor<3x3x1x4xf32>
  return
}

// -----

func.func @pool_grad_shape(%x: tensor<1x4x4x1xf32>, %dy: tensor<1x2x2x1xf32>) {
  // expected-error @+1 {{expects gradient of shape 1x4x4x1, got 1x4x4x2}}
  %0 = nn.max_pool2d_grad %x, %dy {window = array<i64: 2, 2>, strides = array<i64: 2, 2>} : (tensor<1x4x4x1xf32>, tensor<1x2x2x1xf32>) -> tensor<1x4x4x2xf32>
  return
}

// -----

func.func @avg_pool_grad_pads(%x: tensor<1x4x4x1xf32>, %dy: tensor<1x3x3x1xf32>) {
  // expected-error @+1 {{expects pads smaller than the window 2x2, got 2,2,0,0}}
  %0 = nn.avg_pool2d_grad %x, %dy {window = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 2, 2, 0, 0>} : (tensor<1x4x4x1xf32>, tensor<1x3x3x1xf32>) -> tensor<1x4x4x1xf32>
  return
}

// -----

func.func @matmul_contraction(%a: tensor<4x3xf32>, %b: tensor<4x5xf32>) {
  // expected-error @+1 {{expects contracted sizes to match, got 3 and 4}}
  %0 = nn.matmul %a, %b : (tensor<4x3xf32>, tensor<4x5xf32>) -> tensor<4x5xf32>
  return
}

// -----

func.func @matmul_transposed_output(%a: tensor<4x3xf32>, %b: tensor<4x5xf32>) {
  // expected-error @+1 {{expects output of shape 3x5, got 4x5}}
  %0 = nn.matmul %a, %b {transpose_lhs} : (tensor<4x3xf32>, tensor<4x5xf32>) -> tensor<4x5xf32>
  return
}

// -----

func.func @matmul_rank(%a: tensor<4xf32>, %b: tensor<4x5xf32>) {
  // expected-error @+1 {{expects lhs of rank 2, got rank 1 (4)}}
  %0 = nn.matmul %a, %b : (tensor<4xf32>, tensor<4x5xf32>) -> tensor<1x5xf32>
  return
}

// -----

func.func @batch_matmul_contraction(%q: tensor<2x4x8x16xf32>, %k: tensor<2x4x8x12xf32>) {
  // expected-error @+1 {{expects contracted sizes to match, got 16 and 12}}
  %0 = nn.batch_matmul %q, %k {transpose_rhs} : (tensor<2x4x8x16xf32>, tensor<2x4x8x12xf32>) -> tensor<2x4x8x8xf32>
  return
}

// -----

func.func @batch_matmul_broadcast(%a: tensor<2x4x8x16xf32>, %b: tensor<2x3x16x5xf32>) {
  // expected-error @+1 {{expects batch dimensions that broadcast, got 2x4 and 2x3}}
  %0 = nn.batch_matmul %a, %b : (tensor<2x4x8x16xf32>, tensor<2x3x16x5xf32>) -> tensor<2x4x8x5xf32>
  return
}

// -----

func.func @batch_matmul_rank(%a: tensor<2x4x8x16xf32>, %b: tensor<16xf32>) {
  // expected-error @+1 {{expects operands of rank 2 or more, got ranks 4 and 1}}
  %0 = nn.batch_matmul %a, %b : (tensor<2x4x8x16xf32>, tensor<16xf32>) -> tensor<2x4x8xf32>
  return
}

// -----

func.func @batch_matmul_output(%a: tensor<2x1x8x16xf32>, %b: tensor<2x3x16x5xf32>) {
  // expected-error @+1 {{expects output of shape 2x3x8x5, got 2x1x8x5}}
  %0 = nn.batch_matmul %a, %b : (tensor<2x1x8x16xf32>, tensor<2x3x16x5xf32>) -> tensor<2x1x8x5xf32>
  return
}

// -----

func.func @reduce_sum_shape(%dy: tensor<2x6x6x4xf32>) {
  // expected-error @+1 {{expects output of shape 4, got 6}}
  %0 = nn.reduce_sum %dy {axes = array<i64: 0, 1, 2>} : (tensor<2x6x6x4xf32>) -> tensor<6xf32>
  return
}

// -----

func.func @reduce_max_axes(%x: tensor<2x6xf32>) {
  // expected-error @+1 {{expects axes increasing and within [0, 2), got [1, 0]}}
  %0 = nn.reduce_max %x {axes = array<i64: 1, 0>} : (tensor<2x6xf32>) -> tensor<f32>
  return
}

// -----

func.func @reduce_sum_axis_range(%x: tensor<2x6xf32>) {
  // expected-error @+1 {{expects axes increasing and within [0, 2), got [2]}}
  %0 = nn.reduce_sum %x {axes = array<i64: 2>} : (tensor<2x6xf32>) -> tensor<2x6xf32>
  return
}

// -----

func.func @broadcast_dims_count(%v: tensor<4xf32>) {
  // expected-error @+1 {{expects one entry of dims per input dimension (1), got 2}}
  %0 = nn.broadcast %v {dims = array<i64: 0, 1>} : (tensor<4xf32>) -> tensor<4x4xf32>
  return
}

// -----

func.func @broadcast_size(%v: tensor<4xf32>) {
  // expected-error @+1 {{expects input dimension 0 (4) to equal output dimension 1 (5)}}
  %0 = nn.broadcast %v {dims = array<i64: 1>} : (tensor<4xf32>) -> tensor<2x5xf32>
  return
}

// -----

func.func @broadcast_element_type(%v: tensor<4xf32>) {
  // expected-error @+1 {{expects one float element type, got 'f32' and 'f64'}}
  %0 = nn.broadcast %v {dims = array<i64: 1>} : (tensor<4xf32>) -> tensor<2x4xf64>
  return
}

// -----

func.func @one_hot_labels(%l: tensor<5xi32>) {
  // expected-error @+1 {{expects labels of shape 4, got 5}}
  %0 = nn.one_hot %l : (tensor<5xi32>) -> tensor<4x3xf32>
  return
}

// -----

func.func @argmax_output(%x: tensor<4x3xf32>) {
  // expected-error @+1 {{expects output of shape 4, got 3}}
  %0 = nn.argmax %x : (tensor<4x3xf32>) -> tensor<3xi32>
  return
}

// -----

func.func @correct_count_labels(%p: tensor<4x3xf32>, %l: tensor<5xi32>) {
  // expected-error @+1 {{expects labels of shape 4, got 5}}
  %0 = nn.correct_count %p, %l : (tensor<4x3xf32>, tensor<5xi32>) -> tensor<i64>
  return
}

// -----

func.func @sgd_update_shape(%p: tensor<10xf32>, %g: tensor<5xf32>) {
  // expected-error @+1 {{expects every operand and result to have the parameter's shape 10, got 5}}
  %0 = nn.sgd_update %p, %g {learning_rate = 0.01 : f64} : (tensor<10xf32>, tensor<5xf32>) -> tensor<10xf32>
  return
}

// -----

func.func @adam_update_state_shape(%p: tensor<10xf32>, %g: tensor<10xf32>, %m: tensor<10xf32>, %v: tensor<2x5xf32>, %s: tensor<i64>) {
  // expected-error @+1 {{expects every operand and result to have the parameter's shape 10, got 2x5}}
  %0:3 = nn.adam_update %p, %g, %m, %v, %s {learning_rate = 0.001 : f64, beta_1 = 0.9 : f64, beta_2 = 0.999 : f64, epsilon = 1.0e-07 : f64} : (tensor<10xf32>, tensor<10xf32>, tensor<10xf32>, tensor<2x5xf32>, tensor<i64>) -> (tensor<10xf32>, tensor<10xf32>, tensor<10xf32>)
  return
}

// -----

func.func @momentum_update_result_shape(%p: tensor<10xf32>, %g: tensor<10xf32>, %v: tensor<10xf32>) {
  // expected-error @+1 {{expects every operand and result to have the parameter's shape 10, got 1}}
  %0:2 = nn.momentum_update %p, %g, %v {learning_rate = 0.01 : f64, momentum = 0.9 : f64} : (tensor<10xf32>, tensor<10xf32>, tensor<10xf32>) -> (tensor<10xf32>, tensor<1xf32>)
  return
}

// -----

func.func @rmsprop_learning_rate(%p: tensor<10xf32>, %g: tensor<10xf32>, %s: tensor<10xf32>) {
  // expected-error @+1 {{expects a positive learning rate, got 0.000000e+00}}
  %0:2 = nn.rmsprop_update %p, %g, %s {learning_rate = 0.0 : f64, rho = 0.9 : f64, epsilon = 1.0e-07 : f64} : (tensor<10xf32>, tensor<10xf32>, tensor<10xf32>) -> (tensor<10xf32>, tensor<10xf32>)
  return
}

// -----

func.func @sgd_two_learning_rates(%p: tensor<10xf32>, %g: tensor<10xf32>, %lr: tensor<f32>) {
  // expected-error @+1 {{expects the learning rate either as the attribute learning_rate or as the operand lr, not both}}
  %0 = nn.sgd_update %p, %g, %lr {learning_rate = 0.1 : f64} : (tensor<10xf32>, tensor<10xf32>, tensor<f32>) -> tensor<10xf32>
  return
}

// -----

func.func @adam_no_learning_rate(%p: tensor<10xf32>, %g: tensor<10xf32>, %s: tensor<i64>) {
  // expected-error @+1 {{expects the learning rate either as the attribute learning_rate or as the operand lr, not neither}}
  %0:3 = nn.adam_update %p, %g, %p, %p, %s {beta_1 = 0.9 : f64, beta_2 = 0.999 : f64, epsilon = 1.0e-7 : f64} : (tensor<10xf32>, tensor<10xf32>, tensor<10xf32>, tensor<10xf32>, tensor<i64>) -> (tensor<10xf32>, tensor<10xf32>, tensor<10xf32>)
  return
}

// -----

func.func @sgd_negative_learning_rate(%p: tensor<10xf32>, %g: tensor<10xf32>) {
  // expected-error @+1 {{expects a positive learning rate, got -1.000000e-01}}
  %0 = nn.sgd_update %p, %g {learning_rate = -0.1 : f64} : (tensor<10xf32>, tensor<10xf32>) -> tensor<10xf32>
  return
}

// -----

func.func @conv_groups_channels(%x: tensor<1x8x8x4xf32>, %w: tensor<3x3x3x6xf32>) {
  // expected-error @+1 {{expects filter input channels 3 x groups 2 to equal input channels 4}}
  %0 = nn.conv2d %x, %w {groups = 2 : i64} : (tensor<1x8x8x4xf32>, tensor<3x3x3x6xf32>) -> tensor<1x6x6x6xf32>
  return
}

// -----

func.func @conv_groups_filters(%x: tensor<1x8x8x4xf32>, %w: tensor<3x3x1x6xf32>) {
  // expected-error @+1 {{expects filters 6 to be a multiple of groups 4}}
  %0 = nn.conv2d %x, %w {groups = 4 : i64} : (tensor<1x8x8x4xf32>, tensor<3x3x1x6xf32>) -> tensor<1x6x6x6xf32>
  return
}

// -----

func.func @global_pool_output(%x: tensor<2x5x5x3xf32>) {
  // expected-error @+1 {{expects output of shape 2x3, got 2x5}}
  %0 = nn.global_avg_pool2d %x : (tensor<2x5x5x3xf32>) -> tensor<2x5xf32>
  return
}

// -----

func.func @concat_mismatch(%a: tensor<2x4x4x3xf32>, %b: tensor<2x5x4x3xf32>) {
  // expected-error @+1 {{expects inputs to agree except on axis 3, got 2x4x4x3 and 2x5x4x3}}
  %0 = nn.concat %a, %b {axis = 3 : i64} : (tensor<2x4x4x3xf32>, tensor<2x5x4x3xf32>) -> tensor<2x4x4x6xf32>
  return
}

// -----

func.func @transpose_not_a_permutation(%a: tensor<2x3x4xf32>) {
  // expected-error @+1 {{expects perm to be a permutation of [0, 3), got [0, 2, 2]}}
  %0 = nn.transpose %a {perm = array<i64: 0, 2, 2>} : (tensor<2x3x4xf32>) -> tensor<2x4x4xf32>
  return
}

// -----

func.func @transpose_wrong_result(%a: tensor<2x3x4xf32>) {
  // expected-error @+1 {{output}}
  %0 = nn.transpose %a {perm = array<i64: 0, 2, 1>} : (tensor<2x3x4xf32>) -> tensor<2x3x4xf32>
  return
}

// -----

func.func @slice_out_of_range(%a: tensor<2x8xf32>) {
  // expected-error @+1 {{expects slice [6, 10) within axis 1 of size 8}}
  %0 = nn.slice %a {axis = 1 : i64, offset = 6 : i64, size = 4 : i64} : (tensor<2x8xf32>) -> tensor<2x4xf32>
  return
}

// -----

func.func @batch_norm_channels(%x: tensor<2x4x4x3xf32>, %g: tensor<4xf32>, %v: tensor<3xf32>) {
  // expected-error @+1 {{expects gamma of shape 3, got 4}}
  %0 = nn.batch_norm %x, %g, %v, %v, %v {epsilon = 1.0e-3 : f64, momentum = 0.99 : f64}
      : (tensor<2x4x4x3xf32>, tensor<4xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>) -> tensor<2x4x4x3xf32>
  return
}

// -----

func.func @batch_norm_epsilon(%x: tensor<2x3xf32>, %v: tensor<3xf32>) {
  // expected-error @+1 {{expects a positive epsilon, got 0}}
  %0:3 = nn.batch_norm_train %x, %v, %v {epsilon = 0.0 : f64}
      : (tensor<2x3xf32>, tensor<3xf32>, tensor<3xf32>) -> (tensor<2x3xf32>, tensor<3xf32>, tensor<3xf32>)
  return
}

// -----

func.func @moving_average_momentum(%v: tensor<3xf32>) {
  // expected-error @+1 {{expects momentum in [0, 1], got 2}}
  %0 = nn.moving_average %v, %v {momentum = 2.0 : f64} : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  return
}

// -----

func.func @layer_norm_gamma(%x: tensor<2x4x4x3xf32>, %g: tensor<4xf32>, %b: tensor<3xf32>) {
  // expected-error @+1 {{expects gamma of shape 3, got 4}}
  %0 = nn.layer_norm %x, %g, %b {epsilon = 1.0e-5 : f64}
      : (tensor<2x4x4x3xf32>, tensor<4xf32>, tensor<3xf32>) -> tensor<2x4x4x3xf32>
  return
}

// -----

func.func @layer_norm_epsilon(%x: tensor<2x3xf32>, %v: tensor<3xf32>) {
  // expected-error @+1 {{expects a positive epsilon, got -1}}
  %0 = nn.layer_norm %x, %v, %v {epsilon = -1.0 : f64}
      : (tensor<2x3xf32>, tensor<3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  return
}

// -----

func.func @layer_norm_rank(%x: tensor<3xf32>, %v: tensor<3xf32>) {
  // expected-error @+1 {{expects input of rank >= 2, got 3}}
  %0 = nn.layer_norm %x, %v, %v {epsilon = 1.0e-5 : f64}
      : (tensor<3xf32>, tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  return
}

// -----

func.func @layer_norm_grad_output(%dy: tensor<2x4xf32>, %x: tensor<2x3xf32>, %v: tensor<3xf32>) {
  // expected-error @+1 {{expects output gradient of shape 2x3, got 2x4}}
  %0:3 = nn.layer_norm_grad %dy, %x, %v {epsilon = 1.0e-5 : f64}
      : (tensor<2x4xf32>, tensor<2x3xf32>, tensor<3xf32>) -> (tensor<2x3xf32>, tensor<3xf32>, tensor<3xf32>)
  return
}

// -----

func.func @batch_norm_rows(%x: tensor<2x3xf32>, %v: tensor<3xf32>, %l: tensor<3xi32>) {
  // expected-error @+1 {{expects rows of shape 2, got 3}}
  %0:3 = nn.batch_norm_train %x, %v, %v rows %l {epsilon = 1.0e-3 : f64}
      : (tensor<2x3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xi32>) -> (tensor<2x3xf32>, tensor<3xf32>, tensor<3xf32>)
  return
}

// -----

func.func @moving_average_per_row(%v: tensor<3xf32>, %l: tensor<2xi32>) {
  // expected-error @+1 {{expects per_row >= 1 with rows, got 0}}
  %0 = nn.moving_average %v, %v rows %l {momentum = 0.9 : f64} : (tensor<3xf32>, tensor<3xf32>, tensor<2xi32>) -> tensor<3xf32>
  return
}

// -----

func.func @unary_unknown_fn(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{'nn.unary' op unknown function "cbrt" (expected one of exp, log, sqrt, rsqrt, abs, neg, reciprocal, erf, softplus, softsign, elu, selu, silu, hard_sigmoid, hard_swish, sin, cos, tan, atan, asin, acos, sinh, cosh, asinh, acosh, atanh)}}
  %0 = nn.unary "cbrt" %x : tensor<2x3xf32>
  return
}

// -----

func.func @reduce_axes_not_increasing(%a: tensor<2x3x4xf32>) {
  // expected-error @+1 {{expects axes increasing and within [0, 3), got [2, 1]}}
  %0 = nn.reduce %a {axes = array<i64: 2, 1>, kind = #nn.reduce<sum>} : (tensor<2x3x4xf32>) -> tensor<2xf32>
  return
}

// -----

func.func @unary_grad_alpha(%dy: tensor<2x3xf32>, %x: tensor<2x3xf32>) {
  // expected-error @+1 {{'nn.unary_grad' op expects a finite alpha, got INF}}
  %0 = nn.unary_grad "elu" %dy, %x {alpha = 0x7FF0000000000000 : f64} : tensor<2x3xf32>
  return
}

// -----

func.func @reduce_wrong_result(%a: tensor<2x3x4xf32>) {
  // expected-error @+1 {{expects output of shape 2x4, got 2x1x4}}
  %0 = nn.reduce %a {axes = array<i64: 1>, kind = #nn.reduce<max>} : (tensor<2x3x4xf32>) -> tensor<2x1x4xf32>
  return
}

// -----

func.func @embedding_table_rank(%ids: tensor<2x3xi64>, %t: tensor<10xf32>) {
  // expected-error @+1 {{expects table [V, D] of rank 2, got rank 1 (10)}}
  %0 = nn.embedding %ids, %t : (tensor<2x3xi64>, tensor<10xf32>) -> tensor<2x3x10xf32>
  return
}

// -----

func.func @embedding_output(%ids: tensor<2x3xi64>, %t: tensor<10x4xf32>) {
  // expected-error @+1 {{expects output of shape 2x3x4, got 2x4}}
  %0 = nn.embedding %ids, %t : (tensor<2x3xi64>, tensor<10x4xf32>) -> tensor<2x4xf32>
  return
}

// -----

func.func @embedding_float_ids(%ids: tensor<2x3xf32>, %t: tensor<10x4xf32>) {
  // expected-error @+1 {{operand #0 must be ranked tensor of 32-bit signless integer or 64-bit signless integer values}}
  %0 = nn.embedding %ids, %t : (tensor<2x3xf32>, tensor<10x4xf32>) -> tensor<2x3x4xf32>
  return
}

// -----

func.func @embedding_grad_rows(%ids: tensor<2x3xi64>, %dy: tensor<2x3x5xf32>) {
  // expected-error @+1 {{expects grad of shape 2x3x4, got 2x3x5}}
  %0 = nn.embedding_grad %ids, %dy : (tensor<2x3xi64>, tensor<2x3x5xf32>) -> tensor<10x4xf32>
  return
}

// -----

func.func @attention_width(%q: tensor<2x8x16xf32>, %k: tensor<2x8x12xf32>, %v: tensor<2x8x16xf32>) {
  // expected-error @+1 {{expects query and key of one width, got 16 and 12}}
  %o, %l = nn.attention %q, %k, %v {scale = 1.0 : f64} : (tensor<2x8x16xf32>, tensor<2x8x12xf32>, tensor<2x8x16xf32>) -> (tensor<2x8x16xf32>, tensor<2x8xf32>)
  return
}

// -----

func.func @attention_batch(%q: tensor<2x8x16xf32>, %k: tensor<1x8x16xf32>, %v: tensor<1x8x16xf32>) {
  // expected-error @+1 {{expects the leading dimensions of query, key and value to match, got 2x8x16, 1x8x16 and 1x8x16}}
  %o, %l = nn.attention %q, %k, %v {scale = 1.0 : f64} : (tensor<2x8x16xf32>, tensor<1x8x16xf32>, tensor<1x8x16xf32>) -> (tensor<2x8x16xf32>, tensor<2x8xf32>)
  return
}

// -----

func.func @attention_values(%q: tensor<2x8x16xf32>, %k: tensor<2x8x16xf32>, %v: tensor<2x6x16xf32>) {
  // expected-error @+1 {{expects as many values as keys, got 6 and 8}}
  %o, %l = nn.attention %q, %k, %v {scale = 1.0 : f64} : (tensor<2x8x16xf32>, tensor<2x8x16xf32>, tensor<2x6x16xf32>) -> (tensor<2x8x16xf32>, tensor<2x8xf32>)
  return
}

// -----

func.func @attention_grad_shape(%do: tensor<2x8x4xf32>, %q: tensor<2x8x16xf32>, %lse: tensor<2x8xf32>) {
  // expected-error @+1 {{grad_output}}
  %dq, %dk, %dv = nn.attention_grad %do, %q, %q, %q, %q, %lse {scale = 1.0 : f64} : (tensor<2x8x4xf32>, tensor<2x8x16xf32>, tensor<2x8x16xf32>, tensor<2x8x16xf32>, tensor<2x8x16xf32>, tensor<2x8xf32>) -> (tensor<2x8x16xf32>, tensor<2x8x16xf32>, tensor<2x8x16xf32>)
  return
}

// -----

func.func @attention_dynamic_keys(%q: tensor<2x8x16xf32>, %k: tensor<2x?x16xf32>, %v: tensor<2x?x16xf32>) {
  // expected-error @+1 {{expects a static, nonzero number of queries and keys, got 2x8x16 and 2x?x16}}
  %o, %l = nn.attention %q, %k, %v {scale = 1.0 : f64} : (tensor<2x8x16xf32>, tensor<2x?x16xf32>, tensor<2x?x16xf32>) -> (tensor<2x8x16xf32>, tensor<2x8xf32>)
  return
}
