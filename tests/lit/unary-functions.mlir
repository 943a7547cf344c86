// RUN: gradc-opt %s -split-input-file | gradc-opt -split-input-file | FileCheck %s --check-prefix=ROUND
// RUN: gradc-opt %s -split-input-file --gradc-lower-nn-to-linalg | FileCheck %s --check-prefix=LOWER
// RUN: gradc-opt %s -split-input-file --gradc-lower-nn-to-linalg --gradc-fuse-elementwise | FileCheck %s --check-prefix=FUSED
// RUN: gradc-opt %s -split-input-file --gradc-autodiff | FileCheck %s --check-prefix=GRAD

// nn.unary and nn.unary_grad: the functions of ir/UnaryFunctions.def, each
// one parallel linalg.generic; a chain of them (and their neighbours) fuses
// into one.

// ROUND-LABEL: func.func @chain
// ROUND:         nn.unary "softplus" %{{.+}} : tensor<3x5xf32>
// ROUND:         nn.unary "elu" %{{.+}} {alpha = 5.000000e-01 : f64} : tensor<3x5xf32>
// ROUND:         nn.unary "sqrt" %{{.+}} : tensor<3x5xf32>
// ROUND:         nn.unary_grad "erf" %{{.+}}, %{{.+}} : tensor<3x5xf32>

// LOWER-LABEL: func.func @chain(
// LOWER-SAME:    %[[X:arg[0-9]+]]: tensor<3x5xf32>
// LOWER-NOT:     nn.
// LOWER:         %[[S:.+]] = linalg.generic {{.*}}iterator_types = ["parallel", "parallel"]} ins(%[[X]] : tensor<3x5xf32>)
// LOWER:           math.exp
// LOWER:           math.log
// LOWER:           linalg.yield
// LOWER:         %[[E:.+]] = linalg.generic {{.*}}iterator_types = ["parallel", "parallel"]} ins(%[[S]] : tensor<3x5xf32>)
// LOWER-DAG:       arith.cmpf ogt
// LOWER-DAG:       math.exp
// LOWER:           arith.select
// LOWER:           linalg.yield
// LOWER:         %[[Q:.+]] = linalg.generic {{.*}}iterator_types = ["parallel", "parallel"]} ins(%[[E]] : tensor<3x5xf32>)
// LOWER:           math.sqrt
// LOWER:           linalg.yield
// LOWER:         %[[G:.+]] = linalg.generic {{.*}}iterator_types = ["parallel", "parallel"]} ins(%[[Q]], %[[X]] : tensor<3x5xf32>, tensor<3x5xf32>)
// LOWER:         ^bb0(%[[DY:[^:]+]]: f32, %[[IN:[^:]+]]: f32, %{{[^:]+}}: f32):
// LOWER:           math.exp
// LOWER:           %[[R:.+]] = arith.mulf %[[DY]], %{{.+}} : f32
// LOWER:           linalg.yield %[[R]] : f32
// LOWER-NOT:     nn.
// LOWER:         return %[[G]]

// FUSED-LABEL: func.func @chain
// FUSED:         linalg.generic
// FUSED:           math.sqrt
// FUSED-NOT:     linalg.generic
// FUSED:         return
func.func @chain(%x: tensor<3x5xf32>) -> tensor<3x5xf32> {
  %0 = nn.unary "softplus" %x : tensor<3x5xf32>
  %1 = nn.unary "elu" %0 {alpha = 5.000000e-01 : f64} : tensor<3x5xf32>
  %2 = nn.unary "sqrt" %1 : tensor<3x5xf32>
  %3 = nn.unary_grad "erf" %2, %x : tensor<3x5xf32>
  return %3 : tensor<3x5xf32>
}

// -----

// The gradient of nn.unary is one nn.unary_grad of dy and the forward
// input, with the same function and alpha.
// GRAD-LABEL: func.func @grad
// GRAD-SAME:  (%[[X:[a-z0-9]+]]: tensor<2x3xf32>
// GRAD:       nn.unary "hard_sigmoid" %[[X]] {alpha = 2.500000e-01 : f64}
// GRAD:       %[[DX:.+]] = nn.unary_grad "hard_sigmoid" %{{.+}}, %[[X]] {alpha = 2.500000e-01 : f64} : tensor<2x3xf32>
// GRAD:       return %{{.*}}, %[[DX]]
func.func @grad(%x: tensor<2x3xf32>, %l: tensor<2xi32>) -> tensor<f32> attributes {nn.differentiate} {
  %0 = nn.unary "hard_sigmoid" %x {alpha = 2.500000e-01 : f64} : tensor<2x3xf32>
  %1 = nn.mse %0, %l : (tensor<2x3xf32>, tensor<2xi32>) -> tensor<f32>
  return %1 : tensor<f32>
}
