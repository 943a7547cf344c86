//===- JitModelTest.cpp - whole models through the JIT --------------------===//
//
// @train_step, @eval_step and @predict of whole models (examples/ and
// tests/models/) compiled by gradc's pipeline and JIT-compiled, compared with
// the reference evaluator on the Stage::Train module (JitCompare.h); and a
// partial batch run padded by the batch-5 module gives what the module
// compiled for exactly that batch gives.
//
//===----------------------------------------------------------------------===//

#include "JitCompare.h"

#include "frontend/Importer.h"

#include "gtest/gtest.h"

#include <filesystem>

using namespace gradc;
using namespace gradc::test;

namespace {

//===----------------------------------------------------------------------===//
// Whole models: one training step through gradc's pipeline
//===----------------------------------------------------------------------===//

class JitModel : public ::testing::TestWithParam<std::string> {};

/// Random arguments of an entry point: parameters in [-0.3, 0.3],
/// non-negative optimizer second moments, images in [0, 1], labels below
/// the number of classes, and step 4.
std::vector<Value32> modelArgs(mlir::func::FuncOp fn, std::mt19937_64 &rng) {
  std::vector<Value32> args;
  // The images come last, or just before the labels.
  unsigned n = fn.getNumArguments();
  unsigned image = isFloatTensor(fn.getArgumentTypes().back()) ? n - 1 : n - 2;
  for (mlir::BlockArgument a : fn.getArguments()) {
    Value32 v = zerosOf(a.getType());
    if (fn.getArgAttr(a.getArgNumber(), "nn.input") &&
        !std::get_if<FloatTensor>(&v)) {
      // Integer ids below the rows of the tables that read them: a small
      // table, so ids repeat within the batch.
      uint64_t rows = 1u << 30;
      for (mlir::Operation *user : a.getUsers())
        if (auto e = mlir::dyn_cast<nn::EmbeddingOp>(user))
          rows = std::min<uint64_t>(
              rows, mlir::cast<mlir::RankedTensorType>(e.getTable().getType())
                        .getDimSize(0));
      std::visit(
          [&](auto &t) {
            for (auto &x : t.data)
              x = decltype(x + 0)(rng() % rows);
          },
          v);
      args.push_back(std::move(v));
      continue;
    }
    if (auto *t = std::get_if<FloatTensor>(&v)) {
      bool isImage = a.getArgNumber() == image;
      bool secondMoment = llvm::any_of(a.getUses(), [](mlir::OpOperand &u) {
        return (mlir::isa<nn::RmspropUpdateOp>(u.getOwner()) &&
                u.getOperandNumber() == 2) ||
               (mlir::isa<nn::AdamUpdateOp>(u.getOwner()) &&
                u.getOperandNumber() == 3);
      });
      // Running variances of batch norm's inference form: positive.
      bool variance = llvm::any_of(a.getUses(), [](mlir::OpOperand &u) {
        return (mlir::isa<nn::BatchNormOp>(u.getOwner()) &&
                u.getOperandNumber() == 4) ||
               (mlir::isa<nn::Conv2DBatchNormOp>(u.getOwner()) &&
                u.getOperandNumber() == 6);
      });
      double lo = isImage || secondMoment ? 0.0 : variance ? 0.5 : -0.3;
      double hi = isImage ? 1.0 : secondMoment ? 0.01 : variance ? 1.5 : 0.3;
      std::uniform_real_distribution<double> u(lo, hi);
      for (float &x : t->data)
        x = float(u(rng));
    } else if (auto *l = std::get_if<HostTensor<int32_t>>(&v)) {
      int64_t classes = labelClasses(a);
      for (int32_t &x : l->data)
        x = int32_t(rng() % uint64_t(classes));
    } else {
      std::get<HostTensor<int64_t>>(v).data[0] = 4;
    }
    args.push_back(std::move(v));
  }
  return args;
}

/// Calls @name of `jit` and compares with the evaluator on `reference`:
/// results that update an argument in place are read back from it.
void expectStepMatches(const JitModule &jit, mlir::ModuleOp lowered,
                       mlir::func::FuncOp reference, const std::string &name,
                       std::mt19937_64 &rng) {
  SCOPED_TRACE("@" + name);
  std::vector<Value32> args = modelArgs(reference, rng);
  std::vector<Value32> expected = valueOrFail(evaluate<float>(reference, args));
  ASSERT_EQ(expected.size(), reference.getNumResults());
  expectCallMatches(jit, lowered, reference, name, std::move(args), expected);
}

/// One call of each entry point (@train_step, then @eval_step and @predict
/// on fresh arguments) of a model at batch 3.
TEST_P(JitModel, StepsMatchEvaluator) {
  auto ctx = makeContext();
  registerPassesOnce();
  auto imported = importModelFile(*ctx, GetParam(), /*batchSize=*/3);
  ASSERT_TRUE(imported.ok()) << imported.status().message();

  mlir::OwningOpRef<mlir::ModuleOp> train = (*imported)->clone();
  mlir::PassManager pm(ctx.get());
  buildPipeline(pm, Stage::Train);
  ASSERT_TRUE(mlir::succeeded(pm.run(*train)));

  mlir::OwningOpRef<mlir::ModuleOp> lowered = (*imported)->clone();
  auto jit = lowerAndJit(
      *lowered, [](mlir::OpPassManager &p) { buildPipeline(p, Stage::LLVM); });
  ASSERT_TRUE(jit);

  std::mt19937_64 rng(11);
  for (const char *name : {"train_step", "eval_step", "predict"}) {
    auto fn = train->lookupSymbol<mlir::func::FuncOp>(name);
    ASSERT_TRUE(fn) << name;
    expectStepMatches(*jit, *lowered, fn, name, rng);
  }
}

/// A partial batch of 3 examples run padded to 5 (zero images, labels -1)
/// by the batch-5 module gives what the module compiled for exactly 3
/// gives: loss, correct count, updated parameters, optimizer state and
/// running statistics (batch norm's statistics skip the padding rows),
/// within 1e-6 relative.
TEST_P(JitModel, PaddedPartialBatchMatchesExactBatch) {
  auto ctx = makeContext();
  registerPassesOnce();
  std::unique_ptr<JitModule> jits[2];
  mlir::OwningOpRef<mlir::ModuleOp> modules[2];
  const int64_t sizes[2] = {3, 5};
  for (int k = 0; k < 2; ++k) {
    auto imported = importModelFile(*ctx, GetParam(), sizes[k]);
    ASSERT_TRUE(imported.ok()) << imported.status().message();
    modules[k] = std::move(*imported);
    // Both at -O0: the comparison is of two modules, and quick.
    jits[k] = lowerAndJit(
        *modules[k],
        [](mlir::OpPassManager &p) { buildPipeline(p, Stage::LLVM); },
        /*optLevel=*/0);
    ASSERT_TRUE(jits[k]);
  }
  // The Stage::Train module of batch 3 gives the argument types.
  auto train = importModelFile(*ctx, GetParam(), 3);
  ASSERT_TRUE(train.ok());
  mlir::PassManager pm(ctx.get());
  buildPipeline(pm, Stage::Train);
  ASSERT_TRUE(mlir::succeeded(pm.run(**train)));

  std::mt19937_64 rng(5);
  for (const char *name : {"train_step", "eval_step"}) {
    SCOPED_TRACE(name);
    auto fn = (*train)->lookupSymbol<mlir::func::FuncOp>(name);
    ASSERT_TRUE(fn);
    std::vector<Value32> exact = modelArgs(fn, rng);
    // Pad the images, labels and (regression) targets to 5 rows.
    std::vector<Value32> padded = exact;
    for (unsigned i = 0; i < fn.getNumArguments(); ++i) {
      if (fn.getArgAttr(i, "nn.labels")) {
        // One label per example, or per position ([N * T]).
        auto &labels = std::get<HostTensor<int32_t>>(padded[i]);
        labels.shape[0] = labels.shape[0] / 3 * 5;
        labels.data.resize(size_t(labels.shape[0]), -1);
      } else if (fn.getArgAttr(i, "nn.input") ||
                 fn.getArgAttr(i, "nn.targets")) {
        // Floats or integer ids, padded with zeros.
        std::visit(
            [](auto &x) {
              x.shape[0] = 5;
              x.data.resize(x.data.size() / 3 * 5, 0);
            },
            padded[i]);
      }
    }
    std::vector<int> alias = inPlaceArguments(fn);
    std::vector<Value32> results[2];
    for (int k = 0; k < 2; ++k) {
      std::vector<Value32> buffers = k ? padded : exact;
      size_t numArgs = buffers.size();
      for (size_t r = 0; r < alias.size(); ++r)
        if (alias[r] < 0)
          buffers.push_back(zerosOf(fn.getResultTypes()[r]));
      std::vector<BufferRef> refs;
      for (Value32 &b : buffers)
        refs.push_back(refTo(b));
      absl::Status s = jits[k]->call(name, refs);
      ASSERT_TRUE(s.ok()) << s.message();
      size_t out = numArgs;
      for (size_t r = 0; r < alias.size(); ++r)
        results[k].push_back(buffers[alias[r] >= 0 ? alias[r] : out++]);
    }
    for (size_t r = 0; r < alias.size(); ++r) {
      SCOPED_TRACE("result " + std::to_string(r));
      if (auto *a = std::get_if<FloatTensor>(&results[1][r])) {
        const auto &b = std::get<FloatTensor>(results[0][r]);
        ASSERT_EQ(a->data.size(), b.data.size());
        for (size_t i = 0; i < a->data.size(); ++i)
          EXPECT_NEAR(a->data[i], b.data[i],
                      1e-6 * std::max(1.0f, std::abs(b.data[i])))
              << "element " << i;
      } else if (auto *c = std::get_if<HostTensor<int64_t>>(&results[1][r])) {
        EXPECT_EQ(c->data, std::get<HostTensor<int64_t>>(results[0][r]).data);
      }
    }
  }
}

std::vector<std::string> modelFiles() {
  std::vector<std::string> files;
  for (const char *dir :
       {GRADC_SOURCE_DIR "/examples", GRADC_SOURCE_DIR "/tests/models"})
    for (auto &entry : std::filesystem::directory_iterator(dir))
      // The language model (245 MFLOP per example through the reference
      // evaluator: two minutes) is left to gradcheck_char_transformer;
      // tests/models/attention_causal.pbtxt has the same layers. The
      // weather LSTM's 30 unrolled steps took 3 minutes of compiling here
      // (tests/models/recurrent_*.pbtxt have its layers; e2e_recurrent_torch
      // trains it).
      if (entry.path().extension() == ".pbtxt" &&
          entry.path().stem() != "char_transformer" &&
          entry.path().stem() != "weather_lstm")
        files.push_back(entry.path().string());
  std::sort(files.begin(), files.end());
  return files;
}

INSTANTIATE_TEST_SUITE_P(
    Models, JitModel, ::testing::ValuesIn(modelFiles()),
    [](const ::testing::TestParamInfo<std::string> &info) {
      return std::filesystem::path(info.param).stem().string();
    });

} // namespace
