// RUN: gradc-opt %s --gradc-lower-nn-to-linalg | FileCheck %s

// Every op of the nn dialect lowers to linalg/tensor/arith/math on tensors:
// one function per op (plus the `lr`-operand form of each optimizer update,
// the inference form of dropout and the transposed-rhs matmul). Each block
// pins the key ops of the lowering and that no nn op is left.

// Affine maps shared by several lowerings.
// CHECK-DAG: #[[$ID1:map[0-9]*]] = affine_map<(d0) -> (d0)>
// CHECK-DAG: #[[$ID2:map[0-9]*]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-DAG: #[[$ROW:map[0-9]*]] = affine_map<(d0, d1) -> (d0)>
// CHECK-DAG: #[[$COL:map[0-9]*]] = affine_map<(d0, d1) -> (d1)>
// CHECK-DAG: #[[$SCALAR2:map[0-9]*]] = affine_map<(d0, d1) -> ()>
// CHECK-DAG: #[[$ID4:map[0-9]*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
// CHECK-DAG: #[[$CH4:map[0-9]*]] = affine_map<(d0, d1, d2, d3) -> (d3)>
// CHECK-DAG: #[[$HW:map[0-9]*]] = affine_map<(d0, d1, d2, d3) -> (d1, d2)>
// CHECK-DAG: #[[$NC:map[0-9]*]] = affine_map<(d0, d1, d2, d3) -> (d0, d3)>
// CHECK-DAG: #[[$PIX:map[0-9]*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
// CHECK-DAG: #[[$FLIP:map[0-9]*]] = affine_map<(d0, d1, d2, d3) -> (-d0 + 2, -d1 + 2, d3, d2)>
// CHECK-DAG: #[[$DWX:map[0-9]*]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d2, d3 * 2 + d0, d4 * 2 + d1, d5)>
// CHECK-DAG: #[[$DWDY:map[0-9]*]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d2, d3, d4, d5)>
// CHECK-DAG: #[[$DWOUT:map[0-9]*]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d5)>
// CHECK-DAG: #[[$WIN:map[0-9]*]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1 * 2 + d4, d2 * 2 + d5, d3)>

//===----------------------------------------------------------------------===//
// Forward layers
//===----------------------------------------------------------------------===//

// Padded input, bias broadcast into the init, the named convolution, then
// the fused relu. The pass also marks the function for the C interface.
// CHECK-LABEL: func.func @conv2d(
// CHECK-SAME:    %[[X:arg[0-9]+]]: tensor<2x5x5x3xf32>, %[[W:arg[0-9]+]]: tensor<3x3x3x4xf32>, %[[B:arg[0-9]+]]: tensor<4xf32>)
// CHECK-SAME:    attributes {llvm.emit_c_interface}
// CHECK-NOT:     nn.
// CHECK:         %[[PAD:.+]] = tensor.pad %[[X]] low[0, 1, 1, 0] high[0, 1, 1, 0]
// CHECK:         } : tensor<2x5x5x3xf32> to tensor<2x7x7x3xf32>
// CHECK:         %[[INIT:.+]] = linalg.generic {indexing_maps = [#[[$CH4]], #[[$ID4]]], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%[[B]] : tensor<4xf32>)
// CHECK:         %[[CONV:.+]] = linalg.conv_2d_nhwc_hwcf {dilations = dense<1> : tensor<2xi64>, strides = dense<2> : tensor<2xi64>} ins(%[[PAD]], %[[W]] : tensor<2x7x7x3xf32>, tensor<3x3x3x4xf32>) outs(%[[INIT]] : tensor<2x3x3x4xf32>)
// CHECK:         %[[Y:.+]] = linalg.generic {{.*}} ins(%[[CONV]] : tensor<2x3x3x4xf32>)
// CHECK:           arith.maximumf
// CHECK-NOT:     nn.
// CHECK:         return %[[Y]]
func.func @conv2d(%x: tensor<2x5x5x3xf32>, %w: tensor<3x3x3x4xf32>, %b: tensor<4xf32>) -> tensor<2x3x3x4xf32> {
  %y = nn.conv2d %x, %w, %b {activation = #nn.activation<relu>, strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>}
      : (tensor<2x5x5x3xf32>, tensor<3x3x3x4xf32>, tensor<4xf32>) -> tensor<2x3x3x4xf32>
  return %y : tensor<2x3x3x4xf32>
}

// Padded with -inf, into a -inf init.
// CHECK-LABEL: func.func @max_pool2d(
// CHECK-SAME:    %[[X:arg[0-9]+]]: tensor<2x5x5x3xf32>)
// CHECK-NOT:     nn.
// CHECK:         %[[NINF:.+]] = arith.constant 0xFF800000 : f32
// CHECK:         %[[PAD:.+]] = tensor.pad %[[X]] low[0, 0, 0, 0] high[0, 1, 1, 0]
// CHECK:           tensor.yield %[[NINF]] : f32
// CHECK:         %[[NINF2:.+]] = arith.constant 0xFF800000 : f32
// CHECK:         %[[INIT:.+]] = linalg.fill ins(%[[NINF2]] : f32) outs(%{{.+}} : tensor<2x3x3x3xf32>)
// CHECK:         %[[WIN:.+]] = tensor.empty() : tensor<2x2xf32>
// CHECK:         %[[Y:.+]] = linalg.pooling_nhwc_max {dilations = dense<1> : tensor<2xi64>, strides = dense<2> : tensor<2xi64>} ins(%[[PAD]], %[[WIN]] : tensor<2x6x6x3xf32>, tensor<2x2xf32>) outs(%[[INIT]] : tensor<2x3x3x3xf32>)
// CHECK-NOT:     nn.
// CHECK:         return %[[Y]]
func.func @max_pool2d(%x: tensor<2x5x5x3xf32>) -> tensor<2x3x3x3xf32> {
  %y = nn.max_pool2d %x {window = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 1, 0, 1>}
      : (tensor<2x5x5x3xf32>) -> tensor<2x3x3x3xf32>
  return %y : tensor<2x3x3x3xf32>
}

// A sum pool, then a division by each window's in-bounds count (the padded
// last row and column see fewer elements).
// CHECK-LABEL: func.func @avg_pool2d(
// CHECK-SAME:    %[[X:arg[0-9]+]]: tensor<2x5x5x3xf32>)
// CHECK-NOT:     nn.
// CHECK:         %[[PAD:.+]] = tensor.pad %[[X]] low[0, 0, 0, 0] high[0, 1, 1, 0]
// CHECK:         %[[SUM:.+]] = linalg.pooling_nhwc_sum {dilations = dense<1> : tensor<2xi64>, strides = dense<2> : tensor<2xi64>} ins(%[[PAD]], %{{.+}} : tensor<2x6x6x3xf32>, tensor<2x2xf32>) outs(%{{.+}} : tensor<2x3x3x3xf32>)
// CHECK:         %[[CNT:.+]] = arith.constant dense<{{\[\[}}4.000000e+00, 4.000000e+00, 2.000000e+00], [4.000000e+00, 4.000000e+00, 2.000000e+00], [2.000000e+00, 2.000000e+00, 1.000000e+00]]> : tensor<3x3xf32>
// CHECK:         %[[Y:.+]] = linalg.generic {indexing_maps = [#[[$ID4]], #[[$HW]], #[[$ID4]]], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%[[SUM]], %[[CNT]] : tensor<2x3x3x3xf32>, tensor<3x3xf32>)
// CHECK:           arith.divf
// CHECK-NOT:     nn.
// CHECK:         return %[[Y]]
func.func @avg_pool2d(%x: tensor<2x5x5x3xf32>) -> tensor<2x3x3x3xf32> {
  %y = nn.avg_pool2d %x {window = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 1, 0, 1>}
      : (tensor<2x5x5x3xf32>) -> tensor<2x3x3x3xf32>
  return %y : tensor<2x3x3x3xf32>
}

// The bias broadcast is the init of the matmul.
// CHECK-LABEL: func.func @dense(
// CHECK-SAME:    %[[X:arg[0-9]+]]: tensor<3x5xf32>, %[[W:arg[0-9]+]]: tensor<5x7xf32>, %[[B:arg[0-9]+]]: tensor<7xf32>)
// CHECK-NOT:     nn.
// CHECK:         %[[INIT:.+]] = linalg.generic {indexing_maps = [#[[$COL]], #[[$ID2]]], iterator_types = ["parallel", "parallel"]} ins(%[[B]] : tensor<7xf32>) outs(%{{.+}} : tensor<3x7xf32>)
// CHECK:         %[[Y:.+]] = linalg.matmul ins(%[[X]], %[[W]] : tensor<3x5xf32>, tensor<5x7xf32>) outs(%[[INIT]] : tensor<3x7xf32>)
// CHECK-NOT:     nn.
// CHECK:         return %[[Y]]
func.func @dense(%x: tensor<3x5xf32>, %w: tensor<5x7xf32>, %b: tensor<7xf32>) -> tensor<3x7xf32> {
  %y = nn.dense %x, %w, %b : (tensor<3x5xf32>, tensor<5x7xf32>, tensor<7xf32>) -> tensor<3x7xf32>
  return %y : tensor<3x7xf32>
}

// Reshapes go through a 1-D tensor.
// CHECK-LABEL: func.func @flatten(
// CHECK-SAME:    %[[X:arg[0-9]+]]: tensor<2x3x3x5xf32>)
// CHECK-NOT:     nn.
// CHECK:         %[[FLAT:.+]] = tensor.collapse_shape %[[X]] {{\[\[}}0, 1, 2, 3]] : tensor<2x3x3x5xf32> into tensor<90xf32>
// CHECK:         %[[Y:.+]] = tensor.expand_shape %[[FLAT]] {{\[\[}}0, 1]] output_shape [2, 45] : tensor<90xf32> into tensor<2x45xf32>
// CHECK-NOT:     nn.
// CHECK:         return %[[Y]]
func.func @flatten(%x: tensor<2x3x3x5xf32>) -> tensor<2x45xf32> {
  %y = nn.flatten %x : (tensor<2x3x3x5xf32>) -> tensor<2x45xf32>
  return %y : tensor<2x45xf32>
}

// CHECK-LABEL: func.func @reshape(
// CHECK-SAME:    %[[X:arg[0-9]+]]: tensor<3x15xf32>)
// CHECK-NOT:     nn.
// CHECK:         %[[FLAT:.+]] = tensor.collapse_shape %[[X]] {{\[\[}}0, 1]] : tensor<3x15xf32> into tensor<45xf32>
// CHECK:         %[[Y:.+]] = tensor.expand_shape %[[FLAT]] {{\[\[}}0, 1]] output_shape [5, 9] : tensor<45xf32> into tensor<5x9xf32>
// CHECK-NOT:     nn.
// CHECK:         return %[[Y]]
func.func @reshape(%x: tensor<3x15xf32>) -> tensor<5x9xf32> {
  %y = nn.reshape %x : (tensor<3x15xf32>) -> tensor<5x9xf32>
  return %y : tensor<5x9xf32>
}

// CHECK-LABEL: func.func @relu(
// CHECK-SAME:    %[[X:arg[0-9]+]]: tensor<3x5xf32>)
// CHECK-NOT:     nn.
// CHECK:         %[[Y:.+]] = linalg.generic {indexing_maps = [#[[$ID2]], #[[$ID2]]], iterator_types = ["parallel", "parallel"]} ins(%[[X]] : tensor<3x5xf32>)
// CHECK:         ^bb0(%[[IN:[^:]+]]: f32, %{{[^:]+}}: f32):
// CHECK:           %[[ZERO:.+]] = arith.constant 0.000000e+00 : f32
// CHECK:           %[[R:.+]] = arith.maximumf %[[IN]], %[[ZERO]] : f32
// CHECK:           linalg.yield %[[R]] : f32
// CHECK-NOT:     nn.
// CHECK:         return %[[Y]]
func.func @relu(%x: tensor<3x5xf32>) -> tensor<3x5xf32> {
  %y = nn.relu %x : tensor<3x5xf32>
  return %y : tensor<3x5xf32>
}

// 1 / (1 + exp(-x)).
// CHECK-LABEL: func.func @sigmoid(
// CHECK-SAME:    %[[X:arg[0-9]+]]: tensor<3x5xf32>)
// CHECK-NOT:     nn.
// CHECK:         %[[Y:.+]] = linalg.generic {{.*}}iterator_types = ["parallel", "parallel"]} ins(%[[X]] : tensor<3x5xf32>)
// CHECK:         ^bb0(%[[IN:[^:]+]]: f32, %{{[^:]+}}: f32):
// CHECK:           %[[NEG:.+]] = arith.negf %[[IN]] : f32
// CHECK:           %[[E:.+]] = math.exp %[[NEG]] : f32
// CHECK:           %[[DEN:.+]] = arith.addf %{{.+}}, %[[E]] : f32
// CHECK:           %[[R:.+]] = arith.divf %{{.+}}, %[[DEN]] : f32
// CHECK:           linalg.yield %[[R]] : f32
// CHECK-NOT:     nn.
// CHECK:         return %[[Y]]
func.func @sigmoid(%x: tensor<3x5xf32>) -> tensor<3x5xf32> {
  %y = nn.sigmoid %x : tensor<3x5xf32>
  return %y : tensor<3x5xf32>
}

// x Phi(x) with erf by Abramowitz and Stegun 7.1.26: one parallel generic.
// CHECK-LABEL: func.func @gelu(
// CHECK-SAME:    %[[X:arg[0-9]+]]: tensor<3x5xf32>)
// CHECK-NOT:     nn.
// CHECK:         %[[Y:.+]] = linalg.generic {{.*}}iterator_types = ["parallel", "parallel"]} ins(%[[X]] : tensor<3x5xf32>)
// CHECK:         ^bb0(%[[IN:[^:]+]]: f32, %{{[^:]+}}: f32):
// CHECK:           math.absf
// CHECK:           math.exp
// CHECK:           arith.select
// CHECK:           %[[R:.+]] = arith.mulf %[[IN]], %{{.+}} : f32
// CHECK:           linalg.yield %[[R]] : f32
// CHECK-NOT:     nn.
// CHECK:         return %[[Y]]
func.func @gelu(%x: tensor<3x5xf32>) -> tensor<3x5xf32> {
  %y = nn.gelu %x : tensor<3x5xf32>
  return %y : tensor<3x5xf32>
}

// dy (Phi(x) + x Phi'(x)), tanh form: one parallel generic of dy and x.
// CHECK-LABEL: func.func @gelu_grad(
// CHECK-SAME:    %[[DY:arg[0-9]+]]: tensor<3x5xf32>, %[[X:arg[0-9]+]]: tensor<3x5xf32>)
// CHECK-NOT:     nn.
// CHECK:         %[[Y:.+]] = linalg.generic {{.*}}iterator_types = ["parallel", "parallel"]} ins(%[[DY]], %[[X]] : tensor<3x5xf32>, tensor<3x5xf32>)
// CHECK:         ^bb0(%[[G:[^:]+]]: f32, %[[IN:[^:]+]]: f32, %{{[^:]+}}: f32):
// CHECK:           math.exp
// CHECK:           %[[R:.+]] = arith.mulf %[[G]], %{{.+}} : f32
// CHECK:           linalg.yield %[[R]] : f32
// CHECK-NOT:     nn.
// CHECK:         return %[[Y]]
func.func @gelu_grad(%dy: tensor<3x5xf32>, %x: tensor<3x5xf32>) -> tensor<3x5xf32> {
  %y = nn.gelu_grad %dy, %x {approximate = true} : tensor<3x5xf32>
  return %y : tensor<3x5xf32>
}

// The keys after each query (j > i over the last two dimensions) get the fill.
// CHECK-LABEL: func.func @causal_mask(
// CHECK-SAME:    %[[X:arg[0-9]+]]: tensor<2x4x4xf32>)
// CHECK-NOT:     nn.
// CHECK:         %[[Y:.+]] = linalg.generic {{.*}}iterator_types = ["parallel", "parallel", "parallel"]} ins(%[[X]] : tensor<2x4x4xf32>)
// CHECK:         ^bb0(%[[IN:[^:]+]]: f32, %{{[^:]+}}: f32):
// CHECK-DAG:       %[[I:.+]] = linalg.index 1 : index
// CHECK-DAG:       %[[J:.+]] = linalg.index 2 : index
// CHECK:           %[[F:.+]] = arith.cmpi ugt, %[[J]], %[[I]] : index
// CHECK:           %[[R:.+]] = arith.select %[[F]], %{{.+}}, %[[IN]] : f32
// CHECK:           linalg.yield %[[R]] : f32
// CHECK:         return %[[Y]]
func.func @causal_mask(%x: tensor<2x4x4xf32>) -> tensor<2x4x4xf32> {
  %y = nn.causal_mask %x {fill = -1.0e+30 : f64} : tensor<2x4x4xf32>
  return %y : tensor<2x4x4xf32>
}

// 1 - 2 / (exp(2x) + 1).
// CHECK-LABEL: func.func @tanh(
// CHECK-SAME:    %[[X:arg[0-9]+]]: tensor<3x5xf32>)
// CHECK-NOT:     nn.
// CHECK:         %[[Y:.+]] = linalg.generic {{.*}}iterator_types = ["parallel", "parallel"]} ins(%[[X]] : tensor<3x5xf32>)
// CHECK:         ^bb0(%[[IN:[^:]+]]: f32, %{{[^:]+}}: f32):
// CHECK:           %[[X2:.+]] = arith.addf %[[IN]], %[[IN]] : f32
// CHECK:           %[[E:.+]] = math.exp %[[X2]] : f32
// CHECK:           %[[E1:.+]] = arith.addf %[[E]], %{{.+}} : f32
// CHECK:           %[[TWO:.+]] = arith.constant 2.000000e+00 : f32
// CHECK:           %[[Q:.+]] = arith.divf %[[TWO]], %[[E1]] : f32
// CHECK:           %[[R:.+]] = arith.subf %{{.+}}, %[[Q]] : f32
// CHECK:           linalg.yield %[[R]] : f32
// CHECK-NOT:     nn.
// CHECK:         return %[[Y]]
func.func @tanh(%x: tensor<3x5xf32>) -> tensor<3x5xf32> {
  %y = nn.tanh %x : tensor<3x5xf32>
  return %y : tensor<3x5xf32>
}

// Row max, exp(x - max), row sum, divide.
// CHECK-LABEL: func.func @softmax(
// CHECK-SAME:    %[[X:arg[0-9]+]]: tensor<3x5xf32>)
// CHECK-NOT:     nn.
// CHECK:         %[[MAX:.+]] = linalg.generic {indexing_maps = [#[[$ID2]], #[[$ROW]]], iterator_types = ["parallel", "reduction"]} ins(%[[X]] : tensor<3x5xf32>) outs(%{{.+}} : tensor<3xf32>)
// CHECK:           arith.maximumf
// CHECK:         %[[EX:.+]] = linalg.generic {indexing_maps = [#[[$ID2]], #[[$ROW]], #[[$ID2]]], iterator_types = ["parallel", "parallel"]} ins(%[[X]], %[[MAX]] : tensor<3x5xf32>, tensor<3xf32>)
// CHECK:           arith.subf
// CHECK:           math.exp
// CHECK:         %[[SUM:.+]] = linalg.generic {indexing_maps = [#[[$ID2]], #[[$ROW]]], iterator_types = ["parallel", "reduction"]} ins(%[[EX]] : tensor<3x5xf32>)
// CHECK:           arith.addf
// CHECK:         %[[Y:.+]] = linalg.generic {{.*}}iterator_types = ["parallel", "parallel"]} ins(%[[EX]], %[[SUM]] : tensor<3x5xf32>, tensor<3xf32>)
// CHECK:           arith.divf
// CHECK-NOT:     nn.
// CHECK:         return %[[Y]]
func.func @softmax(%x: tensor<3x5xf32>) -> tensor<3x5xf32> {
  %y = nn.softmax %x : tensor<3x5xf32>
  return %y : tensor<3x5xf32>
}

// x - max - log(sum(exp(x - max))).
// CHECK-LABEL: func.func @log_softmax(
// CHECK-SAME:    %[[X:arg[0-9]+]]: tensor<3x5xf32>)
// CHECK-NOT:     nn.
// CHECK:         %[[MAX:.+]] = linalg.generic {{.*}}iterator_types = ["parallel", "reduction"]} ins(%[[X]] : tensor<3x5xf32>)
// CHECK:           arith.maximumf
// CHECK:         %[[EX:.+]] = linalg.generic {{.*}}iterator_types = ["parallel", "parallel"]} ins(%[[X]], %[[MAX]] : tensor<3x5xf32>, tensor<3xf32>)
// CHECK:           math.exp
// CHECK:         %[[SUM:.+]] = linalg.generic {{.*}}iterator_types = ["parallel", "reduction"]} ins(%[[EX]] : tensor<3x5xf32>)
// CHECK:           arith.addf
// CHECK:         %[[Y:.+]] = linalg.generic {indexing_maps = [#[[$ID2]], #[[$ROW]], #[[$ROW]], #[[$ID2]]], iterator_types = ["parallel", "parallel"]} ins(%[[X]], %[[MAX]], %[[SUM]] : tensor<3x5xf32>, tensor<3xf32>, tensor<3xf32>)
// CHECK:         ^bb0(%[[IN:[^:]+]]: f32, %[[M:[^:]+]]: f32, %[[S:[^:]+]]: f32, %{{[^:]+}}: f32):
// CHECK:           %[[LOG:.+]] = math.log %[[S]] : f32
// CHECK:           %[[D:.+]] = arith.subf %[[IN]], %[[M]] : f32
// CHECK:           %[[R:.+]] = arith.subf %[[D]], %[[LOG]] : f32
// CHECK:           linalg.yield %[[R]] : f32
// CHECK-NOT:     nn.
// CHECK:         return %[[Y]]
func.func @log_softmax(%x: tensor<3x5xf32>) -> tensor<3x5xf32> {
  %y = nn.log_softmax %x : tensor<3x5xf32>
  return %y : tensor<3x5xf32>
}

// x >= 0 ? x : alpha * x.
// CHECK-LABEL: func.func @leaky_relu(
// CHECK-SAME:    %[[X:arg[0-9]+]]: tensor<3x5xf32>)
// CHECK-NOT:     nn.
// CHECK:         %[[Y:.+]] = linalg.generic {{.*}}iterator_types = ["parallel", "parallel"]} ins(%[[X]] : tensor<3x5xf32>)
// CHECK:         ^bb0(%[[IN:[^:]+]]: f32, %{{[^:]+}}: f32):
// CHECK:           %[[ALPHA:.+]] = arith.constant 2.500000e-01 : f32
// CHECK:           %[[AX:.+]] = arith.mulf %[[IN]], %[[ALPHA]] : f32
// CHECK:           %[[POS:.+]] = arith.cmpf oge, %[[IN]], %{{.+}} : f32
// CHECK:           %[[R:.+]] = arith.select %[[POS]], %[[IN]], %[[AX]] : f32
// CHECK:           linalg.yield %[[R]] : f32
// CHECK-NOT:     nn.
// CHECK:         return %[[Y]]
func.func @leaky_relu(%x: tensor<3x5xf32>) -> tensor<3x5xf32> {
  %y = nn.leaky_relu %x {alpha = 0.25 : f64} : tensor<3x5xf32>
  return %y : tensor<3x5xf32>
}

// alpha is indexed by the last dimension.
// CHECK-LABEL: func.func @prelu(
// CHECK-SAME:    %[[X:arg[0-9]+]]: tensor<3x5xf32>, %[[A:arg[0-9]+]]: tensor<5xf32>)
// CHECK-NOT:     nn.
// CHECK:         %[[Y:.+]] = linalg.generic {indexing_maps = [#[[$ID2]], #[[$COL]], #[[$ID2]]], iterator_types = ["parallel", "parallel"]} ins(%[[X]], %[[A]] : tensor<3x5xf32>, tensor<5xf32>)
// CHECK:         ^bb0(%[[IN:[^:]+]]: f32, %[[AL:[^:]+]]: f32, %{{[^:]+}}: f32):
// CHECK:           %[[AX:.+]] = arith.mulf %[[IN]], %[[AL]] : f32
// CHECK:           %[[POS:.+]] = arith.cmpf ogt, %[[IN]], %{{.+}} : f32
// CHECK:           %[[R:.+]] = arith.select %[[POS]], %[[IN]], %[[AX]] : f32
// CHECK:           linalg.yield %[[R]] : f32
// CHECK-NOT:     nn.
// CHECK:         return %[[Y]]
func.func @prelu(%x: tensor<3x5xf32>, %a: tensor<5xf32>) -> tensor<3x5xf32> {
  %y = nn.prelu %x, %a : (tensor<3x5xf32>, tensor<5xf32>) -> tensor<3x5xf32>
  return %y : tensor<3x5xf32>
}

// With a step: the mask is a hash of (seed, step, linear index); kept
// elements (draw >= rate) are scaled by 1 / (1 - rate).
// CHECK-LABEL: func.func @dropout(
// CHECK-SAME:    %[[X:arg[0-9]+]]: tensor<3x5xf32>, %[[STEP:arg[0-9]+]]: tensor<i64>)
// CHECK-NOT:     nn.
// CHECK:         %[[S:.+]] = tensor.extract %[[STEP]][] : tensor<i64>
// CHECK:         arith.muli %[[S]], %{{.+}} : i64
// CHECK:         %[[Y:.+]] = linalg.generic {{.*}}iterator_types = ["parallel", "parallel"]} ins(%[[X]] : tensor<3x5xf32>)
// CHECK:         ^bb0(%[[IN:[^:]+]]: f32, %{{[^:]+}}: f32):
// CHECK:           linalg.index 0 : index
// CHECK:           linalg.index 1 : index
// CHECK:           arith.index_castui %{{.+}} : index to i64
// CHECK:           arith.shrui
// CHECK:           arith.xori
// CHECK:           %[[BITS:.+]] = arith.uitofp %{{.+}} : i64 to f32
// CHECK:           %[[RATE:.+]] = arith.constant 2.500000e-01 : f32
// CHECK:           %[[KEEP:.+]] = arith.cmpf oge, %{{.+}}, %[[RATE]] : f32
// CHECK:           %[[SCALE:.+]] = arith.constant 1.33333337 : f32
// CHECK:           %[[XS:.+]] = arith.mulf %[[IN]], %[[SCALE]] : f32
// CHECK:           %[[R:.+]] = arith.select %[[KEEP]], %[[XS]], %{{.+}} : f32
// CHECK:           linalg.yield %[[R]] : f32
// CHECK-NOT:     nn.
// CHECK:         return %[[Y]]
func.func @dropout(%x: tensor<3x5xf32>, %step: tensor<i64>) -> tensor<3x5xf32> {
  %y = nn.dropout %x, %step {rate = 0.25 : f64, seed = 7 : i64} : tensor<3x5xf32>, tensor<i64>
  return %y : tensor<3x5xf32>
}

// Without a step dropout is the identity.
// CHECK-LABEL: func.func @dropout_inference(
// CHECK-SAME:    %[[X:arg[0-9]+]]: tensor<3x5xf32>)
// CHECK-NOT:     nn.
// CHECK-NEXT:    return %[[X]] : tensor<3x5xf32>
func.func @dropout_inference(%x: tensor<3x5xf32>) -> tensor<3x5xf32> {
  %y = nn.dropout %x {rate = 0.25 : f64} : tensor<3x5xf32>
  return %y : tensor<3x5xf32>
}

// CHECK-LABEL: func.func @add(
// CHECK-SAME:    %[[A:arg[0-9]+]]: tensor<3x5xf32>, %[[B:arg[0-9]+]]: tensor<3x5xf32>)
// CHECK-NOT:     nn.
// CHECK:         %[[Y:.+]] = linalg.generic {indexing_maps = [#[[$ID2]], #[[$ID2]], #[[$ID2]]], iterator_types = ["parallel", "parallel"]} ins(%[[A]], %[[B]] : tensor<3x5xf32>, tensor<3x5xf32>)
// CHECK:         ^bb0(%[[L:[^:]+]]: f32, %[[R:[^:]+]]: f32, %{{[^:]+}}: f32):
// CHECK:           %[[S:.+]] = arith.addf %[[L]], %[[R]] : f32
// CHECK:           linalg.yield %[[S]] : f32
// CHECK-NOT:     nn.
// CHECK:         return %[[Y]]
func.func @add(%a: tensor<3x5xf32>, %b: tensor<3x5xf32>) -> tensor<3x5xf32> {
  %y = nn.add %a, %b : tensor<3x5xf32>
  return %y : tensor<3x5xf32>
}

// A reduction over H and W into [N, C], then times 1 / (H * W).
// CHECK-LABEL: func.func @global_avg_pool2d(
// CHECK-SAME:    %[[X:arg[0-9]+]]: tensor<2x5x5x3xf32>)
// CHECK-NOT:     nn.
// CHECK:         %[[SUM:.+]] = linalg.generic {indexing_maps = [#[[$ID4]], #[[$NC]]], iterator_types = ["parallel", "reduction", "reduction", "parallel"]} ins(%[[X]] : tensor<2x5x5x3xf32>) outs(%{{.+}} : tensor<2x3xf32>)
// CHECK:           arith.addf
// CHECK:         %[[Y:.+]] = linalg.generic {{.*}} ins(%[[SUM]] : tensor<2x3xf32>)
// CHECK:           %[[INV:.+]] = arith.constant 4.000000e-02 : f32
// CHECK:           arith.mulf %{{.+}}, %[[INV]] : f32
// CHECK-NOT:     nn.
// CHECK:         return %[[Y]]
func.func @global_avg_pool2d(%x: tensor<2x5x5x3xf32>) -> tensor<2x3xf32> {
  %y = nn.global_avg_pool2d %x : (tensor<2x5x5x3xf32>) -> tensor<2x3xf32>
  return %y : tensor<2x3xf32>
}

// CHECK-LABEL: func.func @global_max_pool2d(
// CHECK-SAME:    %[[X:arg[0-9]+]]: tensor<2x5x5x3xf32>)
// CHECK-NOT:     nn.
// CHECK:         %[[NINF:.+]] = arith.constant 0xFF800000 : f32
// CHECK:         %[[INIT:.+]] = linalg.fill ins(%[[NINF]] : f32) outs(%{{.+}} : tensor<2x3xf32>)
// CHECK:         %[[Y:.+]] = linalg.generic {indexing_maps = [#[[$ID4]], #[[$NC]]], iterator_types = ["parallel", "reduction", "reduction", "parallel"]} ins(%[[X]] : tensor<2x5x5x3xf32>) outs(%[[INIT]] : tensor<2x3xf32>)
// CHECK:           arith.maximumf
// CHECK-NOT:     nn.
// CHECK:         return %[[Y]]
func.func @global_max_pool2d(%x: tensor<2x5x5x3xf32>) -> tensor<2x3xf32> {
  %y = nn.global_max_pool2d %x : (tensor<2x5x5x3xf32>) -> tensor<2x3xf32>
  return %y : tensor<2x3xf32>
}

// Each input is inserted into an empty result at its offset along the axis.
// CHECK-LABEL: func.func @concat(
// CHECK-SAME:    %[[A:arg[0-9]+]]: tensor<2x3x3x3xf32>, %[[B:arg[0-9]+]]: tensor<2x3x3x5xf32>)
// CHECK-NOT:     nn.
// CHECK:         %[[E:.+]] = tensor.empty() : tensor<2x3x3x8xf32>
// CHECK:         %[[S1:.+]] = tensor.insert_slice %[[A]] into %[[E]][0, 0, 0, 0] [2, 3, 3, 3] [1, 1, 1, 1] : tensor<2x3x3x3xf32> into tensor<2x3x3x8xf32>
// CHECK:         %[[S2:.+]] = tensor.insert_slice %[[B]] into %[[S1]][0, 0, 0, 3] [2, 3, 3, 5] [1, 1, 1, 1] : tensor<2x3x3x5xf32> into tensor<2x3x3x8xf32>
// CHECK-NOT:     nn.
// CHECK:         return %[[S2]]
func.func @concat(%a: tensor<2x3x3x3xf32>, %b: tensor<2x3x3x5xf32>) -> tensor<2x3x3x8xf32> {
  %y = nn.concat %a, %b {axis = 3 : i64} : (tensor<2x3x3x3xf32>, tensor<2x3x3x5xf32>) -> tensor<2x3x3x8xf32>
  return %y : tensor<2x3x3x8xf32>
}

// rstd = 1 / sqrt(var + eps) per channel, then one parallel generic:
// (x - mean) * rstd * gamma + beta.
// CHECK-LABEL: func.func @batch_norm(
// CHECK-SAME:    %[[X:arg[0-9]+]]: tensor<2x3x3x5xf32>, %[[G:arg[0-9]+]]: tensor<5xf32>, %[[B:arg[0-9]+]]: tensor<5xf32>, %[[M:arg[0-9]+]]: tensor<5xf32>, %[[V:arg[0-9]+]]: tensor<5xf32>)
// CHECK-NOT:     nn.
// CHECK:         %[[RSTD:.+]] = linalg.generic {indexing_maps = [#[[$ID1]], #[[$ID1]]], iterator_types = ["parallel"]} ins(%[[V]] : tensor<5xf32>)
// CHECK:           arith.constant 1.000000e-03 : f32
// CHECK:           math.sqrt
// CHECK:           arith.divf
// CHECK:         %[[Y:.+]] = linalg.generic {indexing_maps = [#[[$ID4]], #[[$CH4]], #[[$CH4]], #[[$CH4]], #[[$CH4]], #[[$ID4]]], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%[[X]], %[[M]], %[[RSTD]], %[[G]], %[[B]] : tensor<2x3x3x5xf32>, tensor<5xf32>, tensor<5xf32>, tensor<5xf32>, tensor<5xf32>)
// CHECK:         ^bb0(%[[IX:[^:]+]]: f32, %[[IM:[^:]+]]: f32, %[[IR:[^:]+]]: f32, %[[IG:[^:]+]]: f32, %[[IB:[^:]+]]: f32, %{{[^:]+}}: f32):
// CHECK:           %[[C:.+]] = arith.subf %[[IX]], %[[IM]] : f32
// CHECK:           %[[XH:.+]] = arith.mulf %[[C]], %[[IR]] : f32
// CHECK:           %[[SC:.+]] = arith.mulf %[[XH]], %[[IG]] : f32
// CHECK:           %[[R:.+]] = arith.addf %[[SC]], %[[IB]] : f32
// CHECK:           linalg.yield %[[R]] : f32
// CHECK-NOT:     nn.
// CHECK:         return %[[Y]]
func.func @batch_norm(%x: tensor<2x3x3x5xf32>, %g: tensor<5xf32>, %b: tensor<5xf32>, %m: tensor<5xf32>, %v: tensor<5xf32>) -> tensor<2x3x3x5xf32> {
  %y = nn.batch_norm %x, %g, %b, %m, %v {epsilon = 1.0e-3 : f64, momentum = 0.99 : f64}
      : (tensor<2x3x3x5xf32>, tensor<5xf32>, tensor<5xf32>, tensor<5xf32>, tensor<5xf32>) -> tensor<2x3x3x5xf32>
  return %y : tensor<2x3x3x5xf32>
}

// Layer norm: per pixel (every index but the last), the sum over the
// channels, the mean (x 1/5), the centred squares' sum, rstd = 1 / sqrt(var +
// eps), then one parallel generic: (x - mean) * rstd * gamma + beta.
// CHECK-LABEL: func.func @layer_norm(
// CHECK-SAME:    %[[X:arg[0-9]+]]: tensor<2x3x3x5xf32>, %[[G:arg[0-9]+]]: tensor<5xf32>, %[[B:arg[0-9]+]]: tensor<5xf32>)
// CHECK-NOT:     nn.
// CHECK:         %[[SUM:.+]] = linalg.generic {indexing_maps = [#[[$ID4]], #[[$PIX]]], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%[[X]] : tensor<2x3x3x5xf32>)
// CHECK:           arith.addf
// CHECK:         %[[MEAN:.+]] = linalg.generic {{.*}} ins(%[[SUM]] : tensor<2x3x3xf32>)
// CHECK:           arith.constant 2.000000e-01 : f32
// CHECK:         %[[SQ:.+]] = linalg.generic {indexing_maps = [#[[$ID4]], #[[$PIX]], #[[$PIX]]], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%[[X]], %[[MEAN]] : tensor<2x3x3x5xf32>, tensor<2x3x3xf32>)
// CHECK:           arith.subf
// CHECK:           arith.mulf
// CHECK:           arith.addf
// CHECK:         %[[RSTD:.+]] = linalg.generic {{.*}} ins(%[[SQ]] : tensor<2x3x3xf32>)
// CHECK:           arith.constant 9.99999974E-6 : f32
// CHECK:           math.sqrt
// CHECK:           arith.divf
// CHECK:         %[[Y:.+]] = linalg.generic {indexing_maps = [#[[$ID4]], #[[$PIX]], #[[$PIX]], #[[$CH4]], #[[$CH4]], #[[$ID4]]], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%[[X]], %[[MEAN]], %[[RSTD]], %[[G]], %[[B]] : tensor<2x3x3x5xf32>, tensor<2x3x3xf32>, tensor<2x3x3xf32>, tensor<5xf32>, tensor<5xf32>)
// CHECK:         ^bb0(%[[IX:[^:]+]]: f32, %[[IM:[^:]+]]: f32, %[[IR:[^:]+]]: f32, %[[IG:[^:]+]]: f32, %[[IB:[^:]+]]: f32, %{{[^:]+}}: f32):
// CHECK:           %[[C:.+]] = arith.subf %[[IX]], %[[IM]] : f32
// CHECK:           %[[XH:.+]] = arith.mulf %[[C]], %[[IR]] : f32
// CHECK:           %[[SC:.+]] = arith.mulf %[[XH]], %[[IG]] : f32
// CHECK:           %[[R:.+]] = arith.addf %[[SC]], %[[IB]] : f32
// CHECK:           linalg.yield %[[R]] : f32
// CHECK-NOT:     nn.
// CHECK:         return %[[Y]]
func.func @layer_norm(%x: tensor<2x3x3x5xf32>, %g: tensor<5xf32>, %b: tensor<5xf32>) -> tensor<2x3x3x5xf32> {
  %y = nn.layer_norm %x, %g, %b {epsilon = 1.0e-5 : f64}
      : (tensor<2x3x3x5xf32>, tensor<5xf32>, tensor<5xf32>) -> tensor<2x3x3x5xf32>
  return %y : tensor<2x3x3x5xf32>
}

// Layer norm's gradient: the row statistics again (sum, mean, centred
// squares, rstd), both row sums of g = dy * gamma and g * xhat in one
// reduction, dx in one parallel generic, dgamma and dbeta in one reduction
// over the rows.
// CHECK-LABEL: func.func @layer_norm_grad(
// CHECK-SAME:    %[[DY:arg[0-9]+]]: tensor<4x6xf32>, %[[X:arg[0-9]+]]: tensor<4x6xf32>, %[[G:arg[0-9]+]]: tensor<6xf32>)
// CHECK-NOT:     nn.
// CHECK:         %[[SUM:.+]] = linalg.generic {indexing_maps = [#[[$ID2]], #[[$ROW]]], iterator_types = ["parallel", "reduction"]} ins(%[[X]] : tensor<4x6xf32>)
// CHECK:         %[[MEAN:.+]] = linalg.generic {{.*}} ins(%[[SUM]] : tensor<4xf32>)
// CHECK:         %[[SQ:.+]] = linalg.generic {{.*}} ins(%[[X]], %[[MEAN]] : tensor<4x6xf32>, tensor<4xf32>)
// CHECK:         %[[RSTD:.+]] = linalg.generic {{.*}} ins(%[[SQ]] : tensor<4xf32>)
// CHECK:         %[[S:.+]]:2 = linalg.generic {indexing_maps = [#[[$ID2]], #[[$ID2]], #[[$ROW]], #[[$ROW]], #[[$COL]], #[[$ROW]], #[[$ROW]]], iterator_types = ["parallel", "reduction"]} ins(%[[DY]], %[[X]], %[[MEAN]], %[[RSTD]], %[[G]] : {{.*}}) outs({{.*}} : tensor<4xf32>, tensor<4xf32>)
// CHECK:         %[[DX:.+]] = linalg.generic {indexing_maps = [#[[$ID2]], #[[$ID2]], #[[$ROW]], #[[$ROW]], #[[$COL]], #[[$ROW]], #[[$ROW]], #[[$ID2]]], iterator_types = ["parallel", "parallel"]} ins(%[[DY]], %[[X]], %[[MEAN]], %[[RSTD]], %[[G]], %[[S]]#0, %[[S]]#1 : {{.*}})
// CHECK:         %[[P:.+]]:2 = linalg.generic {indexing_maps = [#[[$ID2]], #[[$ID2]], #[[$ROW]], #[[$ROW]], #[[$COL]], #[[$COL]]], iterator_types = ["reduction", "parallel"]} ins(%[[DY]], %[[X]], %[[MEAN]], %[[RSTD]] : {{.*}}) outs({{.*}} : tensor<6xf32>, tensor<6xf32>)
// CHECK-NOT:     nn.
// CHECK:         return %[[DX]], %[[P]]#0, %[[P]]#1
func.func @layer_norm_grad(%dy: tensor<4x6xf32>, %x: tensor<4x6xf32>, %g: tensor<6xf32>) -> (tensor<4x6xf32>, tensor<6xf32>, tensor<6xf32>) {
  %dx, %dg, %db = nn.layer_norm_grad %dy, %x, %g {epsilon = 1.0e-5 : f64}
      : (tensor<4x6xf32>, tensor<4x6xf32>, tensor<6xf32>) -> (tensor<4x6xf32>, tensor<6xf32>, tensor<6xf32>)
  return %dx, %dg, %db : tensor<4x6xf32>, tensor<6xf32>, tensor<6xf32>
}

// Folded: s = gamma / sqrt(var + eps), filter * s per output channel,
// bias' = (bias - mean) * s + beta broadcast into the init, one convolution,
// then the activation.
// CHECK-LABEL: func.func @conv2d_batch_norm(
// CHECK-SAME:    %[[X:arg[0-9]+]]: tensor<2x5x5x3xf32>, %[[W:arg[0-9]+]]: tensor<3x3x3x5xf32>, %[[C:arg[0-9]+]]: tensor<5xf32>)
// CHECK-NOT:     nn.
// CHECK:         %[[S:.+]] = linalg.generic {{.*}}iterator_types = ["parallel"]} ins(%[[C]], %[[C]] : tensor<5xf32>, tensor<5xf32>)
// CHECK:           math.sqrt
// CHECK:           arith.divf
// CHECK:         %[[WF:.+]] = linalg.generic {indexing_maps = [#[[$ID4]], #[[$CH4]], #[[$ID4]]], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%[[W]], %[[S]] : tensor<3x3x3x5xf32>, tensor<5xf32>)
// CHECK:           arith.mulf
// CHECK:         %[[BF:.+]] = linalg.generic {{.*}}iterator_types = ["parallel"]} ins(%[[C]], %[[C]], %[[S]], %[[C]] : tensor<5xf32>, tensor<5xf32>, tensor<5xf32>, tensor<5xf32>)
// CHECK:           arith.subf
// CHECK:           arith.mulf
// CHECK:           arith.addf
// CHECK:         %[[INIT:.+]] = linalg.generic {indexing_maps = [#[[$CH4]], #[[$ID4]]], {{.*}} ins(%[[BF]] : tensor<5xf32>)
// CHECK:         %[[CONV:.+]] = linalg.conv_2d_nhwc_hwcf {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>} ins(%[[X]], %[[WF]] : tensor<2x5x5x3xf32>, tensor<3x3x3x5xf32>) outs(%[[INIT]] : tensor<2x3x3x5xf32>)
// CHECK:         %[[Y:.+]] = linalg.generic {{.*}} ins(%[[CONV]] : tensor<2x3x3x5xf32>)
// CHECK:           arith.maximumf
// CHECK-NOT:     nn.
// CHECK:         return %[[Y]]
func.func @conv2d_batch_norm(%x: tensor<2x5x5x3xf32>, %w: tensor<3x3x3x5xf32>, %c: tensor<5xf32>) -> tensor<2x3x3x5xf32> {
  %y = nn.conv2d_batch_norm %x, %w, %c, %c, %c, %c, %c {activation = #nn.activation<relu>, epsilon = 1.0e-3 : f64, momentum = 0.99 : f64}
      : (tensor<2x5x5x3xf32>, tensor<3x3x3x5xf32>, tensor<5xf32>, tensor<5xf32>, tensor<5xf32>, tensor<5xf32>, tensor<5xf32>) -> tensor<2x3x3x5xf32>
  return %y : tensor<2x3x3x5xf32>
}

// With rows (the labels): a row mask (label >= 0), M = 9 * the rows that
// count (at least 1) at run time, both sums weighted by the mask and
// divided by M.
// CHECK-LABEL: func.func @batch_norm_train_rows(
// CHECK-SAME:    %[[X:arg[0-9]+]]: tensor<2x3x3x5xf32>, %{{.+}}: tensor<5xf32>, %{{.+}}: tensor<5xf32>, %[[L:arg[0-9]+]]: tensor<2xi32>)
// CHECK:         %[[MASK:.+]] = linalg.generic {{.*}} ins(%[[L]] : tensor<2xi32>)
// CHECK:           arith.cmpi sge
// CHECK:         %[[CNT:.+]] = linalg.generic {{.*}}iterator_types = ["reduction"]} ins(%[[MASK]] : tensor<2xf32>)
// CHECK:         %[[M:.+]] = linalg.generic {{.*}} ins(%[[CNT]] : tensor<f32>)
// CHECK:           arith.constant 9.000000e+00 : f32
// CHECK:           arith.maximumf
// CHECK:         %[[SUM:.+]] = linalg.generic {{.*}} ins(%[[X]], %[[MASK]] : tensor<2x3x3x5xf32>, tensor<2xf32>)
// CHECK:         %[[MEAN:.+]] = linalg.generic {{.*}} ins(%[[SUM]], %[[M]] : tensor<5xf32>, tensor<f32>)
// CHECK:           arith.divf
// CHECK:         linalg.generic {{.*}} ins(%[[X]], %[[MEAN]], %[[MASK]] : tensor<2x3x3x5xf32>, tensor<5xf32>, tensor<2xf32>)
func.func @batch_norm_train_rows(%x: tensor<2x3x3x5xf32>, %g: tensor<5xf32>, %b: tensor<5xf32>, %l: tensor<2xi32>) -> (tensor<2x3x3x5xf32>, tensor<5xf32>, tensor<5xf32>) {
  %y, %mean, %var = nn.batch_norm_train %x, %g, %b rows %l {epsilon = 1.0e-3 : f64}
      : (tensor<2x3x3x5xf32>, tensor<5xf32>, tensor<5xf32>, tensor<2xi32>) -> (tensor<2x3x3x5xf32>, tensor<5xf32>, tensor<5xf32>)
  return %y, %mean, %var : tensor<2x3x3x5xf32>, tensor<5xf32>, tensor<5xf32>
}

// Two passes over x (the mean, then the centred squares), each a reduction
// into [C] scaled by 1 / M (M = 2 * 3 * 3 = 18), then the normalization.
// CHECK-LABEL: func.func @batch_norm_train(
// CHECK-SAME:    %[[X:arg[0-9]+]]: tensor<2x3x3x5xf32>, %[[G:arg[0-9]+]]: tensor<5xf32>, %[[B:arg[0-9]+]]: tensor<5xf32>)
// CHECK-NOT:     nn.
// CHECK:         %[[SUM:.+]] = linalg.generic {indexing_maps = [#[[$ID4]], #[[$CH4]]], iterator_types = ["reduction", "reduction", "reduction", "parallel"]} ins(%[[X]] : tensor<2x3x3x5xf32>) outs(%{{.+}} : tensor<5xf32>)
// CHECK:         %[[MEAN:.+]] = linalg.generic {{.*}} ins(%[[SUM]] : tensor<5xf32>)
// CHECK:           arith.constant 0.055555556 : f32
// CHECK:         %[[SQ:.+]] = linalg.generic {indexing_maps = [#[[$ID4]], #[[$CH4]], #[[$CH4]]], iterator_types = ["reduction", "reduction", "reduction", "parallel"]} ins(%[[X]], %[[MEAN]] : tensor<2x3x3x5xf32>, tensor<5xf32>)
// CHECK:           arith.subf
// CHECK:           arith.mulf
// CHECK:           arith.addf
// CHECK:         %[[VAR:.+]] = linalg.generic {{.*}} ins(%[[SQ]] : tensor<5xf32>)
// CHECK:           arith.constant 0.055555556 : f32
// CHECK:         %[[RSTD:.+]] = linalg.generic {{.*}} ins(%[[VAR]] : tensor<5xf32>)
// CHECK:           math.sqrt
// CHECK:         %[[Y:.+]] = linalg.generic {{.*}}iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%[[X]], %[[MEAN]], %[[RSTD]], %[[G]], %[[B]] :
// CHECK-NOT:     nn.
// CHECK:         return %[[Y]], %[[MEAN]], %[[VAR]] : tensor<2x3x3x5xf32>, tensor<5xf32>, tensor<5xf32>
func.func @batch_norm_train(%x: tensor<2x3x3x5xf32>, %g: tensor<5xf32>, %b: tensor<5xf32>) -> (tensor<2x3x3x5xf32>, tensor<5xf32>, tensor<5xf32>) {
  %y, %mean, %var = nn.batch_norm_train %x, %g, %b {epsilon = 1.0e-3 : f64}
      : (tensor<2x3x3x5xf32>, tensor<5xf32>, tensor<5xf32>) -> (tensor<2x3x3x5xf32>, tensor<5xf32>, tensor<5xf32>)
  return %y, %mean, %var : tensor<2x3x3x5xf32>, tensor<5xf32>, tensor<5xf32>
}

//===----------------------------------------------------------------------===//
// Losses: a reduction over (row, class) into a 0-D tensor, then the mean.
//===----------------------------------------------------------------------===//

// -onehot * log(clamp(p, 1e-7, 1)), divided by the rows that count.
// CHECK-LABEL: func.func @cross_entropy(
// CHECK-SAME:    %[[P:arg[0-9]+]]: tensor<3x5xf32>, %[[L:arg[0-9]+]]: tensor<3xi32>)
// CHECK-NOT:     nn.
// CHECK:         %[[SUM:.+]]:2 = linalg.generic {indexing_maps = [#[[$ID2]], #[[$ROW]], #[[$SCALAR2]], #[[$SCALAR2]]], iterator_types = ["reduction", "reduction"]} ins(%[[P]], %[[L]] : tensor<3x5xf32>, tensor<3xi32>) outs(%{{.+}}, %{{.+}} : tensor<f32>, tensor<f32>)
// A padding row (label -1) adds nothing and is not counted.
// CHECK:           %[[KEEP:.+]] = arith.cmpi sge, %{{.+}}, %{{.+}} : i32
// CHECK:           %[[C:.+]] = linalg.index 1 : index
// CHECK:           %[[LI:.+]] = arith.index_cast %{{.+}} : i32 to index
// CHECK:           arith.cmpi eq, %[[LI]], %[[C]] : index
// CHECK:           arith.maximumf
// CHECK:           arith.minimumf
// CHECK:           math.log
// CHECK:           arith.negf
// CHECK:         %[[Y:.+]] = linalg.generic {{.*}}iterator_types = []} ins(%[[SUM]]#0, %[[SUM]]#1 : tensor<f32>, tensor<f32>)
// CHECK:           arith.maximumf
// CHECK:           arith.divf
// CHECK-NOT:     nn.
// CHECK:         return %[[Y]]
func.func @cross_entropy(%p: tensor<3x5xf32>, %l: tensor<3xi32>) -> tensor<f32> {
  %0 = nn.cross_entropy %p, %l : (tensor<3x5xf32>, tensor<3xi32>) -> tensor<f32>
  return %0 : tensor<f32>
}

// Log-sum-exp per row, then sum(lse - x[n, label]) / N.
// CHECK-LABEL: func.func @softmax_cross_entropy(
// CHECK-SAME:    %[[P:arg[0-9]+]]: tensor<3x5xf32>, %[[L:arg[0-9]+]]: tensor<3xi32>)
// CHECK-NOT:     nn.
// CHECK:         %[[MAX:.+]] = linalg.generic {{.*}}iterator_types = ["parallel", "reduction"]} ins(%[[P]] : tensor<3x5xf32>)
// CHECK:           arith.maximumf
// CHECK:         %[[EX:.+]] = linalg.generic {{.*}} ins(%[[P]], %[[MAX]] : tensor<3x5xf32>, tensor<3xf32>)
// CHECK:           math.exp
// CHECK:         %[[SE:.+]] = linalg.generic {{.*}}iterator_types = ["parallel", "reduction"]} ins(%[[EX]] : tensor<3x5xf32>)
// CHECK:         %[[LSE:.+]] = linalg.generic {{.*}}iterator_types = ["parallel"]} ins(%[[MAX]], %[[SE]] : tensor<3xf32>, tensor<3xf32>)
// CHECK:           math.log
// CHECK:         %[[SUM:.+]]:2 = linalg.generic {{.*}}iterator_types = ["reduction", "reduction"]} ins(%[[P]], %[[L]], %[[LSE]] : tensor<3x5xf32>, tensor<3xi32>, tensor<3xf32>) outs(%{{.+}}, %{{.+}} : tensor<f32>, tensor<f32>)
// CHECK:         ^bb0(%[[IP:[^:]+]]: f32, %{{[^:]+}}: i32, %[[ILSE:[^:]+]]: f32, %{{[^:]+}}: f32, %{{[^:]+}}: f32):
// CHECK:           %[[IS:.+]] = arith.cmpi eq
// CHECK:           %[[NLL:.+]] = arith.subf %[[ILSE]], %[[IP]] : f32
// CHECK:           arith.select %[[IS]], %[[NLL]], %{{.+}} : f32
// CHECK:         %[[Y:.+]] = linalg.generic {{.*}} ins(%[[SUM]]#0, %[[SUM]]#1 : tensor<f32>, tensor<f32>)
// CHECK:           arith.constant 1.000000e+00 : f32
// CHECK:           arith.maximumf
// CHECK:           arith.divf
// CHECK-NOT:     nn.
// CHECK:         return %[[Y]]
func.func @softmax_cross_entropy(%p: tensor<3x5xf32>, %l: tensor<3xi32>) -> tensor<f32> {
  %0 = nn.softmax_cross_entropy %p, %l : (tensor<3x5xf32>, tensor<3xi32>) -> tensor<f32>
  return %0 : tensor<f32>
}

// One column: the label itself is the target; p is clamped to
// [1e-7, 1 - 1e-7].
// CHECK-LABEL: func.func @binary_cross_entropy(
// CHECK-SAME:    %[[P:arg[0-9]+]]: tensor<3x1xf32>, %[[L:arg[0-9]+]]: tensor<3xi32>)
// CHECK-NOT:     nn.
// CHECK:         %[[SUM:.+]]:2 = linalg.generic {{.*}}iterator_types = ["reduction", "reduction"]} ins(%[[P]], %[[L]] : tensor<3x1xf32>, tensor<3xi32>) outs(%{{.+}}, %{{.+}} : tensor<f32>, tensor<f32>)
// CHECK:           arith.sitofp %{{.+}} : i32 to f32
// CHECK:           arith.constant 0.99999988 : f32
// CHECK:           arith.minimumf
// CHECK:           math.log
// CHECK:           math.log
// CHECK:           arith.negf
// CHECK:         %[[Y:.+]] = linalg.generic {{.*}} ins(%[[SUM]]#0, %[[SUM]]#1 : tensor<f32>, tensor<f32>)
// CHECK:           arith.constant 1.000000e+00 : f32
// CHECK:           arith.maximumf
// CHECK:           arith.divf
// CHECK-NOT:     nn.
// CHECK:         return %[[Y]]
func.func @binary_cross_entropy(%p: tensor<3x1xf32>, %l: tensor<3xi32>) -> tensor<f32> {
  %0 = nn.binary_cross_entropy %p, %l : (tensor<3x1xf32>, tensor<3xi32>) -> tensor<f32>
  return %0 : tensor<f32>
}

// Elementwise losses are means over N * C = 15 elements.
// CHECK-LABEL: func.func @mse(
// CHECK-SAME:    %[[P:arg[0-9]+]]: tensor<3x5xf32>, %[[L:arg[0-9]+]]: tensor<3xi32>)
// CHECK-NOT:     nn.
// CHECK:         %[[SUM:.+]]:2 = linalg.generic {{.*}}iterator_types = ["reduction", "reduction"]} ins(%[[P]], %[[L]] : tensor<3x5xf32>, tensor<3xi32>) outs(%{{.+}}, %{{.+}} : tensor<f32>, tensor<f32>)
// CHECK:           %[[D:.+]] = arith.subf
// CHECK:           %[[SQ:.+]] = arith.mulf %[[D]], %[[D]] : f32
// CHECK:           %[[V:.+]] = arith.select %{{.+}}, %[[SQ]], %{{.+}} : f32
// CHECK:           arith.addf %{{.+}}, %[[V]] : f32
// CHECK:         %[[Y:.+]] = linalg.generic {{.*}} ins(%[[SUM]]#0, %[[SUM]]#1 : tensor<f32>, tensor<f32>)
// CHECK:           arith.constant 5.000000e+00 : f32
// CHECK:           arith.maximumf
// CHECK:           arith.divf
// CHECK-NOT:     nn.
// CHECK:         return %[[Y]]
func.func @mse(%p: tensor<3x5xf32>, %l: tensor<3xi32>) -> tensor<f32> {
  %0 = nn.mse %p, %l : (tensor<3x5xf32>, tensor<3xi32>) -> tensor<f32>
  return %0 : tensor<f32>
}

// With value targets (regression) the target is an input of the same
// reduction, element by element; the labels still select the rows.
// CHECK-LABEL: func.func @mse_targets(
// CHECK-SAME:    %[[P:arg[0-9]+]]: tensor<3x2xf32>, %[[L:arg[0-9]+]]: tensor<3xi32>, %[[T:arg[0-9]+]]: tensor<3x2xf32>)
// CHECK-NOT:     nn.
// CHECK:         %[[SUM:.+]]:2 = linalg.generic {{.*}}iterator_types = ["reduction", "reduction"]} ins(%[[P]], %[[L]], %[[T]] : tensor<3x2xf32>, tensor<3xi32>, tensor<3x2xf32>) outs(%{{.+}}, %{{.+}} : tensor<f32>, tensor<f32>)
// CHECK-NEXT:    ^bb0(%[[PV:[a-z0-9_]+]]: f32, %[[LV:[a-z0-9_]+]]: i32, %[[TV:[a-z0-9_]+]]: f32,
// CHECK:           %[[D:.+]] = arith.subf %[[PV]], %[[TV]] : f32
// CHECK:           %[[SQ:.+]] = arith.mulf %[[D]], %[[D]] : f32
// CHECK:         linalg.generic {{.*}} ins(%[[SUM]]#0, %[[SUM]]#1 : tensor<f32>, tensor<f32>)
// CHECK:           arith.constant 2.000000e+00 : f32
func.func @mse_targets(%p: tensor<3x2xf32>, %l: tensor<3xi32>, %t: tensor<3x2xf32>) -> tensor<f32> {
  %0 = nn.mse %p, %l targets %t : (tensor<3x2xf32>, tensor<3xi32>, tensor<3x2xf32>) -> tensor<f32>
  return %0 : tensor<f32>
}

// CHECK-LABEL: func.func @mae(
// CHECK-SAME:    %[[P:arg[0-9]+]]: tensor<3x5xf32>, %[[L:arg[0-9]+]]: tensor<3xi32>)
// CHECK-NOT:     nn.
// CHECK:         %[[SUM:.+]]:2 = linalg.generic {{.*}}iterator_types = ["reduction", "reduction"]} ins(%[[P]], %[[L]] : tensor<3x5xf32>, tensor<3xi32>) outs(%{{.+}}, %{{.+}} : tensor<f32>, tensor<f32>)
// CHECK:           %[[D:.+]] = arith.subf
// CHECK:           %[[A:.+]] = math.absf %[[D]] : f32
// CHECK:           %[[V:.+]] = arith.select %{{.+}}, %[[A]], %{{.+}} : f32
// CHECK:           arith.addf %{{.+}}, %[[V]] : f32
// CHECK:         %[[Y:.+]] = linalg.generic {{.*}} ins(%[[SUM]]#0, %[[SUM]]#1 : tensor<f32>, tensor<f32>)
// CHECK:           arith.constant 5.000000e+00 : f32
// CHECK:           arith.maximumf
// CHECK:           arith.divf
// CHECK-NOT:     nn.
// CHECK:         return %[[Y]]
func.func @mae(%p: tensor<3x5xf32>, %l: tensor<3xi32>) -> tensor<f32> {
  %0 = nn.mae %p, %l : (tensor<3x5xf32>, tensor<3xi32>) -> tensor<f32>
  return %0 : tensor<f32>
}

// |d| <= delta ? d^2 / 2 : delta * (|d| - delta / 2), delta = 0.5.
// CHECK-LABEL: func.func @huber(
// CHECK-SAME:    %[[P:arg[0-9]+]]: tensor<3x5xf32>, %[[L:arg[0-9]+]]: tensor<3xi32>)
// CHECK-NOT:     nn.
// CHECK:         %[[SUM:.+]]:2 = linalg.generic {{.*}}iterator_types = ["reduction", "reduction"]} ins(%[[P]], %[[L]] : tensor<3x5xf32>, tensor<3xi32>) outs(%{{.+}}, %{{.+}} : tensor<f32>, tensor<f32>)
// CHECK:           %[[D:.+]] = arith.subf
// CHECK:           %[[A:.+]] = math.absf %[[D]] : f32
// CHECK:           %[[DELTA:.+]] = arith.constant 5.000000e-01 : f32
// CHECK:           %[[SQ:.+]] = arith.mulf %[[D]], %[[D]] : f32
// CHECK:           %[[QUAD:.+]] = arith.mulf %{{.+}}, %[[SQ]] : f32
// CHECK:           %[[HD:.+]] = arith.constant 2.500000e-01 : f32
// CHECK:           %[[EX:.+]] = arith.subf %[[A]], %[[HD]] : f32
// CHECK:           %[[LIN:.+]] = arith.mulf %[[DELTA]], %[[EX]] : f32
// CHECK:           %[[SMALL:.+]] = arith.cmpf ole, %[[A]], %[[DELTA]] : f32
// CHECK:           arith.select %[[SMALL]], %[[QUAD]], %[[LIN]] : f32
// CHECK:         %[[Y:.+]] = linalg.generic {{.*}} ins(%[[SUM]]#0, %[[SUM]]#1 : tensor<f32>, tensor<f32>)
// CHECK:           arith.constant 5.000000e+00 : f32
// CHECK:           arith.maximumf
// CHECK:           arith.divf
// CHECK-NOT:     nn.
// CHECK:         return %[[Y]]
func.func @huber(%p: tensor<3x5xf32>, %l: tensor<3xi32>) -> tensor<f32> {
  %0 = nn.huber %p, %l {delta = 0.5 : f64} : (tensor<3x5xf32>, tensor<3xi32>) -> tensor<f32>
  return %0 : tensor<f32>
}

// max(0, 1 - t p) with t = 2 * onehot - 1.
// CHECK-LABEL: func.func @hinge(
// CHECK-SAME:    %[[P:arg[0-9]+]]: tensor<3x5xf32>, %[[L:arg[0-9]+]]: tensor<3xi32>)
// CHECK-NOT:     nn.
// CHECK:         %[[SUM:.+]]:2 = linalg.generic {{.*}}iterator_types = ["reduction", "reduction"]} ins(%[[P]], %[[L]] : tensor<3x5xf32>, tensor<3xi32>) outs(%{{.+}}, %{{.+}} : tensor<f32>, tensor<f32>)
// CHECK:           arith.constant 2.000000e+00 : f32
// CHECK:           %[[M:.+]] = arith.maximumf %{{.+}}, %{{.+}} : f32
// CHECK-NEXT:      %[[V:.+]] = arith.select %{{.+}}, %[[M]], %{{.+}} : f32
// CHECK:           %[[ACC:.+]] = arith.addf %{{.+}}, %[[V]] : f32
// CHECK:           linalg.yield %[[ACC]], %{{.+}} : f32, f32
// CHECK:         %[[Y:.+]] = linalg.generic {{.*}} ins(%[[SUM]]#0, %[[SUM]]#1 : tensor<f32>, tensor<f32>)
// CHECK:           arith.constant 5.000000e+00 : f32
// CHECK:           arith.maximumf
// CHECK:           arith.divf
// CHECK-NOT:     nn.
// CHECK:         return %[[Y]]
func.func @hinge(%p: tensor<3x5xf32>, %l: tensor<3xi32>) -> tensor<f32> {
  %0 = nn.hinge %p, %l : (tensor<3x5xf32>, tensor<3xi32>) -> tensor<f32>
  return %0 : tensor<f32>
}

// CHECK-LABEL: func.func @squared_hinge(
// CHECK-SAME:    %[[P:arg[0-9]+]]: tensor<3x5xf32>, %[[L:arg[0-9]+]]: tensor<3xi32>)
// CHECK-NOT:     nn.
// CHECK:         %[[SUM:.+]]:2 = linalg.generic {{.*}}iterator_types = ["reduction", "reduction"]} ins(%[[P]], %[[L]] : tensor<3x5xf32>, tensor<3xi32>) outs(%{{.+}}, %{{.+}} : tensor<f32>, tensor<f32>)
// CHECK:           %[[M:.+]] = arith.maximumf %{{.+}}, %{{.+}} : f32
// CHECK-NEXT:      %[[M2:.+]] = arith.mulf %[[M]], %[[M]] : f32
// CHECK-NEXT:      %[[V:.+]] = arith.select %{{.+}}, %[[M2]], %{{.+}} : f32
// CHECK:           %[[ACC:.+]] = arith.addf %{{.+}}, %[[V]] : f32
// CHECK:         %[[Y:.+]] = linalg.generic {{.*}} ins(%[[SUM]]#0, %[[SUM]]#1 : tensor<f32>, tensor<f32>)
// CHECK:           arith.constant 5.000000e+00 : f32
// CHECK:           arith.maximumf
// CHECK:           arith.divf
// CHECK-NOT:     nn.
// CHECK:         return %[[Y]]
func.func @squared_hinge(%p: tensor<3x5xf32>, %l: tensor<3xi32>) -> tensor<f32> {
  %0 = nn.squared_hinge %p, %l : (tensor<3x5xf32>, tensor<3xi32>) -> tensor<f32>
  return %0 : tensor<f32>
}

// Per row: the true-class value and the best other value (and its index),
// then mean(max(0, neg - pos + 1)) over the rows, taken at column 0.
// CHECK-LABEL: func.func @categorical_hinge(
// CHECK-SAME:    %[[P:arg[0-9]+]]: tensor<3x5xf32>, %[[L:arg[0-9]+]]: tensor<3xi32>)
// CHECK-NOT:     nn.
// CHECK:         %[[ST:.+]]:3 = linalg.generic {indexing_maps = [#[[$ID2]], #[[$ROW]], #[[$ROW]], #[[$ROW]], #[[$ROW]]], iterator_types = ["parallel", "reduction"]} ins(%[[P]], %[[L]] : tensor<3x5xf32>, tensor<3xi32>) outs(%{{.+}}, %{{.+}}, %{{.+}} : tensor<3xf32>, tensor<3xf32>, tensor<3xindex>)
// CHECK:         %[[SUM:.+]]:2 = linalg.generic {{.*}}iterator_types = ["reduction", "reduction"]} ins(%[[P]], %[[L]], %[[ST]]#0, %[[ST]]#1 : tensor<3x5xf32>, tensor<3xi32>, tensor<3xf32>, tensor<3xf32>) outs(%{{.+}}, %{{.+}} : tensor<f32>, tensor<f32>)
// CHECK:         ^bb0(%{{[^:]+}}: f32, %{{[^:]+}}: i32, %[[POS:[^:]+]]: f32, %[[NEG:[^:]+]]: f32, %{{[^:]+}}: f32, %{{[^:]+}}: f32):
// CHECK:           arith.subf %[[NEG]], %[[POS]] : f32
// CHECK:           arith.maximumf
// CHECK:         %[[Y:.+]] = linalg.generic {{.*}} ins(%[[SUM]]#0, %[[SUM]]#1 : tensor<f32>, tensor<f32>)
// CHECK:           arith.constant 1.000000e+00 : f32
// CHECK:           arith.maximumf
// CHECK:           arith.divf
// CHECK-NOT:     nn.
// CHECK:         return %[[Y]]
func.func @categorical_hinge(%p: tensor<3x5xf32>, %l: tensor<3xi32>) -> tensor<f32> {
  %0 = nn.categorical_hinge %p, %l : (tensor<3x5xf32>, tensor<3xi32>) -> tensor<f32>
  return %0 : tensor<f32>
}

//===----------------------------------------------------------------------===//
// Backward ops
//===----------------------------------------------------------------------===//

// dy spread by the stride (2) into zeros, padded by k - 1, convolved with
// the flipped filter (in/out channels swapped), then cropped by the forward
// padding.
// CHECK-LABEL: func.func @conv2d_grad_input(
// CHECK-SAME:    %[[DY:arg[0-9]+]]: tensor<2x3x3x4xf32>, %[[W:arg[0-9]+]]: tensor<3x3x3x4xf32>)
// CHECK-NOT:     nn.
// CHECK:         %[[Z:.+]] = linalg.fill ins(%{{.+}} : f32) outs(%{{.+}} : tensor<2x5x5x4xf32>)
// CHECK:         %[[SPREAD:.+]] = tensor.insert_slice %[[DY]] into %[[Z]][0, 0, 0, 0] [2, 3, 3, 4] [1, 2, 2, 1] : tensor<2x3x3x4xf32> into tensor<2x5x5x4xf32>
// CHECK:         %[[PAD:.+]] = tensor.pad %[[SPREAD]] low[0, 2, 2, 0] high[0, 2, 2, 0]
// CHECK:         } : tensor<2x5x5x4xf32> to tensor<2x9x9x4xf32>
// CHECK:         %[[WF:.+]] = linalg.generic {indexing_maps = [#[[$FLIP]], #[[$ID4]]], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%[[W]] : tensor<3x3x3x4xf32>) outs(%{{.+}} : tensor<3x3x4x3xf32>)
// CHECK:         %[[CONV:.+]] = linalg.conv_2d_nhwc_hwcf {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>} ins(%[[PAD]], %[[WF]] : tensor<2x9x9x4xf32>, tensor<3x3x4x3xf32>) outs(%{{.+}} : tensor<2x7x7x3xf32>)
// CHECK:         %[[Y:.+]] = tensor.extract_slice %[[CONV]][0, 1, 1, 0] [2, 5, 5, 3] [1, 1, 1, 1] : tensor<2x7x7x3xf32> to tensor<2x5x5x3xf32>
// CHECK-NOT:     nn.
// CHECK:         return %[[Y]]
func.func @conv2d_grad_input(%dy: tensor<2x3x3x4xf32>, %w: tensor<3x3x3x4xf32>) -> tensor<2x5x5x3xf32> {
  %0 = nn.conv2d_grad_input %dy, %w {strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>}
      : (tensor<2x3x3x4xf32>, tensor<3x3x3x4xf32>) -> tensor<2x5x5x3xf32>
  return %0 : tensor<2x5x5x3xf32>
}

// A convolution of the transposed padded input [C, H, W, N] with the
// transposed dy [OH, OW, N, F]: the forward stride (2) becomes the dilation.
// CHECK-LABEL: func.func @conv2d_grad_filter(
// CHECK-SAME:    %[[X:arg[0-9]+]]: tensor<2x5x5x3xf32>, %[[DY:arg[0-9]+]]: tensor<2x3x3x4xf32>)
// CHECK-NOT:     nn.
// CHECK:         %[[PAD:.+]] = tensor.pad %[[X]] low[0, 1, 1, 0] high[0, 1, 1, 0]
// CHECK:         %[[XT:.+]] = linalg.transpose ins(%[[PAD]] : tensor<2x7x7x3xf32>) outs(%{{.+}} : tensor<3x7x7x2xf32>) permutation = [3, 1, 2, 0]
// CHECK:         %[[DYT:.+]] = linalg.transpose ins(%[[DY]] : tensor<2x3x3x4xf32>) outs(%{{.+}} : tensor<3x3x2x4xf32>) permutation = [1, 2, 0, 3]
// CHECK:         %[[CONV:.+]] = linalg.conv_2d_nhwc_hwcf {dilations = dense<2> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>} ins(%[[XT]], %[[DYT]] : tensor<3x7x7x2xf32>, tensor<3x3x2x4xf32>) outs(%{{.+}} : tensor<3x3x3x4xf32>)
// CHECK:         %[[Y:.+]] = linalg.transpose ins(%[[CONV]] : tensor<3x3x3x4xf32>) outs(%{{.+}} : tensor<3x3x3x4xf32>) permutation = [1, 2, 0, 3]
// CHECK-NOT:     nn.
// CHECK:         return %[[Y]]
func.func @conv2d_grad_filter(%x: tensor<2x5x5x3xf32>, %dy: tensor<2x3x3x4xf32>) -> tensor<3x3x3x4xf32> {
  %0 = nn.conv2d_grad_filter %x, %dy {strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>}
      : (tensor<2x5x5x3xf32>, tensor<2x3x3x4xf32>) -> tensor<3x3x3x4xf32>
  return %0 : tensor<3x3x3x4xf32>
}

// Depthwise (one filter per channel, 64 channels): the input gradient is
// one depthwise convolution of the spread, padded dy with the flipped
// filter, the filter gradient one reduction over (n, oh, ow) with the
// channels innermost; not one convolution per channel.
// CHECK-LABEL: func.func @depthwise_grads(
// CHECK-NOT:     linalg.conv_2d_nhwc_hwcf
// CHECK:         %[[WF:.+]] = linalg.generic {{.*}} ins(%{{.+}} : tensor<3x3x64xf32>) outs(%{{.+}} : tensor<3x3x64xf32>)
// CHECK:         linalg.depthwise_conv_2d_nhwc_hwc {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>} ins(%{{.+}}, %[[WF]] : tensor<2x9x9x64xf32>, tensor<3x3x64xf32>) outs(%{{.+}} : tensor<2x7x7x64xf32>)
// CHECK:         %[[DW:.+]] = linalg.generic {indexing_maps = [#[[$DWX]], #[[$DWDY]], #[[$DWOUT]]], iterator_types = ["parallel", "parallel", "reduction", "reduction", "reduction", "parallel"]} ins(%{{.+}}, %{{.+}} : tensor<2x7x7x64xf32>, tensor<2x3x3x64xf32>) outs(%{{.+}} : tensor<3x3x64xf32>)
// CHECK:           arith.mulf
// CHECK:           arith.addf
// CHECK:         tensor.expand_shape %[[DW]] {{\[}}[0], [1], [2, 3]] output_shape [3, 3, 1, 64] : tensor<3x3x64xf32> into tensor<3x3x1x64xf32>
// CHECK-NOT:     linalg.conv_2d_nhwc_hwcf
// CHECK:         return
func.func @depthwise_grads(%x: tensor<2x5x5x64xf32>, %dy: tensor<2x3x3x64xf32>, %w: tensor<3x3x1x64xf32>) -> (tensor<2x5x5x64xf32>, tensor<3x3x1x64xf32>) {
  %dx = nn.conv2d_grad_input %dy, %w {strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>, groups = 64 : i64}
      : (tensor<2x3x3x64xf32>, tensor<3x3x1x64xf32>) -> tensor<2x5x5x64xf32>
  %dw = nn.conv2d_grad_filter %x, %dy {strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>, groups = 64 : i64}
      : (tensor<2x5x5x64xf32>, tensor<2x3x3x64xf32>) -> tensor<3x3x1x64xf32>
  return %dx, %dw : tensor<2x5x5x64xf32>, tensor<3x3x1x64xf32>
}

// Other grouped convolutions (2 groups of 2 channels): one convolution per
// group for each gradient, written into the group's channels.
// CHECK-LABEL: func.func @grouped_grads(
// CHECK-COUNT-2: linalg.conv_2d_nhwc_hwcf {{.*}} outs(%{{.+}} : tensor<2x5x5x2xf32>)
// CHECK-COUNT-2: linalg.conv_2d_nhwc_hwcf {{.*}} outs(%{{.+}} : tensor<2x3x3x3xf32>)
// CHECK-NOT:     linalg.conv_2d_nhwc_hwcf
// CHECK:         return
func.func @grouped_grads(%x: tensor<2x5x5x4xf32>, %dy: tensor<2x3x3x6xf32>, %w: tensor<3x3x2x6xf32>) -> (tensor<2x5x5x4xf32>, tensor<3x3x2x6xf32>) {
  %dx = nn.conv2d_grad_input %dy, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, groups = 2 : i64}
      : (tensor<2x3x3x6xf32>, tensor<3x3x2x6xf32>) -> tensor<2x5x5x4xf32>
  %dw = nn.conv2d_grad_filter %x, %dy {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, groups = 2 : i64}
      : (tensor<2x5x5x4xf32>, tensor<2x3x3x6xf32>) -> tensor<3x3x2x6xf32>
  return %dx, %dw : tensor<2x5x5x4xf32>, tensor<3x3x2x6xf32>
}

// An argmax over each window (value and flat window offset), then one
// scatter per window offset: select dy where the argmax is that offset and
// add it into the strided slice of the input gradient.
// CHECK-LABEL: func.func @max_pool2d_grad(
// CHECK-SAME:    %[[X:arg[0-9]+]]: tensor<2x5x5x3xf32>, %[[DY:arg[0-9]+]]: tensor<2x2x2x3xf32>)
// CHECK-NOT:     nn.
// CHECK:         %[[ARG:.+]]:2 = linalg.generic {indexing_maps = [#[[$WIN]], {{.*}}], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction"]} ins(%[[X]], %{{.+}} : tensor<2x5x5x3xf32>, tensor<2x2xf32>) outs(%{{.+}}, %{{.+}} : tensor<2x2x2x3xf32>, tensor<2x2x2x3xi32>)
// CHECK:           arith.cmpf ogt
// CHECK:         %[[Z:.+]] = linalg.fill ins(%{{.+}} : f32) outs(%{{.+}} : tensor<2x5x5x3xf32>)
// CHECK:         linalg.generic {{.*}} ins(%[[ARG]]#1, %[[DY]] : tensor<2x2x2x3xi32>, tensor<2x2x2x3xf32>)
// CHECK:           arith.cmpi eq, %{{.+}}, %c0_i32{{.*}} : i32
// CHECK:         tensor.extract_slice %[[Z]][0, 0, 0, 0] [2, 2, 2, 3] [1, 2, 2, 1]
// CHECK:         %[[S0:.+]] = tensor.insert_slice %{{.+}} into %[[Z]][0, 0, 0, 0] [2, 2, 2, 3] [1, 2, 2, 1]
// CHECK:         linalg.generic {{.*}} ins(%[[ARG]]#1, %[[DY]] :
// CHECK:           arith.cmpi eq, %{{.+}}, %c1_i32{{.*}} : i32
// CHECK:         %[[S1:.+]] = tensor.insert_slice %{{.+}} into %[[S0]][0, 0, 1, 0] [2, 2, 2, 3] [1, 2, 2, 1]
// CHECK:         linalg.generic {{.*}} ins(%[[ARG]]#1, %[[DY]] :
// CHECK:           arith.cmpi eq, %{{.+}}, %c2_i32{{.*}} : i32
// CHECK:         %[[S2:.+]] = tensor.insert_slice %{{.+}} into %[[S1]][0, 1, 0, 0] [2, 2, 2, 3] [1, 2, 2, 1]
// CHECK:         linalg.generic {{.*}} ins(%[[ARG]]#1, %[[DY]] :
// CHECK:           arith.cmpi eq, %{{.+}}, %c3_i32{{.*}} : i32
// CHECK:         %[[S3:.+]] = tensor.insert_slice %{{.+}} into %[[S2]][0, 1, 1, 0] [2, 2, 2, 3] [1, 2, 2, 1]
// CHECK-NOT:     nn.
// CHECK:         return %[[S3]]
func.func @max_pool2d_grad(%x: tensor<2x5x5x3xf32>, %dy: tensor<2x2x2x3xf32>) -> tensor<2x5x5x3xf32> {
  %0 = nn.max_pool2d_grad %x, %dy {window = array<i64: 2, 2>, strides = array<i64: 2, 2>}
      : (tensor<2x5x5x3xf32>, tensor<2x2x2x3xf32>) -> tensor<2x5x5x3xf32>
  return %0 : tensor<2x5x5x3xf32>
}

// A window of more than 16 offsets (5x5) is scattered in a loop over the
// offsets, with dynamic slice offsets: the IR does not grow with the window.
// CHECK-LABEL: func.func @max_pool2d_grad_looped(
// CHECK-SAME:    %[[X:arg[0-9]+]]: tensor<2x9x9x3xf32>, %[[DY:arg[0-9]+]]: tensor<2x5x5x3xf32>)
// CHECK:         %[[ARG:.+]]:2 = linalg.generic
// CHECK:         %[[Z:.+]] = linalg.fill ins(%{{.+}} : f32) outs(%{{.+}} : tensor<2x9x9x3xf32>)
// CHECK:         %[[R:.+]] = scf.for %[[KH:.+]] = %{{.+}} to %{{.+}} step %{{.+}} iter_args(%[[A:.+]] = %[[Z]]) -> (tensor<2x9x9x3xf32>)
// CHECK:           %[[C:.+]] = scf.for %[[KW:.+]] = %{{.+}} to %{{.+}} step %{{.+}} iter_args(%[[B:.+]] = %[[A]]) -> (tensor<2x9x9x3xf32>)
// CHECK:             linalg.generic {{.*}} ins(%[[ARG]]#1, %[[DY]] :
// CHECK:             tensor.extract_slice %[[B]][0, %[[KH]], %[[KW]], 0] [2, 5, 5, 3] [1, 1, 1, 1]
// CHECK:             %[[I:.+]] = tensor.insert_slice %{{.+}} into %[[B]][0, %[[KH]], %[[KW]], 0] [2, 5, 5, 3] [1, 1, 1, 1]
// CHECK:             scf.yield %[[I]]
// CHECK:           scf.yield %[[C]]
// CHECK-NOT:     tensor.insert_slice
// CHECK:         return %[[R]]
func.func @max_pool2d_grad_looped(%x: tensor<2x9x9x3xf32>, %dy: tensor<2x5x5x3xf32>) -> tensor<2x9x9x3xf32> {
  %0 = nn.max_pool2d_grad %x, %dy {window = array<i64: 5, 5>, strides = array<i64: 1, 1>}
      : (tensor<2x9x9x3xf32>, tensor<2x5x5x3xf32>) -> tensor<2x9x9x3xf32>
  return %0 : tensor<2x9x9x3xf32>
}

// dy / 4 (whole windows), added into each window offset's strided slice.
// CHECK-LABEL: func.func @avg_pool2d_grad(
// CHECK-SAME:    %[[X:arg[0-9]+]]: tensor<2x5x5x3xf32>, %[[DY:arg[0-9]+]]: tensor<2x2x2x3xf32>)
// CHECK-NOT:     nn.
// CHECK:         %[[SC:.+]] = linalg.generic {{.*}} ins(%[[DY]] : tensor<2x2x2x3xf32>)
// CHECK:           arith.constant 2.500000e-01 : f32
// CHECK:         %[[Z:.+]] = linalg.fill ins(%{{.+}} : f32) outs(%{{.+}} : tensor<2x5x5x3xf32>)
// CHECK:         %[[C0:.+]] = tensor.extract_slice %[[Z]][0, 0, 0, 0] [2, 2, 2, 3] [1, 2, 2, 1]
// CHECK:         %[[A0:.+]] = linalg.generic {{.*}} ins(%[[C0]], %[[SC]] :
// CHECK:         %[[S0:.+]] = tensor.insert_slice %[[A0]] into %[[Z]][0, 0, 0, 0] [2, 2, 2, 3] [1, 2, 2, 1]
// CHECK:         %[[S1:.+]] = tensor.insert_slice %{{.+}} into %[[S0]][0, 0, 1, 0] [2, 2, 2, 3] [1, 2, 2, 1]
// CHECK:         %[[S2:.+]] = tensor.insert_slice %{{.+}} into %[[S1]][0, 1, 0, 0] [2, 2, 2, 3] [1, 2, 2, 1]
// CHECK:         %[[C3:.+]] = tensor.extract_slice %[[S2]][0, 1, 1, 0] [2, 2, 2, 3] [1, 2, 2, 1]
// CHECK:         %[[A3:.+]] = linalg.generic {{.*}} ins(%[[C3]], %[[SC]] :
// CHECK:           arith.addf
// CHECK:         %[[S3:.+]] = tensor.insert_slice %[[A3]] into %[[S2]][0, 1, 1, 0] [2, 2, 2, 3] [1, 2, 2, 1]
// CHECK-NOT:     nn.
// CHECK:         return %[[S3]]
func.func @avg_pool2d_grad(%x: tensor<2x5x5x3xf32>, %dy: tensor<2x2x2x3xf32>) -> tensor<2x5x5x3xf32> {
  %0 = nn.avg_pool2d_grad %x, %dy {window = array<i64: 2, 2>, strides = array<i64: 2, 2>}
      : (tensor<2x5x5x3xf32>, tensor<2x2x2x3xf32>) -> tensor<2x5x5x3xf32>
  return %0 : tensor<2x5x5x3xf32>
}

// dbeta = sum(dy), dgamma = sum(dy * xhat) (reductions into [C]), then
// dx = gamma * rstd / M * (M * dy - dbeta - xhat * dgamma), M = 18.
// CHECK-LABEL: func.func @batch_norm_grad(
// CHECK-SAME:    %[[DY:arg[0-9]+]]: tensor<2x3x3x5xf32>, %[[X:arg[0-9]+]]: tensor<2x3x3x5xf32>, %[[G:arg[0-9]+]]: tensor<5xf32>, %[[M:arg[0-9]+]]: tensor<5xf32>, %[[V:arg[0-9]+]]: tensor<5xf32>)
// CHECK-NOT:     nn.
// CHECK:         %[[RSTD:.+]] = linalg.generic {{.*}}iterator_types = ["parallel"]} ins(%[[V]] : tensor<5xf32>)
// CHECK:           math.sqrt
// CHECK:         %[[DB:.+]] = linalg.generic {{.*}}iterator_types = ["reduction", "reduction", "reduction", "parallel"]} ins(%[[DY]] : tensor<2x3x3x5xf32>) outs(%{{.+}} : tensor<5xf32>)
// CHECK:         %[[DG:.+]] = linalg.generic {{.*}}iterator_types = ["reduction", "reduction", "reduction", "parallel"]} ins(%[[DY]], %[[X]], %[[M]], %[[RSTD]] : tensor<2x3x3x5xf32>, tensor<2x3x3x5xf32>, tensor<5xf32>, tensor<5xf32>) outs(%{{.+}} : tensor<5xf32>)
// CHECK:         %[[DX:.+]] = linalg.generic {{.*}}iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%[[DY]], %[[X]], %[[M]], %[[RSTD]], %[[G]], %[[DB]], %[[DG]] :
// CHECK:           arith.constant 1.800000e+01 : f32
// CHECK:           arith.constant 0.055555556 : f32
// CHECK-NOT:     nn.
// CHECK:         return %[[DX]], %[[DG]], %[[DB]] : tensor<2x3x3x5xf32>, tensor<5xf32>, tensor<5xf32>
func.func @batch_norm_grad(%dy: tensor<2x3x3x5xf32>, %x: tensor<2x3x3x5xf32>, %g: tensor<5xf32>, %m: tensor<5xf32>, %v: tensor<5xf32>)
    -> (tensor<2x3x3x5xf32>, tensor<5xf32>, tensor<5xf32>) {
  %dx, %dg, %db = nn.batch_norm_grad %dy, %x, %g, %m, %v {epsilon = 1.0e-3 : f64}
      : (tensor<2x3x3x5xf32>, tensor<2x3x3x5xf32>, tensor<5xf32>, tensor<5xf32>, tensor<5xf32>) -> (tensor<2x3x3x5xf32>, tensor<5xf32>, tensor<5xf32>)
  return %dx, %dg, %db : tensor<2x3x3x5xf32>, tensor<5xf32>, tensor<5xf32>
}

// CHECK-LABEL: func.func @slice(
// CHECK-SAME:    %[[X:arg[0-9]+]]: tensor<2x3x3x8xf32>)
// CHECK-NOT:     nn.
// CHECK:         %[[Y:.+]] = tensor.extract_slice %[[X]][0, 0, 0, 3] [2, 3, 3, 5] [1, 1, 1, 1] : tensor<2x3x3x8xf32> to tensor<2x3x3x5xf32>
// CHECK-NOT:     nn.
// CHECK:         return %[[Y]]
func.func @slice(%x: tensor<2x3x3x8xf32>) -> tensor<2x3x3x5xf32> {
  %0 = nn.slice %x {axis = 3 : i64, offset = 3 : i64, size = 5 : i64} : (tensor<2x3x3x8xf32>) -> tensor<2x3x3x5xf32>
  return %0 : tensor<2x3x3x5xf32>
}

// CHECK-LABEL: func.func @transpose(
// CHECK-SAME:    %[[X:arg[0-9]+]]: tensor<2x3x5xf32>)
// CHECK-NOT:     nn.
// CHECK:         %[[Y:.+]] = linalg.transpose ins(%[[X]] : tensor<2x3x5xf32>) outs(%{{.+}} : tensor<2x5x3xf32>) permutation = [0, 2, 1]
// CHECK-NOT:     nn.
// CHECK:         return %[[Y]]
func.func @transpose(%x: tensor<2x3x5xf32>) -> tensor<2x5x3xf32> {
  %0 = nn.transpose %x {perm = array<i64: 0, 2, 1>} : (tensor<2x3x5xf32>) -> tensor<2x5x3xf32>
  return %0 : tensor<2x5x3xf32>
}

// nn.reduce: one generic that reduces the listed axes (H and W here) from
// its kind's identity; the mean then divides by the count, the minimum
// starts from +inf and combines with arith.minimumf.
// CHECK-LABEL: func.func @reduce_mean(
// CHECK-SAME:    %[[X:arg[0-9]+]]: tensor<2x3x4x5xf32>)
// CHECK-NOT:     nn.
// CHECK:         %[[ZERO:.+]] = arith.constant 0.000000e+00 : f32
// CHECK:         %[[INIT:.+]] = linalg.fill ins(%[[ZERO]] : f32) outs(%{{.+}} : tensor<2x5xf32>)
// CHECK:         %[[SUM:.+]] = linalg.generic {indexing_maps = [#[[$ID4]], #[[$NC]]], iterator_types = ["parallel", "reduction", "reduction", "parallel"]} ins(%[[X]] : tensor<2x3x4x5xf32>) outs(%[[INIT]] : tensor<2x5xf32>)
// CHECK:           arith.addf
// CHECK:         %[[Y:.+]] = linalg.generic {{.*}} ins(%[[SUM]] : tensor<2x5xf32>)
// CHECK:           %[[COUNT:.+]] = arith.constant 1.200000e+01 : f32
// CHECK:           arith.divf %{{.+}}, %[[COUNT]]
// CHECK-NOT:     nn.
// CHECK:         return %[[Y]]
func.func @reduce_mean(%x: tensor<2x3x4x5xf32>) -> tensor<2x5xf32> {
  %0 = nn.reduce %x {axes = array<i64: 1, 2>, kind = #nn.reduce<mean>} : (tensor<2x3x4x5xf32>) -> tensor<2x5xf32>
  return %0 : tensor<2x5xf32>
}

// CHECK-LABEL: func.func @reduce_min(
// CHECK-SAME:    %[[X:arg[0-9]+]]: tensor<4x6xf32>)
// CHECK-NOT:     nn.
// CHECK:         %[[INF:.+]] = arith.constant 0x7F800000 : f32
// CHECK:         %[[INIT:.+]] = linalg.fill ins(%[[INF]] : f32) outs(%{{.+}} : tensor<4xf32>)
// CHECK:         %[[Y:.+]] = linalg.generic {indexing_maps = [#[[$ID2]], #[[$ROW]]], iterator_types = ["parallel", "reduction"]} ins(%[[X]] : tensor<4x6xf32>) outs(%[[INIT]] : tensor<4xf32>)
// CHECK:           arith.minimumf
// CHECK-NOT:     nn.
// CHECK:         return %[[Y]]
func.func @reduce_min(%x: tensor<4x6xf32>) -> tensor<4xf32> {
  %0 = nn.reduce %x {axes = array<i64: 1>, kind = #nn.reduce<min>} : (tensor<4x6xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// A transposed lhs is materialized, then a plain matmul into zeros.
// CHECK-LABEL: func.func @matmul(
// CHECK-SAME:    %[[A:arg[0-9]+]]: tensor<3x5xf32>, %[[B:arg[0-9]+]]: tensor<3x7xf32>)
// CHECK-NOT:     nn.
// CHECK:         %[[ZERO:.+]] = arith.constant 0.000000e+00 : f32
// CHECK:         %[[INIT:.+]] = linalg.fill ins(%[[ZERO]] : f32) outs(%{{.+}} : tensor<5x7xf32>)
// CHECK:         %[[AT:.+]] = linalg.transpose ins(%[[A]] : tensor<3x5xf32>) outs(%{{.+}} : tensor<5x3xf32>) permutation = [1, 0]
// CHECK:         %[[Y:.+]] = linalg.matmul ins(%[[AT]], %[[B]] : tensor<5x3xf32>, tensor<3x7xf32>) outs(%[[INIT]] : tensor<5x7xf32>)
// CHECK-NOT:     nn.
// CHECK:         return %[[Y]]
func.func @matmul(%a: tensor<3x5xf32>, %b: tensor<3x7xf32>) -> tensor<5x7xf32> {
  %0 = nn.matmul %a, %b {transpose_lhs} : (tensor<3x5xf32>, tensor<3x7xf32>) -> tensor<5x7xf32>
  return %0 : tensor<5x7xf32>
}

// CHECK-LABEL: func.func @matmul_transpose_rhs(
// CHECK-SAME:    %[[A:arg[0-9]+]]: tensor<3x5xf32>, %[[B:arg[0-9]+]]: tensor<7x5xf32>)
// CHECK-NOT:     nn.
// CHECK:         %[[INIT:.+]] = linalg.fill ins(%{{.+}} : f32) outs(%{{.+}} : tensor<3x7xf32>)
// CHECK-NOT:     linalg.transpose
// CHECK:         %[[Y:.+]] = linalg.matmul_transpose_b ins(%[[A]], %[[B]] : tensor<3x5xf32>, tensor<7x5xf32>) outs(%[[INIT]] : tensor<3x7xf32>)
// CHECK-NOT:     nn.
// CHECK:         return %[[Y]]
func.func @matmul_transpose_rhs(%a: tensor<3x5xf32>, %b: tensor<7x5xf32>) -> tensor<3x7xf32> {
  %0 = nn.matmul %a, %b {transpose_rhs} : (tensor<3x5xf32>, tensor<7x5xf32>) -> tensor<3x7xf32>
  return %0 : tensor<3x7xf32>
}

// batch_matmul: the batch dimensions collapsed into one, one
// linalg.batch_matmul_transpose_b for q k^T.
// CHECK-LABEL: func.func @batch_matmul(
// CHECK-SAME:    %[[Q:arg[0-9]+]]: tensor<2x3x4x5xf32>, %[[K:arg[0-9]+]]: tensor<2x3x6x5xf32>)
// CHECK-NOT:     nn.
// CHECK-DAG:     %[[QC:.+]] = tensor.collapse_shape %[[Q]] {{\[\[}}0, 1], [2], [3]] : tensor<2x3x4x5xf32> into tensor<6x4x5xf32>
// CHECK-DAG:     %[[KC:.+]] = tensor.collapse_shape %[[K]] {{\[\[}}0, 1], [2], [3]] : tensor<2x3x6x5xf32> into tensor<6x6x5xf32>
// CHECK:         %[[Y:.+]] = linalg.batch_matmul_transpose_b ins(%[[QC]], %[[KC]] : tensor<6x4x5xf32>, tensor<6x6x5xf32>) outs(%{{.+}} : tensor<6x4x6xf32>)
// CHECK:         %[[E:.+]] = tensor.expand_shape %[[Y]] {{\[\[}}0, 1], [2], [3]] output_shape [2, 3, 4, 6]
// CHECK:         return %[[E]]
func.func @batch_matmul(%q: tensor<2x3x4x5xf32>, %k: tensor<2x3x6x5xf32>) -> tensor<2x3x4x6xf32> {
  %0 = nn.batch_matmul %q, %k {transpose_rhs} : (tensor<2x3x4x5xf32>, tensor<2x3x6x5xf32>) -> tensor<2x3x4x6xf32>
  return %0 : tensor<2x3x4x6xf32>
}

// An operand broadcast along a batch dimension is repeated first.
// CHECK-LABEL: func.func @batch_matmul_broadcast(
// CHECK-SAME:    %[[A:arg[0-9]+]]: tensor<2x3x4x5xf32>, %[[B:arg[0-9]+]]: tensor<2x1x5x6xf32>)
// CHECK:         %[[BB:.+]] = linalg.generic {{.*}} ins(%[[B]] : tensor<2x1x5x6xf32>) outs(%{{.+}} : tensor<2x3x5x6xf32>)
// CHECK:         %[[BC:.+]] = tensor.collapse_shape %[[BB]] {{\[\[}}0, 1], [2], [3]] : tensor<2x3x5x6xf32> into tensor<6x5x6xf32>
// CHECK:         linalg.batch_matmul ins(%{{.+}}, %[[BC]] : tensor<6x4x5xf32>, tensor<6x5x6xf32>)
func.func @batch_matmul_broadcast(%a: tensor<2x3x4x5xf32>, %b: tensor<2x1x5x6xf32>) -> tensor<2x3x4x6xf32> {
  %0 = nn.batch_matmul %a, %b : (tensor<2x3x4x5xf32>, tensor<2x1x5x6xf32>) -> tensor<2x3x4x6xf32>
  return %0 : tensor<2x3x4x6xf32>
}

// One rhs matrix for every batch index: one linalg.matmul of all the rows.
// CHECK-LABEL: func.func @batch_matmul_matrix(
// CHECK-SAME:    %[[A:arg[0-9]+]]: tensor<2x4x5xf32>, %[[B:arg[0-9]+]]: tensor<5x6xf32>)
// CHECK:         %[[AC:.+]] = tensor.collapse_shape %[[A]] {{\[\[}}0, 1], [2]] : tensor<2x4x5xf32> into tensor<8x5xf32>
// CHECK:         %[[Y:.+]] = linalg.matmul ins(%[[AC]], %[[B]] : tensor<8x5xf32>, tensor<5x6xf32>)
// CHECK:         tensor.expand_shape %[[Y]] {{\[\[}}0, 1], [2]] output_shape [2, 4, 6]
func.func @batch_matmul_matrix(%a: tensor<2x4x5xf32>, %b: tensor<5x6xf32>) -> tensor<2x4x6xf32> {
  %0 = nn.batch_matmul %a, %b : (tensor<2x4x5xf32>, tensor<5x6xf32>) -> tensor<2x4x6xf32>
  return %0 : tensor<2x4x6xf32>
}

// A transposed lhs is materialized, as matmul's is.
// CHECK-LABEL: func.func @batch_matmul_transpose_lhs(
// CHECK:         %[[AT:.+]] = linalg.transpose ins(%{{.+}} : tensor<2x5x4xf32>) outs(%{{.+}} : tensor<2x4x5xf32>) permutation = [0, 2, 1]
// CHECK:         linalg.batch_matmul ins(%[[AT]], %{{.+}} : tensor<2x4x5xf32>, tensor<2x5x6xf32>)
func.func @batch_matmul_transpose_lhs(%a: tensor<2x5x4xf32>, %b: tensor<2x5x6xf32>) -> tensor<2x4x6xf32> {
  %0 = nn.batch_matmul %a, %b {transpose_lhs} : (tensor<2x5x4xf32>, tensor<2x5x6xf32>) -> tensor<2x4x6xf32>
  return %0 : tensor<2x4x6xf32>
}

// CHECK-LABEL: func.func @constant(
// CHECK-NOT:     nn.
// CHECK-NEXT:    %[[C:.+]] = arith.constant dense<1.500000e+00> : tensor<3x5xf32>
// CHECK-NOT:     nn.
// CHECK-NEXT:    return %[[C]] : tensor<3x5xf32>
func.func @constant() -> tensor<3x5xf32> {
  %0 = nn.constant 1.5 : tensor<3x5xf32>
  return %0 : tensor<3x5xf32>
}

//===----------------------------------------------------------------------===//
// Metrics and optimizer updates
//===----------------------------------------------------------------------===//

// A row argmax (value and index), then a count of rows whose index is the
// label.
// CHECK-LABEL: func.func @correct_count(
// CHECK-SAME:    %[[P:arg[0-9]+]]: tensor<3x5xf32>, %[[L:arg[0-9]+]]: tensor<3xi32>)
// CHECK-NOT:     nn.
// CHECK:         %[[AM:.+]]:2 = linalg.generic {indexing_maps = [#[[$ID2]], #[[$ROW]], #[[$ROW]]], iterator_types = ["parallel", "reduction"]} ins(%[[P]] : tensor<3x5xf32>) outs(%{{.+}}, %{{.+}} : tensor<3xf32>, tensor<3xindex>)
// CHECK:           arith.cmpf ogt
// CHECK:           linalg.index 1 : index
// CHECK:         %[[Y:.+]] = linalg.generic {{.*}}iterator_types = ["reduction"]} ins(%[[AM]]#1, %[[L]] : tensor<3xindex>, tensor<3xi32>) outs(%{{.+}} : tensor<i64>)
// CHECK:           arith.cmpi eq
// CHECK:           arith.extui %{{.+}} : i1 to i64
// CHECK:           arith.addi
// CHECK-NOT:     nn.
// CHECK:         return %[[Y]]
func.func @correct_count(%p: tensor<3x5xf32>, %l: tensor<3xi32>) -> tensor<i64> {
  %0 = nn.correct_count %p, %l : (tensor<3x5xf32>, tensor<3xi32>) -> tensor<i64>
  return %0 : tensor<i64>
}

// The updates write into their parameter and state operands (`outs`).
// p - lr * (g + wd * p).
// CHECK-LABEL: func.func @sgd_update(
// CHECK-SAME:    %[[P:arg[0-9]+]]: tensor<7xf32>, %[[G:arg[0-9]+]]: tensor<7xf32>)
// CHECK-NOT:     nn.
// CHECK:         %[[Y:.+]] = linalg.generic {indexing_maps = [#[[$ID1]], #[[$ID1]]], iterator_types = ["parallel"]} ins(%[[G]] : tensor<7xf32>) outs(%[[P]] : tensor<7xf32>)
// CHECK:         ^bb0(%[[IG:[^:]+]]: f32, %[[IP:[^:]+]]: f32):
// CHECK:           %[[WD:.+]] = arith.constant 5.000000e-04 : f32
// CHECK:           %[[WP:.+]] = arith.mulf %[[WD]], %[[IP]] : f32
// CHECK:           %[[GD:.+]] = arith.addf %[[IG]], %[[WP]] : f32
// CHECK:           %[[LR:.+]] = arith.constant 0.00999999977 : f32
// CHECK:           %[[STEP:.+]] = arith.mulf %[[LR]], %[[GD]] : f32
// CHECK:           %[[R:.+]] = arith.subf %[[IP]], %[[STEP]] : f32
// CHECK:           linalg.yield %[[R]] : f32
// CHECK-NOT:     nn.
// CHECK:         return %[[Y]]
func.func @sgd_update(%p: tensor<7xf32>, %g: tensor<7xf32>) -> tensor<7xf32> {
  %0 = nn.sgd_update %p, %g {learning_rate = 0.01 : f64, weight_decay = 5.0e-4 : f64}
      : (tensor<7xf32>, tensor<7xf32>) -> tensor<7xf32>
  return %0 : tensor<7xf32>
}

// The `lr` operand is read once, outside the generic; it is not an output.
// CHECK-LABEL: func.func @sgd_update_lr(
// CHECK-SAME:    %[[P:arg[0-9]+]]: tensor<7xf32>, %[[G:arg[0-9]+]]: tensor<7xf32>, %[[LRT:arg[0-9]+]]: tensor<f32>)
// CHECK-NOT:     nn.
// CHECK:         %[[LR:.+]] = tensor.extract %[[LRT]][] : tensor<f32>
// CHECK:         %[[Y:.+]] = linalg.generic {indexing_maps = [#[[$ID1]], #[[$ID1]]], iterator_types = ["parallel"]} ins(%[[G]] : tensor<7xf32>) outs(%[[P]] : tensor<7xf32>)
// CHECK:         ^bb0(%[[IG:[^:]+]]: f32, %[[IP:[^:]+]]: f32):
// CHECK:           %[[STEP:.+]] = arith.mulf %[[LR]], %[[IG]] : f32
// CHECK:           %[[R:.+]] = arith.subf %[[IP]], %[[STEP]] : f32
// CHECK:           linalg.yield %[[R]] : f32
// CHECK-NOT:     nn.
// CHECK:         return %[[Y]]
func.func @sgd_update_lr(%p: tensor<7xf32>, %g: tensor<7xf32>, %lr: tensor<f32>) -> tensor<7xf32> {
  %0 = nn.sgd_update %p, %g, %lr : (tensor<7xf32>, tensor<7xf32>, tensor<f32>) -> tensor<7xf32>
  return %0 : tensor<7xf32>
}

// Nesterov: v' = mu v + g, p' = p - lr (g + mu v').
// CHECK-LABEL: func.func @momentum_update(
// CHECK-SAME:    %[[P:arg[0-9]+]]: tensor<7xf32>, %[[G:arg[0-9]+]]: tensor<7xf32>, %[[V:arg[0-9]+]]: tensor<7xf32>)
// CHECK-NOT:     nn.
// CHECK:         %[[Y:.+]]:2 = linalg.generic {indexing_maps = [#[[$ID1]], #[[$ID1]], #[[$ID1]]], iterator_types = ["parallel"]} ins(%[[G]] : tensor<7xf32>) outs(%[[P]], %[[V]] : tensor<7xf32>, tensor<7xf32>)
// CHECK:         ^bb0(%[[IG:[^:]+]]: f32, %[[IP:[^:]+]]: f32, %[[IV:[^:]+]]: f32):
// CHECK:           %[[LR:.+]] = arith.constant 0.00999999977 : f32
// CHECK:           %[[MU:.+]] = arith.constant 0.899999976 : f32
// CHECK:           %[[MV:.+]] = arith.mulf %[[MU]], %[[IV]] : f32
// CHECK:           %[[NV:.+]] = arith.addf %[[MV]], %[[IG]] : f32
// CHECK:           %[[MNV:.+]] = arith.mulf %[[MU]], %[[NV]] : f32
// CHECK:           %[[NS:.+]] = arith.addf %[[IG]], %[[MNV]] : f32
// CHECK:           %[[ST:.+]] = arith.mulf %[[LR]], %[[NS]] : f32
// CHECK:           %[[NP:.+]] = arith.subf %[[IP]], %[[ST]] : f32
// CHECK:           linalg.yield %[[NP]], %[[NV]] : f32, f32
// CHECK-NOT:     nn.
// CHECK:         return %[[Y]]#0, %[[Y]]#1
func.func @momentum_update(%p: tensor<7xf32>, %g: tensor<7xf32>, %v: tensor<7xf32>) -> (tensor<7xf32>, tensor<7xf32>) {
  %0:2 = nn.momentum_update %p, %g, %v {learning_rate = 0.01 : f64, momentum = 0.9 : f64, nesterov}
      : (tensor<7xf32>, tensor<7xf32>, tensor<7xf32>) -> (tensor<7xf32>, tensor<7xf32>)
  return %0#0, %0#1 : tensor<7xf32>, tensor<7xf32>
}

// Plain momentum with the `lr` operand: p' = p - lr v'.
// CHECK-LABEL: func.func @momentum_update_lr(
// CHECK-SAME:    %[[P:arg[0-9]+]]: tensor<7xf32>, %[[G:arg[0-9]+]]: tensor<7xf32>, %[[V:arg[0-9]+]]: tensor<7xf32>, %[[LRT:arg[0-9]+]]: tensor<f32>)
// CHECK-NOT:     nn.
// CHECK:         %[[LR:.+]] = tensor.extract %[[LRT]][] : tensor<f32>
// CHECK:         %[[Y:.+]]:2 = linalg.generic {{.*}} ins(%[[G]] : tensor<7xf32>) outs(%[[P]], %[[V]] : tensor<7xf32>, tensor<7xf32>)
// CHECK:         ^bb0(%[[IG:[^:]+]]: f32, %[[IP:[^:]+]]: f32, %[[IV:[^:]+]]: f32):
// CHECK:           %[[MV:.+]] = arith.mulf %{{.+}}, %[[IV]] : f32
// CHECK:           %[[NV:.+]] = arith.addf %[[MV]], %[[IG]] : f32
// CHECK:           %[[ST:.+]] = arith.mulf %[[LR]], %[[NV]] : f32
// CHECK:           %[[NP:.+]] = arith.subf %[[IP]], %[[ST]] : f32
// CHECK:           linalg.yield %[[NP]], %[[NV]] : f32, f32
// CHECK-NOT:     nn.
// CHECK:         return %[[Y]]#0, %[[Y]]#1
func.func @momentum_update_lr(%p: tensor<7xf32>, %g: tensor<7xf32>, %v: tensor<7xf32>, %lr: tensor<f32>) -> (tensor<7xf32>, tensor<7xf32>) {
  %0:2 = nn.momentum_update %p, %g, %v, %lr {momentum = 0.9 : f64}
      : (tensor<7xf32>, tensor<7xf32>, tensor<7xf32>, tensor<f32>) -> (tensor<7xf32>, tensor<7xf32>)
  return %0#0, %0#1 : tensor<7xf32>, tensor<7xf32>
}

// s' = rho s + (1 - rho) g^2, p' = p - lr g / (sqrt(s') + eps).
// CHECK-LABEL: func.func @rmsprop_update(
// CHECK-SAME:    %[[P:arg[0-9]+]]: tensor<7xf32>, %[[G:arg[0-9]+]]: tensor<7xf32>, %[[S:arg[0-9]+]]: tensor<7xf32>)
// CHECK-NOT:     nn.
// CHECK:         %[[Y:.+]]:2 = linalg.generic {{.*}}iterator_types = ["parallel"]} ins(%[[G]] : tensor<7xf32>) outs(%[[P]], %[[S]] : tensor<7xf32>, tensor<7xf32>)
// CHECK:         ^bb0(%[[IG:[^:]+]]: f32, %[[IP:[^:]+]]: f32, %[[IS:[^:]+]]: f32):
// CHECK:           %[[LR:.+]] = arith.constant 1.000000e-03 : f32
// CHECK:           arith.mulf %[[IG]], %[[IG]] : f32
// CHECK:           arith.mulf %{{.+}}, %[[IS]] : f32
// CHECK:           %[[NS:.+]] = arith.addf
// CHECK:           %[[RT:.+]] = math.sqrt %[[NS]] : f32
// CHECK:           %[[DEN:.+]] = arith.addf %[[RT]], %{{.+}} : f32
// CHECK:           %[[Q:.+]] = arith.divf %[[IG]], %[[DEN]] : f32
// CHECK:           %[[ST:.+]] = arith.mulf %[[LR]], %[[Q]] : f32
// CHECK:           %[[NP:.+]] = arith.subf %[[IP]], %[[ST]] : f32
// CHECK:           linalg.yield %[[NP]], %[[NS]] : f32, f32
// CHECK-NOT:     nn.
// CHECK:         return %[[Y]]#0, %[[Y]]#1
func.func @rmsprop_update(%p: tensor<7xf32>, %g: tensor<7xf32>, %s: tensor<7xf32>) -> (tensor<7xf32>, tensor<7xf32>) {
  %0:2 = nn.rmsprop_update %p, %g, %s {learning_rate = 0.001 : f64, rho = 0.9 : f64, epsilon = 1.0e-07 : f64}
      : (tensor<7xf32>, tensor<7xf32>, tensor<7xf32>) -> (tensor<7xf32>, tensor<7xf32>)
  return %0#0, %0#1 : tensor<7xf32>, tensor<7xf32>
}

// CHECK-LABEL: func.func @rmsprop_update_lr(
// CHECK-SAME:    %[[P:arg[0-9]+]]: tensor<7xf32>, %[[G:arg[0-9]+]]: tensor<7xf32>, %[[S:arg[0-9]+]]: tensor<7xf32>, %[[LRT:arg[0-9]+]]: tensor<f32>)
// CHECK-NOT:     nn.
// CHECK:         %[[LR:.+]] = tensor.extract %[[LRT]][] : tensor<f32>
// CHECK:         %[[Y:.+]]:2 = linalg.generic {{.*}} ins(%[[G]] : tensor<7xf32>) outs(%[[P]], %[[S]] : tensor<7xf32>, tensor<7xf32>)
// CHECK:         ^bb0(%[[IG:[^:]+]]: f32, %[[IP:[^:]+]]: f32, %{{[^:]+}}: f32):
// CHECK:           math.sqrt
// CHECK:           %[[Q:.+]] = arith.divf %[[IG]], %{{.+}} : f32
// CHECK:           %[[ST:.+]] = arith.mulf %[[LR]], %[[Q]] : f32
// CHECK:           %[[NP:.+]] = arith.subf %[[IP]], %[[ST]] : f32
// CHECK:           linalg.yield %[[NP]], %{{.+}} : f32, f32
// CHECK-NOT:     nn.
// CHECK:         return %[[Y]]#0, %[[Y]]#1
func.func @rmsprop_update_lr(%p: tensor<7xf32>, %g: tensor<7xf32>, %s: tensor<7xf32>, %lr: tensor<f32>) -> (tensor<7xf32>, tensor<7xf32>) {
  %0:2 = nn.rmsprop_update %p, %g, %s, %lr {rho = 0.9 : f64, epsilon = 1.0e-07 : f64}
      : (tensor<7xf32>, tensor<7xf32>, tensor<7xf32>, tensor<f32>) -> (tensor<7xf32>, tensor<7xf32>)
  return %0#0, %0#1 : tensor<7xf32>, tensor<7xf32>
}

// The bias corrections 1 - beta^(step + 1) are computed once, in f64, as
// 1 - exp((step + 1) * log(beta)); the step is not an output.
// CHECK-LABEL: func.func @adam_update(
// CHECK-SAME:    %[[P:arg[0-9]+]]: tensor<7xf32>, %[[G:arg[0-9]+]]: tensor<7xf32>, %[[M:arg[0-9]+]]: tensor<7xf32>, %[[V:arg[0-9]+]]: tensor<7xf32>, %[[STEP:arg[0-9]+]]: tensor<i64>)
// CHECK-NOT:     nn.
// CHECK:         %[[S:.+]] = tensor.extract %[[STEP]][] : tensor<i64>
// CHECK:         %[[T:.+]] = arith.addi %[[S]], %{{.+}} : i64
// CHECK:         %[[TF:.+]] = arith.sitofp %[[T]] : i64 to f64
// CHECK:         %[[LB1:.+]] = arith.constant -0.10536051565782628 : f64
// CHECK:         arith.mulf %[[TF]], %[[LB1]] : f64
// CHECK:         math.exp %{{.+}} : f64
// CHECK:         %[[BC1:.+]] = arith.truncf %{{.+}} : f64 to f32
// CHECK:         %[[LB2:.+]] = arith.constant -0.0010005003335835344 : f64
// CHECK:         %[[BC2:.+]] = arith.truncf %{{.+}} : f64 to f32
// CHECK:         %[[Y:.+]]:3 = linalg.generic {indexing_maps = [#[[$ID1]], #[[$ID1]], #[[$ID1]], #[[$ID1]]], iterator_types = ["parallel"]} ins(%[[G]] : tensor<7xf32>) outs(%[[P]], %[[M]], %[[V]] : tensor<7xf32>, tensor<7xf32>, tensor<7xf32>)
// CHECK:         ^bb0(%[[IG:[^:]+]]: f32, %[[IP:[^:]+]]: f32, %{{[^:]+}}: f32, %{{[^:]+}}: f32):
// CHECK:           %[[LR:.+]] = arith.constant 1.000000e-03 : f32
// CHECK:           %[[NM:.+]] = arith.addf
// CHECK:           %[[NV:.+]] = arith.addf
// CHECK:           %[[MH:.+]] = arith.divf %[[NM]], %[[BC1]] : f32
// CHECK:           %[[VH:.+]] = arith.divf %[[NV]], %[[BC2]] : f32
// CHECK:           %[[RT:.+]] = math.sqrt %[[VH]] : f32
// CHECK:           %[[DEN:.+]] = arith.addf %[[RT]], %{{.+}} : f32
// CHECK:           %[[Q:.+]] = arith.divf %[[MH]], %[[DEN]] : f32
// CHECK:           %[[ST:.+]] = arith.mulf %[[LR]], %[[Q]] : f32
// CHECK:           %[[NP:.+]] = arith.subf %[[IP]], %[[ST]] : f32
// CHECK:           linalg.yield %[[NP]], %[[NM]], %[[NV]] : f32, f32, f32
// CHECK-NOT:     nn.
// CHECK:         return %[[Y]]#0, %[[Y]]#1, %[[Y]]#2
func.func @adam_update(%p: tensor<7xf32>, %g: tensor<7xf32>, %m: tensor<7xf32>, %v: tensor<7xf32>, %step: tensor<i64>)
    -> (tensor<7xf32>, tensor<7xf32>, tensor<7xf32>) {
  %0:3 = nn.adam_update %p, %g, %m, %v, %step {learning_rate = 0.001 : f64, beta_1 = 0.9 : f64, beta_2 = 0.999 : f64, epsilon = 1.0e-07 : f64}
      : (tensor<7xf32>, tensor<7xf32>, tensor<7xf32>, tensor<7xf32>, tensor<i64>) -> (tensor<7xf32>, tensor<7xf32>, tensor<7xf32>)
  return %0#0, %0#1, %0#2 : tensor<7xf32>, tensor<7xf32>, tensor<7xf32>
}

// CHECK-LABEL: func.func @adam_update_lr(
// CHECK-SAME:    %[[P:arg[0-9]+]]: tensor<7xf32>, %[[G:arg[0-9]+]]: tensor<7xf32>, %[[M:arg[0-9]+]]: tensor<7xf32>, %[[V:arg[0-9]+]]: tensor<7xf32>, %[[STEP:arg[0-9]+]]: tensor<i64>, %[[LRT:arg[0-9]+]]: tensor<f32>)
// CHECK-NOT:     nn.
// CHECK:         %[[LR:.+]] = tensor.extract %[[LRT]][] : tensor<f32>
// CHECK:         tensor.extract %[[STEP]][] : tensor<i64>
// CHECK:         %[[Y:.+]]:3 = linalg.generic {{.*}} ins(%[[G]] : tensor<7xf32>) outs(%[[P]], %[[M]], %[[V]] : tensor<7xf32>, tensor<7xf32>, tensor<7xf32>)
// CHECK:         ^bb0(%[[IG:[^:]+]]: f32, %[[IP:[^:]+]]: f32, %{{[^:]+}}: f32, %{{[^:]+}}: f32):
// CHECK:           math.sqrt
// CHECK:           %[[Q:.+]] = arith.divf
// CHECK:           %[[ST:.+]] = arith.mulf %[[LR]], %[[Q]] : f32
// CHECK:           %[[NP:.+]] = arith.subf %[[IP]], %[[ST]] : f32
// CHECK:           linalg.yield %[[NP]], %{{.+}}, %{{.+}} : f32, f32, f32
// CHECK-NOT:     nn.
// CHECK:         return %[[Y]]#0, %[[Y]]#1, %[[Y]]#2
func.func @adam_update_lr(%p: tensor<7xf32>, %g: tensor<7xf32>, %m: tensor<7xf32>, %v: tensor<7xf32>, %step: tensor<i64>, %lr: tensor<f32>)
    -> (tensor<7xf32>, tensor<7xf32>, tensor<7xf32>) {
  %0:3 = nn.adam_update %p, %g, %m, %v, %step, %lr {beta_1 = 0.9 : f64, beta_2 = 0.999 : f64, epsilon = 1.0e-07 : f64}
      : (tensor<7xf32>, tensor<7xf32>, tensor<7xf32>, tensor<7xf32>, tensor<i64>, tensor<f32>) -> (tensor<7xf32>, tensor<7xf32>, tensor<7xf32>)
  return %0#0, %0#1, %0#2 : tensor<7xf32>, tensor<7xf32>, tensor<7xf32>
}

// running' = mu * running + (1 - mu) * scale * value, written into the
// running buffer: (1 - 0.9) * 2 = 0.2.
// CHECK-LABEL: func.func @moving_average(
// CHECK-SAME:    %[[RUNNING:arg[0-9]+]]: tensor<5xf32>, %[[V:arg[0-9]+]]: tensor<5xf32>)
// CHECK-NOT:     nn.
// CHECK:         %[[Y:.+]] = linalg.generic {indexing_maps = [#[[$ID1]], #[[$ID1]]], iterator_types = ["parallel"]} ins(%[[V]] : tensor<5xf32>) outs(%[[RUNNING]] : tensor<5xf32>)
// CHECK:         ^bb0(%[[IV:[^:]+]]: f32, %[[IR:[^:]+]]: f32):
// CHECK:           %[[K:.+]] = arith.constant 2.000000e-01 : f32
// CHECK:           %[[KV:.+]] = arith.mulf %[[K]], %[[IV]] : f32
// CHECK:           %[[MU:.+]] = arith.constant 0.899999976 : f32
// CHECK:           %[[MR:.+]] = arith.mulf %[[MU]], %[[IR]] : f32
// CHECK:           %[[R:.+]] = arith.addf %[[MR]], %[[KV]] : f32
// CHECK:           linalg.yield %[[R]] : f32
// CHECK-NOT:     nn.
// CHECK:         return %[[Y]]
func.func @moving_average(%run: tensor<5xf32>, %v: tensor<5xf32>) -> tensor<5xf32> {
  %0 = nn.moving_average %run, %v {momentum = 0.9 : f64, scale = 2.0 : f64} : (tensor<5xf32>, tensor<5xf32>) -> tensor<5xf32>
  return %0 : tensor<5xf32>
}

// A 0-d parameter has the type of the `lr` operand; lr is still read as the
// rate, not rewritten as optimizer state.
// CHECK-LABEL: func.func @sgd_update_scalar_param_lr(
// CHECK-SAME:    %[[P:[a-z0-9]+]]: tensor<f32>, %[[G:[a-z0-9]+]]: tensor<f32>, %[[LR:[a-z0-9]+]]: tensor<f32>)
// CHECK-NOT:   nn.
// CHECK:       %[[R:.+]] = tensor.extract %[[LR]][] : tensor<f32>
// CHECK:       %[[Y:.+]] = linalg.generic {{.*}} ins(%[[G]] : tensor<f32>) outs(%[[P]] : tensor<f32>)
// CHECK:         arith.mulf %[[R]],
// CHECK:         arith.subf
// CHECK-NOT:   nn.
// CHECK:       return %[[Y]]
func.func @sgd_update_scalar_param_lr(%p: tensor<f32>, %g: tensor<f32>, %lr: tensor<f32>) -> tensor<f32> {
  %0 = nn.sgd_update %p, %g, %lr : (tensor<f32>, tensor<f32>, tensor<f32>) -> tensor<f32>
  return %0 : tensor<f32>
}

//===----------------------------------------------------------------------===//
// Primitives (what gradient rules are composed of)
//===----------------------------------------------------------------------===//

// Binary and unary primitives: one parallel generic each.
// CHECK-LABEL: func.func @sub(
// CHECK-NOT:     nn.
// CHECK:         linalg.generic {indexing_maps = [#[[$ID2]], #[[$ID2]], #[[$ID2]]], iterator_types = ["parallel", "parallel"]}
// CHECK:           arith.subf
// CHECK-NOT:     nn.
func.func @sub(%a: tensor<3x5xf32>, %b: tensor<3x5xf32>) -> tensor<3x5xf32> {
  %0 = nn.sub %a, %b : tensor<3x5xf32>
  return %0 : tensor<3x5xf32>
}

// CHECK-LABEL: func.func @mul(
// CHECK:           arith.mulf
// CHECK-NOT:     nn.
func.func @mul(%a: tensor<3x5xf32>, %b: tensor<3x5xf32>) -> tensor<3x5xf32> {
  %0 = nn.mul %a, %b : tensor<3x5xf32>
  return %0 : tensor<3x5xf32>
}

// CHECK-LABEL: func.func @div(
// CHECK:           arith.divf
// CHECK-NOT:     nn.
func.func @div(%a: tensor<3x5xf32>, %b: tensor<3x5xf32>) -> tensor<3x5xf32> {
  %0 = nn.div %a, %b : tensor<3x5xf32>
  return %0 : tensor<3x5xf32>
}

// CHECK-LABEL: func.func @maximum(
// CHECK:           arith.maximumf
// CHECK-NOT:     nn.
func.func @maximum(%a: tensor<3x5xf32>, %b: tensor<3x5xf32>) -> tensor<3x5xf32> {
  %0 = nn.maximum %a, %b : tensor<3x5xf32>
  return %0 : tensor<3x5xf32>
}

// CHECK-LABEL: func.func @minimum(
// CHECK:           arith.minimumf
// CHECK-NOT:     nn.
func.func @minimum(%a: tensor<3x5xf32>, %b: tensor<3x5xf32>) -> tensor<3x5xf32> {
  %0 = nn.minimum %a, %b : tensor<3x5xf32>
  return %0 : tensor<3x5xf32>
}

// CHECK-LABEL: func.func @pow(
// CHECK:           math.powf
// CHECK-NOT:     nn.
func.func @pow(%a: tensor<3x5xf32>, %b: tensor<3x5xf32>) -> tensor<3x5xf32> {
  %0 = nn.pow %a, %b : tensor<3x5xf32>
  return %0 : tensor<3x5xf32>
}

// CHECK-LABEL: func.func @exp(
// CHECK:           math.exp
// CHECK-NOT:     nn.
func.func @exp(%a: tensor<3x5xf32>) -> tensor<3x5xf32> {
  %0 = nn.exp %a : tensor<3x5xf32>
  return %0 : tensor<3x5xf32>
}

// CHECK-LABEL: func.func @log(
// CHECK:           math.log
// CHECK-NOT:     nn.
func.func @log(%a: tensor<3x5xf32>) -> tensor<3x5xf32> {
  %0 = nn.log %a : tensor<3x5xf32>
  return %0 : tensor<3x5xf32>
}

// CHECK-LABEL: func.func @rsqrt(
// CHECK:           math.rsqrt
// CHECK-NOT:     nn.
func.func @rsqrt(%a: tensor<3x5xf32>) -> tensor<3x5xf32> {
  %0 = nn.rsqrt %a : tensor<3x5xf32>
  return %0 : tensor<3x5xf32>
}

// sign: 1 above zero, -1 below, else the input's zero.
// CHECK-LABEL: func.func @sign(
// CHECK-DAG:       arith.cmpf ogt
// CHECK-DAG:       arith.cmpf olt
// CHECK:           arith.select
// CHECK-NOT:     nn.
func.func @sign(%a: tensor<3x5xf32>) -> tensor<3x5xf32> {
  %0 = nn.sign %a : tensor<3x5xf32>
  return %0 : tensor<3x5xf32>
}

// compare: an ordered comparison as a 0/1 float mask.
// CHECK-LABEL: func.func @compare(
// CHECK:           %[[C:.+]] = arith.cmpf oge, %{{.+}}, %{{.+}} : f32
// CHECK:           arith.select %[[C]], %{{.+}}, %{{.+}} : f32
// CHECK-NOT:     nn.
func.func @compare(%a: tensor<3x5xf32>, %b: tensor<3x5xf32>) -> tensor<3x5xf32> {
  %0 = nn.compare %a, %b {predicate = #nn.compare<ge>} : tensor<3x5xf32>
  return %0 : tensor<3x5xf32>
}

// select: `on_true` where the mask is not 0 (NaN counts as true).
// CHECK-LABEL: func.func @select(
// CHECK-SAME:    %[[C:arg[0-9]+]]: tensor<3x5xf32>, %[[A:arg[0-9]+]]: tensor<3x5xf32>, %[[B:arg[0-9]+]]: tensor<3x5xf32>)
// CHECK:         linalg.generic {{.*}} ins(%[[C]], %[[A]], %[[B]] : tensor<3x5xf32>, tensor<3x5xf32>, tensor<3x5xf32>)
// CHECK:         ^bb0(%[[IC:[^:]+]]: f32, %[[IA:[^:]+]]: f32, %[[IB:[^:]+]]: f32, %{{[^:]+}}: f32):
// CHECK:           %[[NZ:.+]] = arith.cmpf une, %[[IC]], %{{.+}} : f32
// CHECK:           %[[R:.+]] = arith.select %[[NZ]], %[[IA]], %[[IB]] : f32
// CHECK:           linalg.yield %[[R]] : f32
// CHECK-NOT:     nn.
func.func @select(%c: tensor<3x5xf32>, %a: tensor<3x5xf32>, %b: tensor<3x5xf32>) -> tensor<3x5xf32> {
  %0 = nn.select %c, %a, %b : tensor<3x5xf32>
  return %0 : tensor<3x5xf32>
}

// The bias gradient: a reduction over every dimension but the channels.
// CHECK-LABEL: func.func @reduce_sum(
// CHECK-SAME:    %[[DY:arg[0-9]+]]: tensor<2x3x3x5xf32>)
// CHECK-NOT:     nn.
// CHECK:         %[[INIT:.+]] = linalg.fill ins(%{{.+}} : f32) outs(%{{.+}} : tensor<5xf32>)
// CHECK:         %[[Y:.+]] = linalg.generic {indexing_maps = [#[[$ID4]], #[[$CH4]]], iterator_types = ["reduction", "reduction", "reduction", "parallel"]} ins(%[[DY]] : tensor<2x3x3x5xf32>) outs(%[[INIT]] : tensor<5xf32>)
// CHECK:           arith.addf
// CHECK-NOT:     nn.
// CHECK:         return %[[Y]]
func.func @reduce_sum(%dy: tensor<2x3x3x5xf32>) -> tensor<5xf32> {
  %0 = nn.reduce_sum %dy {axes = array<i64: 0, 1, 2>} : (tensor<2x3x3x5xf32>) -> tensor<5xf32>
  return %0 : tensor<5xf32>
}

// A row maximum from -inf.
// CHECK-LABEL: func.func @reduce_max(
// CHECK-SAME:    %[[X:arg[0-9]+]]: tensor<3x5xf32>)
// CHECK:         %[[NINF:.+]] = arith.constant 0xFF800000 : f32
// CHECK:         %[[INIT:.+]] = linalg.fill ins(%[[NINF]] : f32) outs(%{{.+}} : tensor<3xf32>)
// CHECK:         linalg.generic {indexing_maps = [#[[$ID2]], #[[$ROW]]], iterator_types = ["parallel", "reduction"]} ins(%[[X]] : tensor<3x5xf32>) outs(%[[INIT]] : tensor<3xf32>)
// CHECK:           arith.maximumf
// CHECK-NOT:     nn.
func.func @reduce_max(%x: tensor<3x5xf32>) -> tensor<3xf32> {
  %0 = nn.reduce_max %x {axes = array<i64: 1>} : (tensor<3x5xf32>) -> tensor<3xf32>
  return %0 : tensor<3xf32>
}

// A per-channel vector repeated over NHWC: the input map keeps d3 only.
// CHECK-LABEL: func.func @broadcast(
// CHECK-SAME:    %[[V:arg[0-9]+]]: tensor<5xf32>)
// CHECK:         %[[Y:.+]] = linalg.generic {indexing_maps = [#[[$CH4]], #[[$ID4]]], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%[[V]] : tensor<5xf32>)
// CHECK:           linalg.yield
// CHECK-NOT:     nn.
// CHECK:         return %[[Y]]
func.func @broadcast(%v: tensor<5xf32>) -> tensor<2x3x3x5xf32> {
  %0 = nn.broadcast %v {dims = array<i64: 3>} : (tensor<5xf32>) -> tensor<2x3x3x5xf32>
  return %0 : tensor<2x3x3x5xf32>
}

// One-hot targets: label == column index, as a float.
// CHECK-LABEL: func.func @one_hot(
// CHECK-SAME:    %[[L:arg[0-9]+]]: tensor<3xi32>)
// CHECK:         linalg.generic {indexing_maps = [#[[$ROW]], #[[$ID2]]], iterator_types = ["parallel", "parallel"]} ins(%[[L]] : tensor<3xi32>)
// CHECK:           %[[C:.+]] = linalg.index 1 : index
// CHECK:           arith.index_cast
// CHECK:           arith.cmpi eq
// CHECK-NOT:     nn.
func.func @one_hot(%l: tensor<3xi32>) -> tensor<3x5xf32> {
  %0 = nn.one_hot %l : (tensor<3xi32>) -> tensor<3x5xf32>
  return %0 : tensor<3x5xf32>
}

// argmax: (max, index) reduced together, the first maximum kept (strict >),
// then the index cast to i32.
// CHECK-LABEL: func.func @argmax(
// CHECK-SAME:    %[[X:arg[0-9]+]]: tensor<3x5xf32>)
// CHECK:         %[[R:.+]]:2 = linalg.generic {indexing_maps = [#[[$ID2]], #[[$ROW]], #[[$ROW]]], iterator_types = ["parallel", "reduction"]} ins(%[[X]] : tensor<3x5xf32>)
// CHECK:           arith.cmpf ogt
// CHECK:         linalg.generic {{.*}} ins(%[[R]]#1 : tensor<3xindex>)
// CHECK:           arith.index_cast %{{.+}} : index to i32
// CHECK-NOT:     nn.
func.func @argmax(%x: tensor<3x5xf32>) -> tensor<3xi32> {
  %0 = nn.argmax %x : (tensor<3x5xf32>) -> tensor<3xi32>
  return %0 : tensor<3xi32>
}

// nn.allreduce_mean packs its inputs into one buffer for one runtime call
// (one MPI_Allreduce) and unpacks the averaged values.
// CHECK-LABEL: func.func @allreduce_mean(
// CHECK-SAME:    %[[A:arg[0-9]+]]: tensor<2x3xf32>, %[[B:arg[0-9]+]]: tensor<4xf32>)
// CHECK:         %[[E:.+]] = tensor.empty() : tensor<10xf32>
// CHECK:         %[[FA:.+]] = tensor.collapse_shape %[[A]] {{\[\[}}0, 1]] : tensor<2x3xf32> into tensor<6xf32>
// CHECK:         %[[P1:.+]] = tensor.insert_slice %[[FA]] into %[[E]][0] [6] [1]
// CHECK:         %[[P2:.+]] = tensor.insert_slice %[[B]] into %[[P1]][6] [4] [1]
// CHECK:         %[[BUF:.+]] = memref.alloc() : memref<10xf32>
// CHECK:         bufferization.materialize_in_destination %[[P2]] in restrict writable %[[BUF]]
// CHECK:         %[[DYN:.+]] = memref.cast %[[BUF]] : memref<10xf32> to memref<?xf32>
// CHECK:         call @gradc_allreduce_mean(%[[DYN]]) : (memref<?xf32>) -> ()
// CHECK:         %[[T:.+]] = bufferization.to_tensor %[[BUF]] restrict writable
// CHECK:         %[[RA:.+]] = tensor.extract_slice %[[T]][0] [6] [1]
// CHECK:         tensor.expand_shape %[[RA]] {{\[\[}}0, 1]]
// CHECK:         tensor.extract_slice %[[T]][6] [4] [1]
func.func private @gradc_allreduce_mean(memref<?xf32>) attributes {llvm.emit_c_interface}
func.func @allreduce_mean(%a: tensor<2x3xf32>, %b: tensor<4xf32>) -> (tensor<2x3xf32>, tensor<4xf32>) {
  %0:2 = nn.allreduce_mean %a, %b {ranks = 2 : i64} : tensor<2x3xf32>, tensor<4xf32> -> tensor<2x3xf32>, tensor<4xf32>
  return %0#0, %0#1 : tensor<2x3xf32>, tensor<4xf32>
}

// An embedding reads the table at each id, clamped into [0, rows), in a
// linalg.generic over the output whose ids map drops the last dimension.
// CHECK-LABEL: func.func @embedding(
// CHECK-SAME:    %[[IDS:arg[0-9]+]]: tensor<2x3xi64>, %[[T:arg[0-9]+]]: tensor<10x4xf32>)
// CHECK-NOT:     nn.
// CHECK:         linalg.generic {{.*}} ins(%[[IDS]] : tensor<2x3xi64>)
// CHECK:           arith.index_cast
// CHECK:           arith.maxsi
// CHECK:           arith.minsi
// CHECK:           %[[C:.+]] = linalg.index 2 : index
// CHECK:           tensor.extract %[[T]][%{{.+}}, %[[C]]] : tensor<10x4xf32>
func.func @embedding(%ids: tensor<2x3xi64>, %t: tensor<10x4xf32>) -> tensor<2x3x4xf32> {
  %0 = nn.embedding %ids, %t : (tensor<2x3xi64>, tensor<10x4xf32>) -> tensor<2x3x4xf32>
  return %0 : tensor<2x3x4xf32>
}

// The table's gradient: a loop over the id positions in order, each adding
// its gradient row into the row of its (clamped) id, so repeated ids add up.
// CHECK-LABEL: func.func @embedding_grad(
// CHECK-SAME:    %[[IDS:arg[0-9]+]]: tensor<2x3xi32>, %[[DY:arg[0-9]+]]: tensor<2x3x4xf32>)
// CHECK-NOT:     nn.
// CHECK-DAG:     %[[FLAT:.+]] = tensor.collapse_shape %[[IDS]] {{\[\[}}0, 1]] : tensor<2x3xi32> into tensor<6xi32>
// CHECK-DAG:     %[[ROWS:.+]] = tensor.collapse_shape %[[DY]] {{\[\[}}0, 1], [2]] : tensor<2x3x4xf32> into tensor<6x4xf32>
// CHECK:         %[[ZERO:.+]] = linalg.fill {{.*}} -> tensor<10x4xf32>
// CHECK:         %[[SUM:.+]] = scf.for %[[I:.+]] = %{{.+}} to %{{.+}} step %{{.+}} iter_args(%[[ACC:.+]] = %[[ZERO]]) -> (tensor<10x4xf32>)
// CHECK:           tensor.extract %[[FLAT]][%[[I]]] : tensor<6xi32>
// CHECK:           arith.minsi
// CHECK:           %[[CUR:.+]] = tensor.extract_slice %[[ACC]]
// CHECK:           %[[G:.+]] = tensor.extract_slice %[[ROWS]][%[[I]], 0] [1, 4] [1, 1]
// CHECK:           %[[ADD:.+]] = linalg.generic {{.*}} ins(%[[G]] : tensor<4xf32>) outs(%[[CUR]] : tensor<4xf32>)
// CHECK:           %[[NEXT:.+]] = tensor.insert_slice %[[ADD]] into %[[ACC]]
// CHECK:           scf.yield %[[NEXT]] : tensor<10x4xf32>
// CHECK:         return %[[SUM]]
func.func @embedding_grad(%ids: tensor<2x3xi32>, %dy: tensor<2x3x4xf32>) -> tensor<10x4xf32> {
  %0 = nn.embedding_grad %ids, %dy : (tensor<2x3xi32>, tensor<2x3x4xf32>) -> tensor<10x4xf32>
  return %0 : tensor<10x4xf32>
}
