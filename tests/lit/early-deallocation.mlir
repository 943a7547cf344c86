// RUN: gradc-opt %s --gradc-early-deallocation -split-input-file | FileCheck %s

// Each buffer is freed after the last op that reads it or a view of it.
// CHECK-LABEL: func.func @after_last_use
// CHECK:       %[[B:.+]] = memref.alloc()
// CHECK:       memref.copy %arg0, %[[B]]
// CHECK:       %[[C:.+]] = memref.alloc()
// CHECK:       %[[V:.+]] = memref.subview %[[B]]
// CHECK:       memref.copy %[[V]], %[[HALF:.+]] :
// CHECK-NEXT:  memref.dealloc %[[B]]
// CHECK-NEXT:  memref.copy %arg0, %[[C]]
// CHECK:       scf.for
// CHECK:         memref.load %[[C]]
// CHECK:       }
// CHECK-NEXT:  memref.dealloc %[[C]]
// CHECK-NEXT:  return
func.func @after_last_use(%a: memref<4xf32>, %out: memref<2xf32>) {
  %b = memref.alloc() : memref<4xf32>
  memref.copy %a, %b : memref<4xf32> to memref<4xf32>
  %c = memref.alloc() : memref<4xf32>
  %v = memref.subview %b[0] [2] [1] : memref<4xf32> to memref<2xf32, strided<[1]>>
  memref.copy %v, %out : memref<2xf32, strided<[1]>> to memref<2xf32>
  memref.copy %a, %c : memref<4xf32> to memref<4xf32>
  %c0 = arith.constant 0 : index
  %c2 = arith.constant 2 : index
  %c1 = arith.constant 1 : index
  scf.for %i = %c0 to %c2 step %c1 {
    %x = memref.load %c[%i] : memref<4xf32>
    memref.store %x, %out[%i] : memref<2xf32>
  }
  memref.dealloc %b : memref<4xf32>
  memref.dealloc %c : memref<4xf32>
  return
}

// -----

// A view yielded out of a region escapes: its buffer stays freed at the end.
// CHECK-LABEL: func.func @escapes
// CHECK:       scf.if
// CHECK:       memref.copy
// CHECK-NEXT:  memref.dealloc
// CHECK-NEXT:  return
func.func @escapes(%a: memref<4xf32>, %out: memref<4xf32>, %p: i1) {
  %b = memref.alloc() : memref<4xf32>
  memref.copy %a, %b : memref<4xf32> to memref<4xf32>
  %v = scf.if %p -> memref<2xf32, strided<[1], offset: ?>> {
    %s = memref.subview %b[0] [2] [1] : memref<4xf32> to memref<2xf32, strided<[1]>>
    %t = memref.cast %s : memref<2xf32, strided<[1]>> to memref<2xf32, strided<[1], offset: ?>>
    scf.yield %t : memref<2xf32, strided<[1], offset: ?>>
  } else {
    %s = memref.subview %b[2] [2] [1] : memref<4xf32> to memref<2xf32, strided<[1], offset: 2>>
    %t = memref.cast %s : memref<2xf32, strided<[1], offset: 2>> to memref<2xf32, strided<[1], offset: ?>>
    scf.yield %t : memref<2xf32, strided<[1], offset: ?>>
  }
  memref.copy %a, %out : memref<4xf32> to memref<4xf32>
  memref.dealloc %b : memref<4xf32>
  return
}
