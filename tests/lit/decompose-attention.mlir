// RUN: gradc-opt %s --gradc-decompose-attention="key-tile=4" | FileCheck %s --implicit-check-not=x8x8xf32

// Causal attention over 8 positions in tiles of 4 keys. Forward: tile 0
// scores every query against keys 0-3; tile 1 only queries 4-7 (the earlier
// ones give keys 4-7 no weight) and rescales their running max, sum and
// output. Backward: keys by queries, recomputed from the log-sum-exp.
// Nowhere an 8 x 8 score matrix.
// CHECK-LABEL: func.func @causal
// CHECK-SAME:  (%[[Q:[a-z0-9]+]]: tensor<2x8x4xf32>, %[[K:[a-z0-9]+]]: tensor<2x8x4xf32>, %[[V:[a-z0-9]+]]: tensor<2x8x3xf32>, %[[DO:[a-z0-9]+]]: tensor<2x8x3xf32>)
// CHECK:       %[[QS:.+]] = nn.mul %[[Q]]
// CHECK:       %[[K0:.+]] = nn.slice %[[K]] {axis = 1 : i64, offset = 0 : i64, size = 4 : i64}
// CHECK:       %[[S0:.+]] = nn.batch_matmul %[[QS]], %[[K0]] {transpose_rhs} : (tensor<2x8x4xf32>, tensor<2x4x4xf32>) -> tensor<2x8x4xf32>
// CHECK:       nn.causal_mask %[[S0]] {fill = -3.4028234663852886E+38 : f64} : tensor<2x8x4xf32>
// CHECK:       %[[M0:.+]] = nn.reduce_max
// CHECK:       %[[Q1:.+]] = nn.slice %[[QS]] {axis = 1 : i64, offset = 4 : i64, size = 4 : i64}
// CHECK:       %[[K1:.+]] = nn.slice %[[K]] {axis = 1 : i64, offset = 4 : i64, size = 4 : i64}
// CHECK:       nn.batch_matmul %[[Q1]], %[[K1]] {transpose_rhs} : (tensor<2x4x4xf32>, tensor<2x4x4xf32>) -> tensor<2x4x4xf32>
// CHECK:       %[[MOLD:.+]] = nn.slice %[[M0]] {axis = 1 : i64, offset = 4 : i64, size = 4 : i64}
// CHECK:       %[[MNEW:.+]] = nn.maximum %[[MOLD]]
// CHECK:       %[[SHIFT:.+]] = nn.sub %[[MOLD]], %[[MNEW]]
// CHECK:       nn.exp %[[SHIFT]] : tensor<2x4xf32>
// CHECK:       nn.concat {{.*}} -> tensor<2x8xf32>
// CHECK:       %[[OUT:.+]] = nn.div {{.*}} : tensor<2x8x3xf32>
// CHECK:       %[[LSE:.+]] = nn.add {{.*}} : tensor<2x8xf32>
// CHECK:       %[[T0:.+]] = nn.batch_matmul {{.*}} {transpose_rhs} : (tensor<2x4x4xf32>, tensor<2x8x4xf32>) -> tensor<2x4x8xf32>
// CHECK:       nn.causal_mask %[[T0]] {fill = -3.4028234663852886E+38 : f64, transposed} : tensor<2x4x8xf32>
// CHECK:       nn.broadcast %[[LSE]] {dims = array<i64: 0, 2>} : (tensor<2x8xf32>) -> tensor<2x4x8xf32>
// CHECK:       %[[DQ:.+]] = nn.concat {{.*}} -> tensor<2x8x4xf32>
// CHECK:       %[[DK:.+]] = nn.concat {{.*}} -> tensor<2x8x4xf32>
// CHECK:       %[[DV:.+]] = nn.concat {{.*}} -> tensor<2x8x3xf32>
// CHECK:       return %[[OUT]], %[[DQ]], %[[DK]], %[[DV]]
func.func @causal(%q: tensor<2x8x4xf32>, %k: tensor<2x8x4xf32>, %v: tensor<2x8x3xf32>, %do: tensor<2x8x3xf32>) -> (tensor<2x8x3xf32>, tensor<2x8x4xf32>, tensor<2x8x4xf32>, tensor<2x8x3xf32>) {
  %o, %lse = nn.attention %q, %k, %v {scale = 0.5 : f64, causal} : (tensor<2x8x4xf32>, tensor<2x8x4xf32>, tensor<2x8x3xf32>) -> (tensor<2x8x3xf32>, tensor<2x8xf32>)
  %dq, %dk, %dv = nn.attention_grad %do, %q, %k, %v, %o, %lse {scale = 0.5 : f64, causal} : (tensor<2x8x3xf32>, tensor<2x8x4xf32>, tensor<2x8x4xf32>, tensor<2x8x3xf32>, tensor<2x8x3xf32>, tensor<2x8xf32>) -> (tensor<2x8x4xf32>, tensor<2x8x4xf32>, tensor<2x8x3xf32>)
  return %o, %dq, %dk, %dv : tensor<2x8x3xf32>, tensor<2x8x4xf32>, tensor<2x8x4xf32>, tensor<2x8x3xf32>
}

// Without a mask every tile sees every query; 6 keys in tiles of 4 and 2;
// a scale of 1 multiplies nothing.
// CHECK-LABEL: func.func @full
// CHECK-NOT:   nn.mul %arg0
// CHECK:       nn.batch_matmul %arg0, %{{.+}} {transpose_rhs} : (tensor<5x4xf32>, tensor<4x4xf32>) -> tensor<5x4xf32>
// CHECK:       nn.batch_matmul %arg0, %{{.+}} {transpose_rhs} : (tensor<5x4xf32>, tensor<2x4xf32>) -> tensor<5x2xf32>
// CHECK-NOT:   nn.causal_mask
// CHECK:       return
func.func @full(%q: tensor<5x4xf32>, %k: tensor<6x4xf32>, %v: tensor<6x3xf32>) -> tensor<5x3xf32> {
  %o, %lse = nn.attention %q, %k, %v {scale = 1.0 : f64} : (tensor<5x4xf32>, tensor<6x4xf32>, tensor<6x3xf32>) -> (tensor<5x3xf32>, tensor<5xf32>)
  return %o : tensor<5x3xf32>
}
