//===- EarlyDeallocation.cpp - free each buffer after its last use --------===//
//
// MLIR's ownership-based buffer deallocation frees the buffers a block
// allocates at the end of that block. A step is one block, so every
// temporary of the forward and backward pass stayed allocated until the
// step returned: its peak memory was the sum of all of them. This pass
// moves each such memref.dealloc up to just after the last op of the block
// that uses the buffer or a view of it, so that malloc reuses the memory
// for the buffers after it.
//
// Conservative: a buffer whose alias reaches a terminator (a yield or a
// return), or an op this pass does not know not to keep it (a call), keeps
// its dealloc where it is. Ops with memref results are taken to alias
// their memref operands.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

namespace gradc {
#define GEN_PASS_DEF_EARLYDEALLOCATION
#include "passes/Passes.h.inc"
} // namespace gradc

using namespace mlir;
using namespace gradc;

namespace {

/// The last op of `block` that uses `buffer` or an alias of it (other than
/// `dealloc`), or null when an alias escapes.
Operation *lastUse(Value buffer, Operation *dealloc, Block &block) {
  SmallVector<Value> work{buffer};
  DenseSet<Value> seen{buffer};
  Operation *last = buffer.getDefiningOp();
  while (!work.empty()) {
    Value v = work.pop_back_val();
    for (Operation *user : v.getUsers()) {
      if (user == dealloc)
        continue;
      if (user->hasTrait<OpTrait::IsTerminator>() ||
          isa<CallOpInterface, memref::DeallocOp,
              memref::ExtractAlignedPointerAsIndexOp>(user))
        return nullptr;
      for (Value r : user->getResults())
        if (isa<BaseMemRefType>(r.getType()) && seen.insert(r).second)
          work.push_back(r);
      Operation *top = block.findAncestorOpInBlock(*user);
      if (!top)
        return nullptr;
      if (last->isBeforeInBlock(top))
        last = top;
    }
  }
  return last;
}

struct EarlyDeallocation
    : gradc::impl::EarlyDeallocationBase<EarlyDeallocation> {
  void runOnOperation() override {
    for (Block &block : getOperation().getBody()) {
      SmallVector<memref::DeallocOp> deallocs(
          block.getOps<memref::DeallocOp>());
      for (memref::DeallocOp dealloc : deallocs) {
        Value buffer = dealloc.getMemref();
        auto alloc = buffer.getDefiningOp<memref::AllocOp>();
        if (!alloc || alloc->getBlock() != &block)
          continue;
        Operation *last = lastUse(buffer, dealloc, block);
        if (last && last->isBeforeInBlock(dealloc))
          dealloc->moveAfter(last);
      }
    }
  }
};

} // namespace
