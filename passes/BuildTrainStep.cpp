//===- BuildTrainStep.cpp - @train_step and @eval_step from @predict ------===//
//
// Builds the two training-time entry points from the imported forward graph:
//   @eval_step(params..., buffers..., x, labels[, targets])
//       -> (loss, correct_count)
//   @train_step(params..., buffers..., state..., step, lr, x, labels[,
//       targets]) -> (loss, correct_count, new params..., new state...,
//       new buffers...)
// With nn.loss's `regression`, `targets` [N, outputs] are the loss's value
// targets and the labels only mark padding rows (-1).
// Parameters and buffers are @predict's arguments tagged nn.param and
// nn.buffer, in that order. @train_step uses the training form of every op
// that has one (TrainingFormOpInterface: dropout, batch normalization),
// and returns the buffers those update.
// The loss is fused with a preceding softmax before autodiff runs, so the
// backward pass gets the stable softmax - onehot gradient.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "mlir/IR/IRMapping.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace gradc {
#define GEN_PASS_DEF_BUILDTRAINSTEP
#include "passes/Passes.h.inc"
} // namespace gradc

using namespace mlir;
using namespace gradc;

namespace {

double getF64(DictionaryAttr d, StringRef name, double dflt) {
  if (auto a = d.getAs<FloatAttr>(name))
    return a.getValueAsDouble();
  return dflt;
}

class TrainStepBuilder {
public:
  TrainStepBuilder(ModuleOp module, func::FuncOp predict, bool withTrainStep)
      : module(module), predict(predict), b(module.getContext()),
        withTrainStep(withTrainStep) {}

  LogicalResult build();

private:
  Value buildLoss(Location loc, Value predictions, Value labels, Value targets);
  LogicalResult buildUpdate(Location loc, Value param, Value grad,
                            ValueRange state, Value step, Value lr,
                            SmallVectorImpl<Value> &newParams,
                            SmallVectorImpl<Value> &newState);
  void fuseLoss(func::FuncOp fn);

  ModuleOp module;
  func::FuncOp predict;
  OpBuilder b;
  bool withTrainStep;
  DictionaryAttr lossAttr, optAttr;
  /// Data-parallel ranks (module attribute nn.data_parallel; 1: none).
  int64_t ranks = 1;

  /// The runtime's allreduce, which nn.allreduce_mean lowers to a call of:
  /// one buffer of floats, averaged over the ranks in place.
  void declareAllreduce() {
    if (module.lookupSymbol(nn::kAllreduceFunction))
      return;
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToEnd(module.getBody());
    auto type = b.getFunctionType(
        {MemRefType::get({ShapedType::kDynamic}, b.getF32Type())}, {});
    auto fn =
        b.create<func::FuncOp>(module.getLoc(), nn::kAllreduceFunction, type);
    fn.setPrivate();
    fn->setAttr("llvm.emit_c_interface", b.getUnitAttr());
  }
};

Value TrainStepBuilder::buildLoss(Location loc, Value predictions, Value labels,
                                  Value targets) {
  StringRef kind = lossAttr.getAs<StringAttr>("kind").getValue();
  OperationState state(loc, ("nn." + kind).str());
  state.addOperands({predictions, labels});
  if (targets)
    state.addOperands(targets);
  state.addTypes(RankedTensorType::get(
      {}, cast<RankedTensorType>(predictions.getType()).getElementType()));
  state.addAttribute("delta",
                     b.getF64FloatAttr(getF64(lossAttr, "delta", 1.0)));
  return b.create(state)->getResult(0);
}

LogicalResult TrainStepBuilder::buildUpdate(Location loc, Value p, Value g,
                                            ValueRange s, Value step, Value lr,
                                            SmallVectorImpl<Value> &newParams,
                                            SmallVectorImpl<Value> &newState) {
  StringRef kind = optAttr.getAs<StringAttr>("kind").getValue();
  // The learning rate is @train_step's `lr` argument, not an attribute.
  FloatAttr noAttr;
  auto wd = b.getF64FloatAttr(getF64(optAttr, "weight_decay", 0.0));
  auto f = [&](StringRef name, double dflt) {
    return b.getF64FloatAttr(getF64(optAttr, name, dflt));
  };
  Type t = p.getType();
  if (kind == "sgd") {
    newParams.push_back(
        b.create<nn::SgdUpdateOp>(loc, t, p, g, noAttr, wd, lr));
  } else if (kind == "momentum") {
    bool nesterov = false;
    if (auto n = optAttr.getAs<BoolAttr>("nesterov"))
      nesterov = n.getValue();
    auto op = b.create<nn::MomentumUpdateOp>(
        loc, t, t, p, g, s[0], noAttr, f("momentum", 0.9),
        nesterov ? b.getUnitAttr() : UnitAttr(), wd, lr);
    newParams.push_back(op.getNewParam());
    newState.push_back(op.getNewVelocity());
  } else if (kind == "rmsprop") {
    auto op = b.create<nn::RmspropUpdateOp>(loc, t, t, p, g, s[0], noAttr,
                                            f("rho", 0.9), f("epsilon", 1e-7),
                                            wd, lr);
    newParams.push_back(op.getNewParam());
    newState.push_back(op.getNewMeanSquare());
  } else if (kind == "adam") {
    auto op = b.create<nn::AdamUpdateOp>(
        loc, t, t, t, p, g, s[0], s[1], step, noAttr, f("beta_1", 0.9),
        f("beta_2", 0.999), f("epsilon", 1e-7), wd, lr);
    newParams.push_back(op.getNewParam());
    newState.push_back(op.getNewM());
    newState.push_back(op.getNewV());
  } else {
    return module.emitError() << "unknown optimizer '" << kind << "'";
  }
  return success();
}

void TrainStepBuilder::fuseLoss(func::FuncOp fn) {
  RewritePatternSet patterns(module.getContext());
  populateFuseSoftmaxCrossEntropyPatterns(patterns);
  (void)applyPatternsAndFoldGreedily(fn, std::move(patterns));
}

LogicalResult TrainStepBuilder::build() {
  lossAttr = module->getAttrOfType<DictionaryAttr>("nn.loss");
  optAttr = module->getAttrOfType<DictionaryAttr>("nn.optimizer");
  if (!lossAttr || !lossAttr.getAs<StringAttr>("kind") ||
      !nn::isLossKind(lossAttr.getAs<StringAttr>("kind").getValue()))
    return module.emitError()
           << "expects a module attribute nn.loss = {kind = \"<loss op>\"}";
  if (!optAttr || !optAttr.getAs<StringAttr>("kind"))
    return module.emitError()
           << "expects a module attribute nn.optimizer = {kind = ...}";
  StringRef optKind = optAttr.getAs<StringAttr>("kind").getValue();
  if (!llvm::is_contained({"sgd", "momentum", "rmsprop", "adam"}, optKind))
    return module.emitError() << "unknown optimizer '" << optKind << "'";

  // @predict(params..., buffers..., x): the last argument is the input batch.
  unsigned numParams = 0, numBuffers = 0;
  for (unsigned i = 0; i + 1 < predict.getNumArguments(); ++i) {
    bool isParam = bool(predict.getArgAttr(i, "nn.param"));
    bool isBuffer = bool(predict.getArgAttr(i, "nn.buffer"));
    if (isBuffer && !isParam) {
      ++numBuffers;
    } else if (numBuffers) {
      return predict.emitError()
             << "expects parameters before buffers (nn.buffer), argument " << i
             << " is not a buffer";
    } else {
      ++numParams;
    }
  }
  unsigned numLeading = numParams + numBuffers;
  Type xType = predict.getArgumentTypes().back();
  int64_t batch = cast<RankedTensorType>(xType).getDimSize(0);
  // Per-token labels: predictions [N, T..., C] of a classifier have a label
  // per position, [N * T...] (the loss and the count see the predictions
  // as [N * T..., C]); -1 marks a label that does not count.
  bool regressionLoss = bool(lossAttr.get("regression"));
  int64_t perExample = 1;
  RankedTensorType outType;
  if (!predict.getResultTypes().empty())
    outType = dyn_cast<RankedTensorType>(predict.getResultTypes().front());
  bool perPosition = outType && outType.getRank() > 2 && !regressionLoss &&
                     outType.hasStaticShape();
  if (perPosition)
    for (int64_t d : outType.getShape().drop_front().drop_back())
      perExample *= d;
  Type labelsType = RankedTensorType::get({batch * perExample}, b.getI32Type());
  Type stepType = RankedTensorType::get({}, b.getI64Type());
  Type countType = RankedTensorType::get({}, b.getI64Type());
  Type lrType = RankedTensorType::get({}, b.getF32Type());
  bool regression = regressionLoss;
  if (auto p = module->getAttrOfType<IntegerAttr>("nn.data_parallel"))
    ranks = p.getInt();
  Type targetsType = predict.getResultTypes().empty()
                         ? Type()
                         : predict.getResultTypes().front();
  SmallVector<Type> paramTypes(
      predict.getArgumentTypes().take_front(numParams));
  SmallVector<Type> leadingTypes(
      predict.getArgumentTypes().take_front(numLeading));
  SmallVector<StringRef> slots = nn::optimizerStateSlots(optKind);
  Location loc = predict.getLoc();
  b.setInsertionPointToEnd(module.getBody());

  for (bool training : {false, true}) {
    // Each function is built once: the fused stage builds @eval_step, the
    // train stage adds @train_step.
    if (module.lookupSymbol(training ? "train_step" : "eval_step") ||
        (training && !withTrainStep))
      continue;
    // Signature.
    SmallVector<Type> args(leadingTypes);
    SmallVector<Type> stateTypes;
    if (training) {
      for (Type t : paramTypes)
        for (size_t k = 0; k < slots.size(); ++k)
          stateTypes.push_back(t);
      args.append(stateTypes);
      args.push_back(stepType);
      args.push_back(lrType);
    }
    unsigned xIndex = args.size(), labelsIndex = xIndex + 1;
    args.push_back(xType);
    args.push_back(labelsType);
    if (regression)
      args.push_back(targetsType);
    auto fn = b.create<func::FuncOp>(loc, training ? "train_step" : "eval_step",
                                     b.getFunctionType(args, {}));
    for (unsigned i = 0; i < numLeading; ++i)
      fn.setArgAttrs(i, predict.getArgAttrDict(i));
    for (unsigned i = 0; i < stateTypes.size(); ++i) {
      auto pname =
          predict.getArgAttrOfType<StringAttr>(i / slots.size(), "nn.param");
      std::string name = pname ? pname.str() : "param";
      fn.setArgAttr(
          numLeading + i, "nn.state",
          b.getStringAttr(name + "." + slots[i % slots.size()].str()));
    }
    fn.setArgAttrs(xIndex, predict.getArgAttrDict(numLeading));
    fn.setArgAttr(labelsIndex, "nn.labels", b.getUnitAttr());
    if (regression)
      fn.setArgAttr(labelsIndex + 1, "nn.targets", b.getUnitAttr());
    if (training) {
      fn.setArgAttr(xIndex - 2, "nn.step", b.getUnitAttr());
      fn.setArgAttr(xIndex - 1, "nn.learning_rate", b.getUnitAttr());
    }
    Block *entry = fn.addEntryBlock();
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(entry);

    // Forward graph; in training, each op with a training form uses it.
    IRMapping mapping;
    for (unsigned i = 0; i < numLeading; ++i)
      mapping.map(predict.getArgument(i), entry->getArgument(i));
    mapping.map(predict.getArgument(numLeading), entry->getArgument(xIndex));
    Value step = training ? entry->getArgument(xIndex - 2) : Value();
    Value lr = training ? entry->getArgument(xIndex - 1) : Value();
    Value labels = entry->getArgument(labelsIndex);
    Value targets = regression ? entry->getArgument(labelsIndex + 1) : Value();
    Operation *predictRet = predict.getBody().front().getTerminator();
    SmallVector<std::pair<Value, Value>> bufferUpdates;
    for (Operation &op : predict.getBody().front().without_terminator()) {
      Operation *clone = b.clone(op, mapping);
      auto modal = dyn_cast<nn::TrainingFormOpInterface>(clone);
      if (!training || !modal)
        continue;
      // The labels mark padding rows (-1), which batch statistics skip
      // (per-token labels do not mark rows: statistics take every row).
      auto replacement = modal.buildTrainingForm(
          b, step, perPosition ? Value() : labels, bufferUpdates);
      if (failed(replacement))
        return failure();
      for (auto [from, to] : llvm::zip(op.getResults(), *replacement))
        mapping.map(from, to);
      clone->erase();
    }
    Value predictions = mapping.lookup(predictRet->getOperand(0));
    if (perPosition)
      predictions = b.create<nn::ReshapeOp>(
          loc,
          RankedTensorType::get({batch * perExample, outType.getShape().back()},
                                outType.getElementType()),
          predictions);
    Value loss = buildLoss(loc, predictions, labels, targets);
    // The updated buffers are returned from the start, so that the loss
    // fusion's clean-up does not erase them as dead.
    SmallVector<Value> live{loss};
    for (auto [buffer, updated] : bufferUpdates)
      live.push_back(updated);
    auto ret = b.create<func::ReturnOp>(loc, live);
    fuseLoss(fn);
    for (size_t k = 0; k < bufferUpdates.size(); ++k)
      bufferUpdates[k].second = ret.getOperand(k + 1);
    // The loss op's predictions (logits after fusion) give the same argmax.
    loss = ret.getOperand(0);
    Operation *lossOp = loss.getDefiningOp();
    b.setInsertionPoint(ret);
    Value correct = b.create<nn::CorrectCountOp>(loc, countType,
                                                 lossOp->getOperand(0), labels);
    SmallVector<Value> results{loss, correct};
    if (training) {
      SmallVector<Value> params(entry->getArguments().take_front(numParams));
      auto grads = buildGradients(*entry, loss, params);
      if (failed(grads))
        return failure();
      b.setInsertionPoint(ret);
      // Data parallelism: every rank's gradients (of its share of the
      // global batch) are averaged before the update.
      if (ranks > 1 && !grads->empty()) {
        auto mean = b.create<nn::AllreduceMeanOp>(loc, *grads, ranks);
        grads->assign(mean.getOutputs().begin(), mean.getOutputs().end());
        declareAllreduce();
      }
      SmallVector<Value> newParams, newState;
      for (unsigned i = 0; i < numParams; ++i) {
        ValueRange state = entry->getArguments().slice(
            numLeading + i * slots.size(), slots.size());
        if (failed(buildUpdate(params[i].getLoc(), params[i], (*grads)[i],
                               state, step, lr, newParams, newState)))
          return failure();
      }
      results.append(newParams);
      results.append(newState);
      // Every buffer comes back, updated or as it was.
      for (unsigned i = 0; i < numBuffers; ++i) {
        Value buffer = entry->getArgument(numParams + i), updated = buffer;
        for (auto [from, to] : bufferUpdates)
          if (from == buffer)
            updated = to;
        results.push_back(updated);
      }
    }
    ret->setOperands(results);
    fn.setFunctionType(b.getFunctionType(args, ValueRange(results).getTypes()));
    eraseDeadOps(*entry);
  }
  return success();
}

struct BuildTrainStep : gradc::impl::BuildTrainStepBase<BuildTrainStep> {
  using BuildTrainStepBase::BuildTrainStepBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto predict = module.lookupSymbol<func::FuncOp>("predict");
    if (!predict || predict.isExternal()) {
      module.emitError() << "expects a @predict function";
      return signalPassFailure();
    }
    if (failed(TrainStepBuilder(module, predict, trainStep).build()))
      signalPassFailure();
  }
};

} // namespace
