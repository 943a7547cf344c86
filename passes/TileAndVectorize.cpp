//===- TileAndVectorize.cpp - register tiles for convs, pools, matmuls ----===//
//
// Tiles every convolution (depthwise ones included) and matmul on tensors
// so that one tile fits in vector registers, decomposes 2-D windows into
// 1-D ones, and vectorizes the tiles into outer products (FMAs on the
// host's vector width). Tile sizes are chosen per op from its shape; where a
// vector- friendly tile does not divide a loop, the loop is peeled into whole
// tiles and one partial tile of static size (no masking needed). The work is
// written as a transform-dialect script, one block per op, that the pass
// builds and interprets. Poolings are left to LLVM: vectorizing them gave
// no speed-up and, for a 2x2 stride-2 pool of an odd width, wrong memory
// accesses at run time.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Transform/IR/TransformOps.h"
#include "mlir/Dialect/Transform/Interfaces/TransformInterfaces.h"
#include "mlir/Dialect/Transform/Transforms/TransformInterpreterUtils.h"
#include "mlir/Parser/Parser.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FormatVariadic.h"

namespace gradc {
#define GEN_PASS_DEF_TILEANDVECTORIZE
#include "passes/Passes.h.inc"
} // namespace gradc

using namespace mlir;
using namespace gradc;

namespace {

constexpr const char *kTag = "gradc.vid";

/// Largest divisor of `n` that is at most `cap`.
int64_t divisorAtMost(int64_t n, int64_t cap) {
  for (int64_t d = std::min(n, cap); d > 1; --d)
    if (n % d == 0)
      return d;
  return 1;
}

/// Largest power-of-two divisor of `n` that is at most `cap`.
int64_t pow2DivisorAtMost(int64_t n, int64_t cap) {
  int64_t d = 1;
  while (d * 2 <= cap && n % (d * 2) == 0)
    d *= 2;
  return d;
}

/// A vector width for a loop of `n`: a power of two when one of at least 8
/// divides it, else the largest divisor up to `cap` (50 channels give 10
/// lanes rather than 2).
int64_t vectorWidth(int64_t n, int64_t cap) {
  int64_t p2 = pow2DivisorAtMost(n, cap);
  return p2 >= 8 ? p2 : std::max(p2, divisorAtMost(n, cap));
}

struct Plan {
  Operation *op;
  SmallVector<int64_t> tiles;
  bool decompose;
  /// Thread tiles (scf.forall): one loop split in `threads` equal parts.
  SmallVector<int64_t> threadTiles;
  /// Tile loops whose tile does not divide the extent: peeled into a loop
  /// of whole tiles and one partial tile of static size.
  SmallVector<unsigned> peel;
};

/// Splits the first of `dims` whose extent the thread count divides.
SmallVector<int64_t> threadTilesFor(ArrayRef<int64_t> ranges,
                                    ArrayRef<unsigned> dims, int threads) {
  if (threads <= 1)
    return {};
  for (unsigned d : dims)
    if (ranges[d] % threads == 0 && ranges[d] >= threads) {
      SmallVector<int64_t> t(ranges.size(), 0);
      t[d] = ranges[d] / threads;
      return t;
    }
  return {};
}

/// Tile sizes for the loops of `op`, or empty when it is left alone.
std::optional<Plan> planFor(linalg::LinalgOp op, int threads) {
  if (!op.hasPureTensorSemantics())
    return std::nullopt;
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  if (llvm::any_of(ranges, ShapedType::isDynamic))
    return std::nullopt;
  Plan p{op, {}, false};
  bool isConv = isa<linalg::Conv2DNhwcHwcfOp>(op);
  bool isDepthwise = isa<linalg::DepthwiseConv2DNhwcHwcOp>(op);
  bool isBatched =
      isa<linalg::BatchMatmulOp, linalg::BatchMatmulTransposeBOp>(op);
  bool isMatmul = isBatched || isa<linalg::MatmulOp, linalg::MatmulTransposeAOp,
                                   linalg::MatmulTransposeBOp>(op);
  if (isDepthwise) {
    // (n, oh, ow, c, kh, kw): a row of outputs for a block of channels, one
    // kernel row at a time: decomposed into a 1-D depthwise convolution,
    // which vectorizes over the channels (each output an FMA per tap).
    p.threadTiles = threadTilesFor(ranges, {0, 3, 1}, threads);
    SmallVector<int64_t> local(ranges);
    for (auto [i, t] : llvm::enumerate(p.threadTiles))
      if (t)
        local[i] = t;
    p.tiles = {1, 1, divisorAtMost(local[2], 8), vectorWidth(local[3], 16),
               1, 0};
    p.decompose = true;
    return p;
  }
  if (!isConv && !isMatmul) {
    // Everything else (elementwise, pooling, transposes, row reductions) is
    // memory-bound: only split its outer parallel loop across threads.
    int64_t work = 1;
    for (int64_t r : ranges)
      work *= r;
    if (threads <= 1 || work < (1 << 15) || ranges.empty() ||
        op.getIteratorTypesArray()[0] != utils::IteratorType::parallel)
      return std::nullopt;
    p.threadTiles = threadTilesFor(ranges, {0}, threads);
    if (p.threadTiles.empty())
      return std::nullopt;
    return p;
  }
  // Threads split the batch (or matmul rows), else the output channels (or
  // columns), else the output rows; register tiles then divide what one
  // thread gets.
  p.threadTiles = threadTilesFor(
      ranges, isConv ? ArrayRef<unsigned>{0, 3, 1} : ArrayRef<unsigned>{0, 1},
      threads);
  SmallVector<int64_t> local(ranges);
  for (auto [i, t] : llvm::enumerate(p.threadTiles))
    if (t)
      local[i] = t;
  if (isConv) {
    // (n, oh, ow, f, kh, kw, c): a row of outputs times a block of filters,
    // accumulated over a block of input channels.
    int64_t ow = divisorAtMost(local[2], 16);
    int64_t f = std::min<int64_t>(local[3], 16);
    if (local[3] % 16 != 0 && local[3] > 16) {
      // Filter counts without a factor of 16 (LeNet's 20 and 50): whole
      // 16- or 32-lane tiles and one peeled partial tile.
      f = ow < 8 && local[3] >= 32 ? 32 : 16;
      p.peel.push_back(3);
    } else if (f == 16 && ow < 8) {
      // Narrow outputs (the filter gradient's convolution has the kernel
      // width as its output width) get more filters per tile, so that at
      // least 8 accumulators hide the FMA latency; at most 16 stay live.
      for (int64_t wide = 16 * (16 / ow); wide > 16; wide -= 16)
        if (local[3] % wide == 0) {
          f = wide;
          break;
        }
    }
    p.tiles = {1, 1, ow, f, 1, 1, vectorWidth(local[6], 8)};
    p.decompose = true;
    return p;
  }
  // (m, n, k), or (batch, m, n, k) with one matrix of the batch per tile.
  // Columns without a power-of-two factor of 16 (LeNet's 500) take
  // 32-column tiles and one peeled partial tile.
  unsigned b = isBatched ? 1 : 0;
  int64_t n =
      local[b + 1] <= 32 ? local[b + 1] : pow2DivisorAtMost(local[b + 1], 32);
  if (n < 16) {
    n = 32;
    p.peel.push_back(b + 1);
  }
  p.tiles = {pow2DivisorAtMost(local[b], 8), n,
             pow2DivisorAtMost(local[b + 2], 16)};
  if (isBatched)
    p.tiles.insert(p.tiles.begin(), 1);
  return p;
}

std::string buildScript(ArrayRef<Plan> plans) {
  std::string s;
  llvm::raw_string_ostream os(s);
  os << "module attributes {transform.with_named_sequence} {\n"
        "transform.named_sequence @__transform_main(%root: !transform.any_op "
        "{transform.readonly}) {\n";
  for (auto [i, p] : llvm::enumerate(plans)) {
    std::string name = p.op->getName().getStringRef().str();
    // A tile size of 0 leaves its loop untiled: no loop result for it.
    size_t loops = llvm::count_if(p.tiles, [](int64_t t) { return t != 0; });
    os << llvm::formatv("  %m{0} = transform.structured.match ops{{[\"{1}\"]} "
                        "attributes {{{2} = {0} : i64} in %root : "
                        "(!transform.any_op) -> !transform.any_op\n",
                        i, name, kTag);
    auto list = [](ArrayRef<int64_t> v) {
      return llvm::join(
          llvm::map_range(v, [](int64_t t) { return std::to_string(t); }),
          ", ");
    };
    std::string target = llvm::formatv("%m{0}", i);
    if (!p.threadTiles.empty()) {
      os << llvm::formatv("  %f{0}, %fl{0} = transform.structured."
                          "tile_using_forall %m{0} tile_sizes [{1}] : "
                          "(!transform.any_op) -> (!transform.any_op, "
                          "!transform.any_op)\n",
                          i, list(p.threadTiles));
      target = llvm::formatv("%f{0}", i);
    }
    if (p.tiles.empty())
      continue;
    os << llvm::formatv(
        "  %t{0}, %l{0}:{1} = transform.structured.tile_using_for "
        "{3} tile_sizes [{2}] : (!transform.any_op) -> "
        "(!transform.any_op",
        i, loops, list(p.tiles), target);
    for (size_t l = 0; l < loops; ++l)
      os << ", !transform.any_op";
    os << ")\n";
    // Innermost first: peeling an outer loop clones (and so invalidates)
    // the loops inside it.
    for (unsigned j : llvm::reverse(p.peel))
      os << llvm::formatv(
          "  %pc{0}_{1} = transform.cast %l{0}#{1} : !transform.any_op to "
          "!transform.op<\"scf.for\">\n"
          "  %pm{0}_{1}, %pr{0}_{1} = transform.loop.peel %pc{0}_{1} : "
          "(!transform.op<\"scf.for\">) -> (!transform.any_op, "
          "!transform.any_op)\n",
          i, j);
  }
  os << "  %funcs = transform.structured.match ops{[\"func.func\"]} in %root : "
        "(!transform.any_op) -> !transform.any_op\n"
        "  transform.apply_patterns to %funcs { "
        "transform.apply_patterns.canonicalization } : !transform.any_op\n";
  for (auto [i, p] : llvm::enumerate(plans)) {
    if (p.tiles.empty())
      continue;
    std::string name = p.op->getName().getStringRef().str();
    os << llvm::formatv("  %r{0} = transform.structured.match ops{{[\"{1}\"]} "
                        "attributes {{{2} = {0} : i64} in %root : "
                        "(!transform.any_op) -> !transform.any_op\n",
                        i, name, kTag);
    if (p.decompose) {
      os << llvm::formatv("  %d{0} = transform.structured.decompose %r{0} : "
                          "(!transform.any_op) -> !transform.any_op\n",
                          i);
      os << llvm::formatv("  transform.structured.vectorize %d{0} : "
                          "!transform.any_op\n",
                          i);
    } else {
      os << llvm::formatv("  transform.structured.vectorize %r{0} : "
                          "!transform.any_op\n",
                          i);
    }
  }
  // Matmul tiles vectorize to broadcast+mul+multi_reduction; fold them
  // into vector.contract first so they lower to outer products (FMAs)
  // rather than per-element reductions.
  os << "  transform.apply_patterns to %funcs {\n"
        "    transform.apply_patterns.vector.reduction_to_contract\n"
        "    transform.apply_patterns.vector.transfer_permutation_patterns\n"
        "    transform.apply_patterns.canonicalization\n"
        "  } : !transform.any_op\n";
  os << "  transform.apply_patterns to %funcs {\n"
        "    transform.apply_patterns.vector.lower_contraction "
        "lowering_strategy = \"outerproduct\"\n"
        "    transform.apply_patterns.vector.lower_outerproduct\n"
        "    transform.apply_patterns.vector.lower_multi_reduction "
        "lowering_strategy = \"innerreduction\"\n"
        "    transform.apply_patterns.vector.transfer_permutation_patterns\n"
        "    transform.apply_patterns.vector.lower_transpose\n"
        "    transform.apply_patterns.canonicalization\n"
        "  } : !transform.any_op\n"
        "  transform.yield\n}\n}\n";
  return s;
}

/// Gives each output of a multi-output op its own init tensor: outputs that
/// start from the same value (two zero fills that CSE merged) would share
/// one buffer once split across threads (scf.forall's shared_outs), and
/// one-shot bufferization does not copy them apart there. An allocation
/// with a copy is never merged again.
void separateSharedInits(ModuleOp module) {
  module.walk([](linalg::LinalgOp op) {
    llvm::SmallPtrSet<Value, 4> seen;
    for (OpOperand &init : op.getDpsInitsMutable()) {
      Value v = init.get();
      if (!isa<RankedTensorType>(v.getType()) || seen.insert(v).second)
        continue;
      OpBuilder b(op);
      init.set(b.create<bufferization::AllocTensorOp>(
          op.getLoc(), cast<RankedTensorType>(v.getType()), ValueRange(), v));
    }
  });
}

struct TileAndVectorize : gradc::impl::TileAndVectorizeBase<TileAndVectorize> {
  using TileAndVectorizeBase::TileAndVectorizeBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    MLIRContext *ctx = &getContext();
    if (threads > 1)
      separateSharedInits(module);
    SmallVector<Plan> plans;
    module.walk([&](linalg::LinalgOp op) {
      if (auto p = planFor(op, threads)) {
        op->setAttr(kTag, IntegerAttr::get(IntegerType::get(ctx, 64),
                                           int64_t(plans.size())));
        plans.push_back(*p);
      }
    });
    if (plans.empty())
      return;
    std::string script = buildScript(plans);
    OwningOpRef<ModuleOp> transforms =
        parseSourceString<ModuleOp>(script, ParserConfig(ctx));
    if (!transforms) {
      module.emitError() << "gradc: bad vectorization script:\n" << script;
      return signalPassFailure();
    }
    Operation *entry = transform::detail::findTransformEntryPoint(
        module, *transforms, "__transform_main");
    if (!entry ||
        failed(transform::applyTransformNamedSequence(
            module, entry, *transforms, transform::TransformOptions())))
      return signalPassFailure();
    module.walk([&](Operation *op) { op->removeAttr(kTag); });
  }
};

} // namespace
