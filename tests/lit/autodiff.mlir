// RUN: gradc-opt %s --gradc-autodiff -split-input-file -verify-diagnostics | FileCheck %s

// A dense layer, a relu and a loss: one gradient result per float argument,
// built in reverse from a seed of 1.
// CHECK-LABEL: func.func @dense_relu_mse
// CHECK-SAME:  (%[[W:[a-z0-9]+]]: tensor<4x3xf32>, %[[B:[a-z0-9]+]]: tensor<3xf32>, %[[X:[a-z0-9]+]]: tensor<2x4xf32>, %[[L:[a-z0-9]+]]: tensor<2xi32>)
// CHECK-SAME:  -> (tensor<f32>, tensor<4x3xf32>, tensor<3xf32>, tensor<2x4xf32>)
// CHECK-NOT:   nn.differentiate
// CHECK:       %[[Y:.+]] = nn.dense %[[X]], %[[W]], %[[B]]
// CHECK:       %[[R:.+]] = nn.relu %[[Y]]
// CHECK:       %[[LOSS:.+]] = nn.mse %[[R]], %[[L]]
// CHECK:       %[[ONE:.+]] = nn.constant 1.000000e+00 : tensor<f32>
// The mse rule: 2 (r - one_hot(l)) * dloss / (n C), where n counts the rows
// whose one-hot row sums to 1 (not padding, label -1), and those rows alone
// get a gradient.
// CHECK:       %[[T:.+]] = nn.one_hot %[[L]] : (tensor<2xi32>) -> tensor<2x3xf32>
// CHECK:       %[[ROW:.+]] = nn.reduce_sum %[[T]] {axes = array<i64: 1>} : (tensor<2x3xf32>) -> tensor<2xf32>
// CHECK:       %[[ROWS:.+]] = nn.broadcast %[[ROW]] {dims = array<i64: 0>} : (tensor<2xf32>) -> tensor<2x3xf32>
// CHECK:       %[[N:.+]] = nn.reduce_sum %[[ROW]] {axes = array<i64: 0>} : (tensor<2xf32>) -> tensor<f32>
// CHECK:       %[[C:.+]] = nn.constant 3.000000e+00 : tensor<f32>
// CHECK:       %[[NC:.+]] = nn.mul %[[N]], %[[C]] : tensor<f32>
// CHECK:       %[[DEN:.+]] = nn.maximum %[[NC]], %{{.+}} : tensor<f32>
// CHECK:       %[[Q:.+]] = nn.div %[[ONE]], %[[DEN]] : tensor<f32>
// CHECK:       %[[BD:.+]] = nn.broadcast %[[Q]] {dims = array<i64>} : (tensor<f32>) -> tensor<2x3xf32>
// CHECK:       %[[S:.+]] = nn.mul %[[BD]], %[[ROWS]]
// CHECK:       %[[D:.+]] = nn.sub %[[R]], %[[T]]
// CHECK:       %[[TWO:.+]] = nn.constant 2.000000e+00 : tensor<2x3xf32>
// CHECK:       %[[D2:.+]] = nn.mul %[[D]], %[[TWO]]
// CHECK:       %[[DR:.+]] = nn.mul %[[D2]], %[[S]]
// The relu rule: select(y > 0, dr, 0).
// CHECK:       %[[ZERO:.+]] = nn.constant 0.000000e+00 : tensor<2x3xf32>
// CHECK:       %[[POS:.+]] = nn.compare %[[Y]], %[[ZERO]] {predicate = #nn.compare<gt>}
// CHECK:       %[[DY:.+]] = nn.select %[[POS]], %[[DR]], %[[ZERO]]
// CHECK-DAG:   %[[DX:.+]] = nn.matmul %[[DY]], %[[W]] {transpose_rhs} : (tensor<2x3xf32>, tensor<4x3xf32>) -> tensor<2x4xf32>
// CHECK-DAG:   %[[DW:.+]] = nn.matmul %[[X]], %[[DY]] {transpose_lhs} : (tensor<2x4xf32>, tensor<2x3xf32>) -> tensor<4x3xf32>
// CHECK-DAG:   %[[DB:.+]] = nn.reduce_sum %[[DY]] {axes = array<i64: 0>} : (tensor<2x3xf32>) -> tensor<3xf32>
// CHECK:       return %[[LOSS]], %[[DW]], %[[DB]], %[[DX]]
func.func @dense_relu_mse(%w: tensor<4x3xf32>, %b: tensor<3xf32>, %x: tensor<2x4xf32>, %l: tensor<2xi32>) -> tensor<f32> attributes {nn.differentiate} {
  %0 = nn.dense %x, %w, %b : (tensor<2x4xf32>, tensor<4x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  %1 = nn.relu %0 : tensor<2x3xf32>
  %2 = nn.mse %1, %l : (tensor<2x3xf32>, tensor<2xi32>) -> tensor<f32>
  return %2 : tensor<f32>
}

// -----

// %x feeds two ops: its gradient is the sum of both contributions. An
// argument the loss does not depend on gets a zero gradient.
// CHECK-LABEL: func.func @used_twice
// CHECK-SAME:  (%[[X:[a-z0-9]+]]: tensor<2x3xf32>, %{{.*}}: tensor<3xf32>, %{{.*}}: tensor<2xi32>)
// CHECK-DAG:   %[[S:.+]] = nn.sigmoid %[[X]]
// CHECK-DAG:   %[[T:.+]] = nn.tanh %[[X]]
// tanh: dy (1 - t t); sigmoid: dy s (1 - s).
// CHECK-DAG:   nn.mul %[[T]], %[[T]] : tensor<2x3xf32>
// CHECK-DAG:   nn.mul %{{[0-9]+}}, %[[S]] : tensor<2x3xf32>
// CHECK:       %[[DX:.+]] = nn.add %{{[0-9]+}}, %{{[0-9]+}} : tensor<2x3xf32>
// CHECK:       %[[ZERO:.+]] = nn.constant 0.000000e+00 : tensor<3xf32>
// CHECK:       return %{{.*}}, %[[DX]], %[[ZERO]]
func.func @used_twice(%x: tensor<2x3xf32>, %unused: tensor<3xf32>, %l: tensor<2xi32>) -> tensor<f32> attributes {nn.differentiate} {
  %0 = nn.sigmoid %x : tensor<2x3xf32>
  %1 = nn.tanh %x : tensor<2x3xf32>
  %2 = nn.add %0, %1 : tensor<2x3xf32>
  %3 = nn.mse %2, %l : (tensor<2x3xf32>, tensor<2xi32>) -> tensor<f32>
  return %3 : tensor<f32>
}

// -----

// One op that uses a value twice also accumulates.
// CHECK-LABEL: func.func @add_to_itself
// CHECK:       %[[DX:.+]] = nn.add %[[G:[0-9]+]], %[[G]]
// CHECK:       return %{{.*}}, %[[DX]]
func.func @add_to_itself(%x: tensor<2x3xf32>, %l: tensor<2xi32>) -> tensor<f32> attributes {nn.differentiate} {
  %0 = nn.add %x, %x : tensor<2x3xf32>
  %1 = nn.mse %0, %l : (tensor<2x3xf32>, tensor<2xi32>) -> tensor<f32>
  return %1 : tensor<f32>
}

// -----

// The conv/pool/flatten/dropout/prelu chain: every backward op appears, the
// fused relu is differentiated from the conv output, and the dropout mask is
// replayed with the same step and seed.
// CHECK-LABEL: func.func @cnn
// CHECK-SAME:  (%[[W:[a-z0-9]+]]: tensor<3x3x1x2xf32>, %[[B:[a-z0-9]+]]: tensor<2xf32>, %[[A:[a-z0-9]+]]: tensor<8xf32>, %[[X:[a-z0-9]+]]: tensor<1x6x6x1xf32>, %[[STEP:[a-z0-9]+]]: tensor<i64>, %[[L:[a-z0-9]+]]: tensor<1xi32>)
// CHECK-SAME:  -> (tensor<f32>, tensor<3x3x1x2xf32>, tensor<2xf32>, tensor<8xf32>, tensor<1x6x6x1xf32>)
// CHECK:       %[[C:.+]] = nn.conv2d %[[X]], %[[W]], %[[B]] {activation = #nn.activation<relu>}
// CHECK:       %[[D:.+]] = nn.dropout %{{.*}}, %[[STEP]]
// CHECK:       %[[P:.+]] = nn.prelu %[[D]], %[[A]]
// softmax cross-entropy: (softmax(p) - one_hot(l)) * dloss / N.
// CHECK:       %[[T:.+]] = nn.one_hot %[[L]]
// CHECK:       %[[SM:.+]] = nn.softmax %[[P]]
// CHECK:       %[[SMT:.+]] = nn.sub %[[SM]], %[[T]]
// CHECK:       %[[DP:.+]] = nn.mul %[[SMT]], %{{.+}}
// prelu: dx = select(d > 0, dp, alpha dp), dalpha = sum(select(d > 0, 0, d dp)).
// CHECK:       %[[POS:.+]] = nn.compare %[[D]], %[[Z:.+]] {predicate = #nn.compare<gt>}
// CHECK:       %[[BA:.+]] = nn.broadcast %[[A]] {dims = array<i64: 1>} : (tensor<8xf32>) -> tensor<1x8xf32>
// CHECK:       %[[ADP:.+]] = nn.mul %[[BA]], %[[DP]]
// CHECK:       %[[GI:.+]] = nn.select %[[POS]], %[[DP]], %[[ADP]]
// CHECK:       %[[XDP:.+]] = nn.mul %[[D]], %[[DP]]
// CHECK:       %[[NEG:.+]] = nn.select %[[POS]], %[[Z]], %[[XDP]]
// CHECK:       %[[GA:.+]] = nn.reduce_sum %[[NEG]] {axes = array<i64: 0>}
// CHECK:       %[[GD:.+]] = nn.dropout %[[GI]], %[[STEP]] {rate = 5.000000e-01 : f64, seed = 3 : i64}
// CHECK:       %[[GF:.+]] = nn.reshape %[[GD]] : (tensor<1x8xf32>) -> tensor<1x2x2x2xf32>
// CHECK:       %[[GP:.+]] = nn.max_pool2d_grad %[[C]], %[[GF]]
// CHECK:       %[[CPOS:.+]] = nn.compare %[[C]], %[[CZ:.+]] {predicate = #nn.compare<gt>}
// CHECK:       %[[GC:.+]] = nn.select %[[CPOS]], %[[GP]], %[[CZ]]
// CHECK-DAG:   %[[GX:.+]] = nn.conv2d_grad_input %[[GC]], %[[W]]
// CHECK-DAG:   %[[GW:.+]] = nn.conv2d_grad_filter %[[X]], %[[GC]]
// CHECK-DAG:   %[[GB:.+]] = nn.reduce_sum %[[GC]] {axes = array<i64: 0, 1, 2>}
// CHECK:       return %{{.*}}, %[[GW]], %[[GB]], %[[GA]], %[[GX]]
func.func @cnn(%w: tensor<3x3x1x2xf32>, %b: tensor<2xf32>, %a: tensor<8xf32>, %x: tensor<1x6x6x1xf32>, %step: tensor<i64>, %l: tensor<1xi32>) -> tensor<f32> attributes {nn.differentiate} {
  %0 = nn.conv2d %x, %w, %b {activation = #nn.activation<relu>} : (tensor<1x6x6x1xf32>, tensor<3x3x1x2xf32>, tensor<2xf32>) -> tensor<1x4x4x2xf32>
  %1 = nn.max_pool2d %0 {window = array<i64: 2, 2>, strides = array<i64: 2, 2>} : (tensor<1x4x4x2xf32>) -> tensor<1x2x2x2xf32>
  %2 = nn.flatten %1 : (tensor<1x2x2x2xf32>) -> tensor<1x8xf32>
  %3 = nn.dropout %2, %step {rate = 0.5 : f64, seed = 3 : i64} : tensor<1x8xf32>, tensor<i64>
  %4 = nn.prelu %3, %a : (tensor<1x8xf32>, tensor<8xf32>) -> tensor<1x8xf32>
  %5 = nn.softmax_cross_entropy %4, %l : (tensor<1x8xf32>, tensor<1xi32>) -> tensor<f32>
  return %5 : tensor<f32>
}

// -----

// Functions without the attribute are left alone.
// CHECK-LABEL: func.func @not_marked
// CHECK-SAME:  -> tensor<f32>
// CHECK-NOT:   nn.one_hot
func.func @not_marked(%x: tensor<2x3xf32>, %l: tensor<2xi32>) -> tensor<f32> {
  %0 = nn.mse %x, %l : (tensor<2x3xf32>, tensor<2xi32>) -> tensor<f32>
  return %0 : tensor<f32>
}

// -----

func.func @through_matmul(%a: tensor<2x4xf32>, %b: tensor<4x3xf32>, %l: tensor<2xi32>) -> tensor<f32> attributes {nn.differentiate} {
  // expected-error @+1 {{no gradient rule for 'nn.matmul'}}
  %0 = nn.matmul %a, %b : (tensor<2x4xf32>, tensor<4x3xf32>) -> tensor<2x3xf32>
  %1 = nn.mse %0, %l : (tensor<2x3xf32>, tensor<2xi32>) -> tensor<f32>
  return %1 : tensor<f32>
}

// -----

// A matmul off the path from the arguments to the loss needs no rule.
// CHECK-LABEL: func.func @matmul_off_the_path
// CHECK:       nn.matmul
// CHECK:       nn.one_hot
func.func @matmul_off_the_path(%x: tensor<2x3xf32>, %l: tensor<2xi32>) -> (tensor<f32>, tensor<3x3xf32>) attributes {nn.differentiate} {
  %c = nn.constant 1.0 : tensor<2x3xf32>
  %0 = nn.matmul %c, %c {transpose_lhs} : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<3x3xf32>
  %1 = nn.mse %x, %l : (tensor<2x3xf32>, tensor<2xi32>) -> tensor<f32>
  return %1, %0 : tensor<f32>, tensor<3x3xf32>
}

// -----

// expected-error @+1 {{expects the first result to be a 0-D loss}}
func.func @not_a_loss(%a: tensor<2x4xf32>) -> tensor<2x4xf32> attributes {nn.differentiate} {
  %0 = nn.relu %a : tensor<2x4xf32>
  return %0 : tensor<2x4xf32>
}

// -----

// GELU's gradient is one fused op of dy and the forward input, in the same
// form (exact or tanh).
// CHECK-LABEL: func.func @gelu
// CHECK-SAME:  (%[[X:[a-z0-9]+]]: tensor<2x3xf32>
// CHECK:       %[[Y:.+]] = nn.gelu %[[X]] {approximate = true}
// CHECK:       %[[DX:.+]] = nn.gelu_grad %{{.+}}, %[[X]] {approximate = true} : tensor<2x3xf32>
// CHECK:       return %{{.*}}, %[[DX]]
func.func @gelu(%x: tensor<2x3xf32>, %l: tensor<2xi32>) -> tensor<f32> attributes {nn.differentiate} {
  %0 = nn.gelu %x {approximate = true} : tensor<2x3xf32>
  %1 = nn.mse %0, %l : (tensor<2x3xf32>, tensor<2xi32>) -> tensor<f32>
  return %1 : tensor<f32>
}

// -----

// A causal mask's gradient is the same mask with a fill of 0: the masked
// scores do not reach the loss.
// CHECK-LABEL: func.func @causal_mask
// CHECK:       %[[Y:.+]] = nn.causal_mask %{{.+}} {fill = -1.000000e+30 : f64}
// CHECK:       %[[DX:.+]] = nn.causal_mask %{{.+}} {fill = 0.000000e+00 : f64} : tensor<2x3x3xf32>
// CHECK:       return %{{.*}}, %[[DX]]
func.func @causal_mask(%x: tensor<2x3x3xf32>, %l: tensor<2xi32>) -> tensor<f32> attributes {nn.differentiate} {
  %0 = nn.causal_mask %x {fill = -1.0e+30 : f64} : tensor<2x3x3xf32>
  %1 = nn.reshape %0 : (tensor<2x3x3xf32>) -> tensor<2x9xf32>
  %2 = nn.mse %1, %l : (tensor<2x9xf32>, tensor<2xi32>) -> tensor<f32>
  return %2 : tensor<f32>
}

// -----

// A transpose's gradient is the inverse permutation.
// CHECK-LABEL: func.func @transpose
// CHECK:       %[[DX:.+]] = nn.transpose %{{.+}} {perm = array<i64: 0, 3, 1, 2>} : (tensor<2x4x5x3xf32>) -> tensor<2x3x4x5xf32>
// CHECK:       return %{{.*}}, %[[DX]]
func.func @transpose(%x: tensor<2x3x4x5xf32>, %l: tensor<2xi32>) -> tensor<f32> attributes {nn.differentiate} {
  %0 = nn.transpose %x {perm = array<i64: 0, 2, 3, 1>} : (tensor<2x3x4x5xf32>) -> tensor<2x4x5x3xf32>
  %1 = nn.flatten %0 : (tensor<2x4x5x3xf32>) -> tensor<2x60xf32>
  %2 = nn.mse %1, %l : (tensor<2x60xf32>, tensor<2xi32>) -> tensor<f32>
  return %2 : tensor<f32>
}

// -----

// The binary layers' rules: a broadcast's gradient sums over the dimensions
// it added; mul's multiplies by the other operand; pow's are PyTorch's,
// masked where the exponent is 0 (base gradient) and where the base is 0
// and the exponent >= 0 (exponent gradient).
// CHECK-LABEL: func.func @broadcast_mul_pow
// CHECK-SAME:  (%[[S:[a-z0-9]+]]: tensor<3xf32>, %[[X:[a-z0-9]+]]: tensor<2x3xf32>, %[[E:[a-z0-9]+]]: tensor<2x3xf32>)
// CHECK:       %[[B:.+]] = nn.broadcast %[[S]] {dims = array<i64: 1>}
// CHECK:       %[[M:.+]] = nn.mul %[[X]], %[[B]]
// CHECK:       %[[P:.+]] = nn.pow %[[M]], %[[E]]
// The reduce_sum's rule: its seed broadcast back.
// CHECK:       %[[DP:.+]] = nn.broadcast %{{.+}} {dims = array<i64>} : (tensor<f32>) -> tensor<2x3xf32>
// CHECK:       %[[EM1:.+]] = nn.sub %[[E]], %{{.+}}
// CHECK:       %[[PM1:.+]] = nn.pow %[[M]], %[[EM1]]
// CHECK:       %[[EZ:.+]] = nn.compare %[[E]], %[[ZERO:.+]] {predicate = #nn.compare<eq>}
// CHECK:       %[[T:.+]] = nn.mul %[[E]], %[[PM1]]
// CHECK:       %[[T2:.+]] = nn.mul %[[DP]], %[[T]]
// CHECK:       %[[DM:.+]] = nn.select %[[EZ]], %[[ZERO]], %[[T2]]
// CHECK:       %[[EGE:.+]] = nn.compare %[[E]], %[[ZERO]] {predicate = #nn.compare<ge>}
// CHECK:       %[[MZ:.+]] = nn.compare %[[M]], %[[ZERO]] {predicate = #nn.compare<eq>}
// CHECK:       %[[MASK:.+]] = nn.mul %[[MZ]], %[[EGE]]
// CHECK:       %[[LOG:.+]] = nn.log %[[M]]
// CHECK:       %[[PL:.+]] = nn.mul %[[P]], %[[LOG]]
// CHECK:       %[[PL2:.+]] = nn.mul %[[DP]], %[[PL]]
// CHECK:       %[[DE:.+]] = nn.select %[[MASK]], %[[ZERO]], %[[PL2]]
// CHECK:       %[[DX:.+]] = nn.mul %[[DM]], %[[B]]
// CHECK:       %[[DB:.+]] = nn.mul %[[DM]], %[[X]]
// CHECK:       %[[DS:.+]] = nn.reduce_sum %[[DB]] {axes = array<i64: 0>} : (tensor<2x3xf32>) -> tensor<3xf32>
// CHECK:       return %{{.+}}, %[[DS]], %[[DX]], %[[DE]]
func.func @broadcast_mul_pow(%s: tensor<3xf32>, %x: tensor<2x3xf32>, %e: tensor<2x3xf32>) -> tensor<f32> attributes {nn.differentiate} {
  %b = nn.broadcast %s {dims = array<i64: 1>} : (tensor<3xf32>) -> tensor<2x3xf32>
  %m = nn.mul %x, %b : tensor<2x3xf32>
  %p = nn.pow %m, %e : tensor<2x3xf32>
  %l = nn.reduce_sum %p {axes = array<i64: 0, 1>} : (tensor<2x3xf32>) -> tensor<f32>
  return %l : tensor<f32>
}

// -----

// An embedding: the table's gradient is a scatter-add of dy at the ids
// (nn.embedding_grad); the integer ids get none.
// CHECK-LABEL: func.func @embedding_mse
// CHECK-SAME:  (%[[T:[a-z0-9]+]]: tensor<6x3xf32>, %[[IDS:[a-z0-9]+]]: tensor<2xi64>, %{{.*}}: tensor<2xi32>)
// CHECK-SAME:  -> (tensor<f32>, tensor<6x3xf32>)
// CHECK:       %[[Y:.+]] = nn.embedding %[[IDS]], %[[T]]
// CHECK:       %[[DT:.+]] = nn.embedding_grad %[[IDS]], %{{.+}} : (tensor<2xi64>, tensor<2x3xf32>) -> tensor<6x3xf32>
// CHECK:       return %{{.+}}, %[[DT]]
func.func @embedding_mse(%t: tensor<6x3xf32>, %ids: tensor<2xi64>, %l: tensor<2xi32>) -> tensor<f32> attributes {nn.differentiate} {
  %0 = nn.embedding %ids, %t : (tensor<2xi64>, tensor<6x3xf32>) -> tensor<2x3xf32>
  %1 = nn.mse %0, %l : (tensor<2x3xf32>, tensor<2xi32>) -> tensor<f32>
  return %1 : tensor<f32>
}

// -----

// batch_matmul's rule: dA = dC B (B was transposed), dB = dC^T A summed over
// the head dimension B was broadcast along, then reshaped to B's shape.
// CHECK-LABEL: func.func @batch_matmul
// CHECK-SAME:  (%[[A:[a-z0-9]+]]: tensor<2x3x4x5xf32>, %[[B:[a-z0-9]+]]: tensor<2x1x6x5xf32>)
// CHECK:       %[[DC:.+]] = nn.broadcast %{{.+}} {dims = array<i64>} : (tensor<f32>) -> tensor<2x3x4x6xf32>
// CHECK-DAG:   %[[DA:.+]] = nn.batch_matmul %[[DC]], %[[B]] : (tensor<2x3x4x6xf32>, tensor<2x1x6x5xf32>) -> tensor<2x3x4x5xf32>
// CHECK-DAG:   %[[DBF:.+]] = nn.batch_matmul %[[DC]], %[[A]] {transpose_lhs} : (tensor<2x3x4x6xf32>, tensor<2x3x4x5xf32>) -> tensor<2x3x6x5xf32>
// CHECK:       %[[DBS:.+]] = nn.reduce_sum %[[DBF]] {axes = array<i64: 1>} : (tensor<2x3x6x5xf32>) -> tensor<2x6x5xf32>
// CHECK:       %[[DB:.+]] = nn.reshape %[[DBS]] : (tensor<2x6x5xf32>) -> tensor<2x1x6x5xf32>
// CHECK:       return %{{.+}}, %[[DA]], %[[DB]]
func.func @batch_matmul(%a: tensor<2x3x4x5xf32>, %b: tensor<2x1x6x5xf32>) -> tensor<f32> attributes {nn.differentiate} {
  %0 = nn.batch_matmul %a, %b {transpose_rhs} : (tensor<2x3x4x5xf32>, tensor<2x1x6x5xf32>) -> tensor<2x3x4x6xf32>
  %1 = nn.reduce_sum %0 {axes = array<i64: 0, 1, 2, 3>} : (tensor<2x3x4x6xf32>) -> tensor<f32>
  return %1 : tensor<f32>
}

// -----

// slice's rule: dy between zeros of the sliced-off sizes, concatenated on
// the sliced axis.
// CHECK-LABEL: func.func @slice
// CHECK-DAG:   %[[Z0:.+]] = nn.constant 0.000000e+00 : tensor<2x1x3xf32>
// CHECK-DAG:   %[[Z1:.+]] = nn.constant 0.000000e+00 : tensor<2x2x3xf32>
// CHECK:       nn.concat %[[Z0]], %{{.+}}, %[[Z1]] {axis = 1 : i64} : (tensor<2x1x3xf32>, tensor<2x2x3xf32>, tensor<2x2x3xf32>) -> tensor<2x5x3xf32>
func.func @slice(%x: tensor<2x5x3xf32>) -> tensor<f32> attributes {nn.differentiate} {
  %0 = nn.slice %x {axis = 1 : i64, offset = 1 : i64, size = 2 : i64} : (tensor<2x5x3xf32>) -> tensor<2x2x3xf32>
  %1 = nn.reduce_sum %0 {axes = array<i64: 0, 1, 2>} : (tensor<2x2x3xf32>) -> tensor<f32>
  return %1 : tensor<f32>
}
