// RUN: gradc-opt %s --gradc-tile-and-vectorize --split-input-file | FileCheck %s
// RUN: gradc-opt %s --gradc-tile-and-vectorize=threads=2 --split-input-file | FileCheck %s --check-prefix=THREADS

// A matmul becomes register tiles of 8 rows x 32 columns, each reduction
// step 8 broadcast FMAs on the host vector width: outer products, not
// per-element reductions.
// CHECK-LABEL: func.func @matmul
// CHECK-NOT:   linalg.matmul
// CHECK:       scf.for {{.*}} step %c8
// CHECK:       scf.for {{.*}} step %c16
// CHECK:       vector.transfer_read {{.*}} vector<8x16xf32>
// CHECK:       vector.transfer_read {{.*}} vector<16x32xf32>
// CHECK:       vector.fma {{.*}} : vector<32xf32>
// CHECK-NOT:   vector.reduction
// CHECK-NOT:   vector.multi_reduction
// CHECK:       return
// THREADS-LABEL: func.func @matmul
// THREADS:       scf.forall ({{.*}}) in (2)
// THREADS:       vector.fma {{.*}} : vector<32xf32>
func.func @matmul(%a: tensor<16x64xf32>, %b: tensor<64x32xf32>, %c: tensor<16x32xf32>) -> tensor<16x32xf32> {
  %0 = linalg.matmul ins(%a, %b : tensor<16x64xf32>, tensor<64x32xf32>) outs(%c : tensor<16x32xf32>) -> tensor<16x32xf32>
  return %0 : tensor<16x32xf32>
}

// -----

// A convolution: one output row of 11 pixels x 16 filters per tile, the
// 3x3 window decomposed into 1-D windows, outer products over 8 channels.
// CHECK-LABEL: func.func @conv
// CHECK-NOT:   linalg.conv_2d_nhwc_hwcf
// CHECK:       vector.transfer_read {{.*}} vector<1x11x8xf32>
// CHECK:       vector.transfer_read {{.*}} vector<1x8x16xf32>
// CHECK:       vector.fma {{.*}} : vector<16xf32>
// CHECK-NOT:   vector.reduction
// CHECK:       return
func.func @conv(%x: tensor<4x13x13x32xf32>, %w: tensor<3x3x32x64xf32>, %y: tensor<4x11x11x64xf32>) -> tensor<4x11x11x64xf32> {
  %0 = linalg.conv_2d_nhwc_hwcf {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>} ins(%x, %w : tensor<4x13x13x32xf32>, tensor<3x3x32x64xf32>) outs(%y : tensor<4x11x11x64xf32>) -> tensor<4x11x11x64xf32>
  return %0 : tensor<4x11x11x64xf32>
}

// -----

// A depthwise convolution: 8 outputs of a row x 16 channels per tile, one
// kernel row at a time (a 1-D depthwise convolution), an FMA per output and
// tap on 16 lanes; with 2 threads the batch is split.
// CHECK-LABEL: func.func @depthwise
// CHECK-NOT:   linalg.depthwise_conv_2d_nhwc_hwc
// CHECK-NOT:   linalg.depthwise_conv_1d_nwc_wc
// CHECK:       vector.fma {{.*}} : vector<1x8x16xf32>
// CHECK:       return
// THREADS-LABEL: func.func @depthwise
// THREADS:       scf.forall ({{.*}}) in (2)
// THREADS:       vector.fma {{.*}} : vector<1x8x16xf32>
func.func @depthwise(%x: tensor<4x18x18x32xf32>, %w: tensor<3x3x32xf32>, %y: tensor<4x16x16x32xf32>) -> tensor<4x16x16x32xf32> {
  %0 = linalg.depthwise_conv_2d_nhwc_hwc {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>} ins(%x, %w : tensor<4x18x18x32xf32>, tensor<3x3x32xf32>) outs(%y : tensor<4x16x16x32xf32>) -> tensor<4x16x16x32xf32>
  return %0 : tensor<4x16x16x32xf32>
}

// -----

// The filter gradient's convolution has the kernel width (3) as its output
// width: its tiles take 64 filters so that 12 accumulators are live.
// CHECK-LABEL: func.func @narrow_conv
// CHECK:       vector.transfer_read {{.*}} vector<1x8x64xf32>
// CHECK:       vector.fma {{.*}} : vector<64xf32>
func.func @narrow_conv(%x: tensor<32x13x13x64xf32>, %w: tensor<11x11x64x64xf32>, %y: tensor<32x3x3x64xf32>) -> tensor<32x3x3x64xf32> {
  %0 = linalg.conv_2d_nhwc_hwcf {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>} ins(%x, %w : tensor<32x13x13x64xf32>, tensor<11x11x64x64xf32>) outs(%y : tensor<32x3x3x64xf32>) -> tensor<32x3x3x64xf32>
  return %0 : tensor<32x3x3x64xf32>
}

// -----

// 500 columns have no power-of-two factor of 16: 15 whole 32-column tiles
// and one peeled tile of the last 20 columns.
// CHECK-LABEL: func.func @peeled_matmul
// CHECK:       scf.for {{.*}} = %c0 to %c480 step %c32
// CHECK:       vector.fma {{.*}} : vector<32xf32>
// CHECK:       vector.transfer_read {{.*}} vector<16x20xf32>
// CHECK:       vector.fma {{.*}} : vector<20xf32>
func.func @peeled_matmul(%a: tensor<64x800xf32>, %b: tensor<800x500xf32>, %c: tensor<64x500xf32>) -> tensor<64x500xf32> {
  %0 = linalg.matmul ins(%a, %b : tensor<64x800xf32>, tensor<800x500xf32>) outs(%c : tensor<64x500xf32>) -> tensor<64x500xf32>
  return %0 : tensor<64x500xf32>
}

// -----

// 50 filters: whole 16-filter tiles and a peeled tile of the last 2.
// CHECK-LABEL: func.func @peeled_conv
// CHECK:       scf.for {{.*}} = %c0 to %c48 step %c16
// CHECK:       vector.fma {{.*}} : vector<16xf32>
// CHECK:       vector.fma {{.*}} : vector<2xf32>
func.func @peeled_conv(%x: tensor<4x12x12x20xf32>, %w: tensor<5x5x20x50xf32>, %y: tensor<4x8x8x50xf32>) -> tensor<4x8x8x50xf32> {
  %0 = linalg.conv_2d_nhwc_hwcf {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>} ins(%x, %w : tensor<4x12x12x20xf32>, tensor<5x5x20x50xf32>) outs(%y : tensor<4x8x8x50xf32>) -> tensor<4x8x8x50xf32>
  return %0 : tensor<4x8x8x50xf32>
}

// -----

// A batch matmul (attention's q k^T and scores v): one matrix of the batch
// per tile, then the matmul's 8-row x 32-column register tiles and outer
// products; with 2 threads the batch is split.
// CHECK-LABEL: func.func @batch_matmul
// CHECK-NOT:   linalg.batch_matmul
// CHECK:       scf.for {{.*}} step %c1
// CHECK:       scf.for {{.*}} step %c8
// CHECK:       scf.for {{.*}} step %c16
// CHECK:       vector.transfer_read {{.*}} vector<1x8x16xf32>
// CHECK:       vector.transfer_read {{.*}} vector<1x16x32xf32>
// CHECK:       vector.fma {{.*}} : vector<32xf32>
// CHECK-NOT:   vector.reduction
// CHECK-NOT:   vector.multi_reduction
// CHECK:       return
// THREADS-LABEL: func.func @batch_matmul
// THREADS:       scf.forall ({{.*}}) in (2)
// THREADS:       vector.fma {{.*}} : vector<32xf32>
func.func @batch_matmul(%a: tensor<4x16x64xf32>, %b: tensor<4x64x32xf32>, %c: tensor<4x16x32xf32>) -> tensor<4x16x32xf32> {
  %0 = linalg.batch_matmul ins(%a, %b : tensor<4x16x64xf32>, tensor<4x64x32xf32>) outs(%c : tensor<4x16x32xf32>) -> tensor<4x16x32xf32>
  return %0 : tensor<4x16x32xf32>
}

// -----

// q k^T: the transposed rhs tile is read as it is stored and the FMAs are
// the same.
// CHECK-LABEL: func.func @batch_matmul_transpose_b
// CHECK-NOT:   linalg.batch_matmul_transpose_b
// CHECK:       vector.transfer_read {{.*}} vector<1x32x16xf32>
// CHECK:       vector.fma {{.*}} : vector<32xf32>
// CHECK-NOT:   vector.reduction
// CHECK:       return
func.func @batch_matmul_transpose_b(%a: tensor<4x16x64xf32>, %b: tensor<4x32x64xf32>, %c: tensor<4x16x32xf32>) -> tensor<4x16x32xf32> {
  %0 = linalg.batch_matmul_transpose_b ins(%a, %b : tensor<4x16x64xf32>, tensor<4x32x64xf32>) outs(%c : tensor<4x16x32xf32>) -> tensor<4x16x32xf32>
  return %0 : tensor<4x16x32xf32>
}

// -----

// Two row sums that start from one zero tensor (CSE merged their fills):
// split across threads, each output gets its own copy of it, or both would
// accumulate into one buffer.
// CHECK-LABEL: func.func @two_sums_one_init
// CHECK-NOT:   bufferization.alloc_tensor
// CHECK:       return
// THREADS-LABEL: func.func @two_sums_one_init
// THREADS:       %[[Z:.+]] = linalg.fill
// THREADS:       %[[C:.+]] = bufferization.alloc_tensor() copy(%[[Z]])
// THREADS:       scf.forall ({{.*}}) in (2) shared_outs(%{{.+}} = %[[Z]], %{{.+}} = %[[C]])
#id = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
#row = affine_map<(d0, d1, d2) -> (d0, d1)>
func.func @two_sums_one_init(%x: tensor<8x64x128xf32>) -> (tensor<8x64xf32>, tensor<8x64xf32>) {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<8x64xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e : tensor<8x64xf32>) -> tensor<8x64xf32>
  %s:2 = linalg.generic {indexing_maps = [#id, #row, #row], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x : tensor<8x64x128xf32>) outs(%z, %z : tensor<8x64xf32>, tensor<8x64xf32>) {
  ^bb0(%a: f32, %s0: f32, %s1: f32):
    %sq = arith.mulf %a, %a : f32
    %0 = arith.addf %s0, %a : f32
    %1 = arith.addf %s1, %sq : f32
    linalg.yield %0, %1 : f32, f32
  } -> (tensor<8x64xf32>, tensor<8x64xf32>)
  return %s#0, %s#1 : tensor<8x64xf32>, tensor<8x64xf32>
}
