// RUN: gradc-opt %s --gradc-hoist-vector-transfers | FileCheck %s

// The accumulator of a reduction loop is read before the loop, carried in
// registers as an iter_arg and written once after it.
// CHECK-LABEL: func.func @accumulate
// CHECK-SAME:  (%[[A:.+]]: memref<64x32xf32>, %[[C:.+]]: memref<8x32xf32>)
// CHECK:       %[[INIT:.+]] = vector.transfer_read %[[C]]
// CHECK:       %[[SUM:.+]] = scf.for {{.*}} iter_args(%[[ACC:.+]] = %[[INIT]]) -> (vector<32xf32>)
// CHECK-NOT:     vector.transfer_write
// CHECK:         %[[ROW:.+]] = vector.transfer_read %[[A]]
// CHECK:         %[[NEW:.+]] = arith.addf %[[ROW]], %[[ACC]]
// CHECK:         scf.yield %[[NEW]]
// CHECK:       vector.transfer_write %[[SUM]], %[[C]]
func.func @accumulate(%a: memref<64x32xf32>, %c: memref<8x32xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c64 = arith.constant 64 : index
  %pad = arith.constant 0.0 : f32
  scf.for %k = %c0 to %c64 step %c1 {
    %acc = vector.transfer_read %c[%c0, %c0], %pad {in_bounds = [true]} : memref<8x32xf32>, vector<32xf32>
    %row = vector.transfer_read %a[%k, %c0], %pad {in_bounds = [true]} : memref<64x32xf32>, vector<32xf32>
    %sum = arith.addf %row, %acc : vector<32xf32>
    vector.transfer_write %sum, %c[%c0, %c0] {in_bounds = [true]} : vector<32xf32>, memref<8x32xf32>
  }
  return
}

// A transfer whose indices change with the loop stays inside it.
// CHECK-LABEL: func.func @moving_accumulator
// CHECK:       scf.for
// CHECK:         vector.transfer_read
// CHECK:         vector.transfer_write
func.func @moving_accumulator(%c: memref<64x32xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c64 = arith.constant 64 : index
  %pad = arith.constant 0.0 : f32
  scf.for %k = %c0 to %c64 step %c1 {
    %acc = vector.transfer_read %c[%k, %c0], %pad {in_bounds = [true]} : memref<64x32xf32>, vector<32xf32>
    %sum = arith.addf %acc, %acc : vector<32xf32>
    vector.transfer_write %sum, %c[%k, %c0] {in_bounds = [true]} : vector<32xf32>, memref<64x32xf32>
  }
  return
}
