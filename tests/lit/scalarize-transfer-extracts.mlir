// RUN: gradc-opt %s --gradc-scalarize-transfer-extracts | FileCheck %s

// A vector read only taken apart element by element becomes scalar loads
// (broadcast from memory); a read also used as a vector stays.
// CHECK-LABEL: func.func @outer_product_operands
// CHECK-SAME:  (%[[A:.+]]: memref<8x4xf32>, %[[B:.+]]: memref<4x16xf32>
// CHECK-NOT:   vector.transfer_read %[[A]]
// CHECK-DAG:   vector.transfer_read %[[B]]
// CHECK-DAG:   memref.load %[[A]][%c0, %c0]
// CHECK-DAG:   memref.load %[[A]][%c0, %c1]
// CHECK-NOT:   vector.transfer_read %[[A]]
// CHECK:       return
func.func @outer_product_operands(%a: memref<8x4xf32>, %b: memref<4x16xf32>, %acc: vector<16xf32>) -> vector<16xf32> {
  %c0 = arith.constant 0 : index
  %pad = arith.constant 0.0 : f32
  %lhs = vector.transfer_read %a[%c0, %c0], %pad {in_bounds = [true, true]} : memref<8x4xf32>, vector<8x4xf32>
  %rhs = vector.transfer_read %b[%c0, %c0], %pad {in_bounds = [true, true]} : memref<4x16xf32>, vector<4x16xf32>
  %a0 = vector.extract %lhs[0, 0] : f32 from vector<8x4xf32>
  %a1 = vector.extract %lhs[0, 1] : f32 from vector<8x4xf32>
  %b0 = vector.extract %rhs[0] : vector<16xf32> from vector<4x16xf32>
  %b1 = vector.extract %rhs[1] : vector<16xf32> from vector<4x16xf32>
  %s0 = vector.broadcast %a0 : f32 to vector<16xf32>
  %s1 = vector.broadcast %a1 : f32 to vector<16xf32>
  %r0 = vector.fma %s0, %b0, %acc : vector<16xf32>
  %r1 = vector.fma %s1, %b1, %r0 : vector<16xf32>
  return %r1 : vector<16xf32>
}
