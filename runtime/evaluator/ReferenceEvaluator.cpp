//===- ReferenceEvaluator.cpp - a plain interpreter of nn functions -------===//
//
// Runs the ops a function's results depend on, in order, each through the
// reference kernel attached to it (ReferenceKernelOpInterface; the kernels
// are in runtime/evaluator/kernels/, one file per family of ops). The kernels follow
// the op definitions literally: nothing is fused, tiled or reordered, so a
// disagreement with the JIT or with a finite difference points at the
// other side.
//
//===----------------------------------------------------------------------===//

#include "runtime/evaluator/ReferenceEvaluator.h"
#include "runtime/evaluator/kernels/KernelEnv.h"

#include "llvm/ADT/DenseSet.h"

using namespace mlir;
using namespace gradc::nn;

namespace gradc {

void attachReferenceKernels(MLIRContext *ctx) {
  auto conv =
      RegisteredOperationName::lookup(Conv2DOp::getOperationName(), ctx);
  if (!conv || conv->hasInterface<ReferenceKernelOpInterface>())
    return;
#define GRADC_KERNELS_NO_KERNELS(Name)
#define GRADC_KERNELS_KERNELS(Name) kernels::attach##Name##Kernels(ctx);
#define GRADC_OP_FAMILY(Name, Layers, Kernels) GRADC_KERNELS_##Kernels(Name)
#include "ir/OpFamilies.def"
#undef GRADC_KERNELS_KERNELS
#undef GRADC_KERNELS_NO_KERNELS
}

namespace {

using kernels::describe;
using kernels::shapeOf;

template <typename T> class Interpreter {
public:
  explicit Interpreter(const EvalObserver<T> &observer) : kernelEnv(observer) {}

  absl::StatusOr<std::vector<HostValue<T>>>
  run(func::FuncOp fn, std::vector<HostValue<T>> args,
      llvm::ArrayRef<unsigned> wanted);

private:
  absl::Status checkArgument(func::FuncOp fn, unsigned i,
                             const HostValue<T> &arg);
  absl::Status eval(Operation *op);

  KernelEnv<T> kernelEnv;
  llvm::DenseMap<Value, HostValue<T>> &env = kernelEnv.values;
};

template <typename T>
absl::Status Interpreter<T>::checkArgument(func::FuncOp fn, unsigned i,
                                           const HostValue<T> &arg) {
  auto type = dyn_cast<RankedTensorType>(fn.getArgumentTypes()[i]);
  if (!type || !type.hasStaticShape())
    return absl::InvalidArgumentError(
        absl::StrCat("reference evaluator: argument ", i,
                     " is not a statically shaped tensor"));
  Type elem = type.getElementType();
  size_t expected = isa<FloatType>(elem)         ? 0
                    : elem.isSignlessInteger(32) ? 1
                    : elem.isSignlessInteger(64) ? 2
                                                 : 3;
  static const char *const kinds[] = {"float", "int32", "int64"};
  if (expected == 3)
    return absl::InvalidArgumentError(
        absl::StrCat("reference evaluator: argument ", i,
                     " has an unsupported element type"));
  if (arg.index() != expected)
    return absl::InvalidArgumentError(absl::StrCat(
        "reference evaluator: argument ", i, " expects a ", kinds[expected],
        " tensor, got a ", kinds[arg.index()], " tensor"));
  auto shape = std::visit([](auto &t) { return t.shape; }, arg);
  auto size = std::visit([](auto &t) { return t.data.size(); }, arg);
  auto irShape = shapeOf(fn.getArgument(i));
  if (shape != irShape || int64_t(size) != type.getNumElements()) {
    std::string want, got;
    for (int64_t d : irShape)
      absl::StrAppend(&want, want.empty() ? "" : "x", d);
    for (int64_t d : shape)
      absl::StrAppend(&got, got.empty() ? "" : "x", d);
    return absl::InvalidArgumentError(
        absl::StrCat("reference evaluator: argument ", i, " expects shape [",
                     want, "], got [", got, "] with ", size, " elements"));
  }
  return absl::OkStatus();
}

template <typename T>
absl::StatusOr<std::vector<HostValue<T>>>
Interpreter<T>::run(func::FuncOp fn, std::vector<HostValue<T>> args,
                    llvm::ArrayRef<unsigned> wanted) {
  if (fn.isExternal() || !fn.getBody().hasOneBlock())
    return absl::InvalidArgumentError(
        "reference evaluator: expects a function with one block");
  if (args.size() != fn.getNumArguments())
    return absl::InvalidArgumentError(
        absl::StrCat("reference evaluator: @", fn.getName().str(), " takes ",
                     fn.getNumArguments(), " arguments, got ", args.size()));
  for (unsigned i = 0; i < args.size(); ++i)
    if (absl::Status s = checkArgument(fn, i, args[i]); !s.ok())
      return s;

  Block &block = fn.getBody().front();
  auto ret = dyn_cast<func::ReturnOp>(block.getTerminator());
  if (!ret)
    return absl::InvalidArgumentError(
        absl::StrCat("reference evaluator: unsupported terminator ",
                     describe(block.getTerminator())));
  for (unsigned r : wanted)
    if (r >= ret.getNumOperands())
      return absl::InvalidArgumentError(absl::StrCat(
          "reference evaluator: no result ", r, " in @", fn.getName().str()));

  // Only the ops the wanted results depend on run; each value is dropped
  // after its last use so that large batches fit in memory.
  llvm::DenseSet<Value> needed;
  for (unsigned r : wanted)
    needed.insert(ret.getOperand(r));
  std::vector<Operation *> live;
  for (Operation &op : llvm::reverse(block.without_terminator())) {
    if (llvm::none_of(op.getResults(),
                      [&](Value v) { return needed.contains(v); }))
      continue;
    live.push_back(&op);
    needed.insert(op.operand_begin(), op.operand_end());
  }
  std::reverse(live.begin(), live.end());
  llvm::DenseMap<Value, size_t> lastUse;
  for (size_t i = 0; i < live.size(); ++i)
    for (Value v : live[i]->getOperands())
      lastUse[v] = i;
  for (unsigned r : wanted)
    lastUse[ret.getOperand(r)] = live.size();

  for (unsigned i = 0; i < args.size(); ++i)
    if (needed.contains(fn.getArgument(i)))
      env[fn.getArgument(i)] = std::move(args[i]);
  for (size_t i = 0; i < live.size(); ++i) {
    if (absl::Status s = eval(live[i]); !s.ok())
      return s;
    for (Value v : live[i]->getOperands())
      if (lastUse.lookup(v) == i)
        env.erase(v);
    // A result nobody reads (an unused optimizer state) is dropped at once.
    for (Value v : live[i]->getResults())
      if (!lastUse.count(v))
        env.erase(v);
  }
  std::vector<HostValue<T>> results;
  for (unsigned r : wanted)
    results.push_back(env.find(ret.getOperand(r))->second);
  return results;
}

template <typename T> absl::Status Interpreter<T>::eval(Operation *op) {
  auto kernel = dyn_cast<ReferenceKernelOpInterface>(op);
  if (!kernel)
    return absl::UnimplementedError(absl::StrCat(
        "reference evaluator: no reference kernel for ", describe(op)));
  LogicalResult done = success();
  if constexpr (std::is_same_v<T, float>)
    done = kernel.evaluateF32(kernelEnv);
  else
    done = kernel.evaluateF64(kernelEnv);
  if (succeeded(done))
    return absl::OkStatus();
  return kernelEnv.status.ok()
             ? absl::InternalError(absl::StrCat(
                   "reference evaluator: kernel failed for ", describe(op)))
             : kernelEnv.status;
}

} // namespace

template <typename T>
absl::StatusOr<std::vector<HostValue<T>>>
evaluate(func::FuncOp fn, std::vector<HostValue<T>> args,
         const EvalObserver<T> &observer) {
  std::vector<unsigned> all;
  if (!fn.isExternal())
    for (unsigned i = 0; i < fn.getNumResults(); ++i)
      all.push_back(i);
  return evaluateResults<T>(fn, std::move(args), all, observer);
}

template <typename T>
absl::StatusOr<std::vector<HostValue<T>>>
evaluateResults(func::FuncOp fn, std::vector<HostValue<T>> args,
                llvm::ArrayRef<unsigned> results,
                const EvalObserver<T> &observer) {
  attachReferenceKernels(fn->getContext());
  return Interpreter<T>(observer).run(fn, std::move(args), results);
}

template absl::StatusOr<std::vector<HostValue<float>>>
evaluate<float>(func::FuncOp, std::vector<HostValue<float>>,
                const EvalObserver<float> &);
template absl::StatusOr<std::vector<HostValue<double>>>
evaluate<double>(func::FuncOp, std::vector<HostValue<double>>,
                 const EvalObserver<double> &);
template absl::StatusOr<std::vector<HostValue<float>>>
evaluateResults<float>(func::FuncOp, std::vector<HostValue<float>>,
                       llvm::ArrayRef<unsigned>, const EvalObserver<float> &);
template absl::StatusOr<std::vector<HostValue<double>>>
evaluateResults<double>(func::FuncOp, std::vector<HostValue<double>>,
                        llvm::ArrayRef<unsigned>, const EvalObserver<double> &);

} // namespace gradc
