//===- Gradcheck.cpp - gradc gradcheck ------------------------------------===//
//
// Checks the gradients the compiler builds against finite differences. The
// model is compiled to @train_step with a small batch and run by the
// reference evaluator in double: the analytic gradient of a parameter is the
// `grad` operand of its update op, the numeric one the central difference
// of the step's loss. Dropout masks are a function of the step, so the loss
// is deterministic and the difference is meaningful.
//
//===----------------------------------------------------------------------===//

#include "tools/Commands.h"
#include "tools/Session.h"

#include "runtime/evaluator/ReferenceEvaluator.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/raw_ostream.h"

#include <cmath>
#include <optional>
#include <random>

using namespace llvm;
using namespace mlir;

namespace gradc {

cl::SubCommand &gradcheckCommand() {
  static cl::SubCommand sub(
      "gradcheck", "Check the compiled gradients against finite differences");
  return sub;
}

namespace {
cl::opt<std::string> modelPath(cl::Positional, cl::desc("MODEL"), cl::Required,
                               cl::sub(gradcheckCommand()));
cl::opt<int64_t> batchSize("batch-size", cl::desc("Batch size (default: 2)"),
                           cl::init(2), cl::sub(gradcheckCommand()));
cl::opt<int64_t> seedFlag("seed",
                          cl::desc("Seed of the random parameters, inputs and "
                                   "labels (default: the model's seed)"),
                          cl::init(-1), cl::sub(gradcheckCommand()));
cl::opt<unsigned> samples("samples",
                          cl::desc("Elements checked per parameter (default: "
                                   "16; all of them in smaller parameters)"),
                          cl::init(16), cl::sub(gradcheckCommand()));

/// Caffe's criterion: |g - g'| <= tol * max(|g|, |g'|, 1).
constexpr double kTolerance = 1e-4;
constexpr double kEpsilon = 1e-6;

using Tensor = HostTensor<double>;
using Value64 = HostValue<double>;

double relativeError(double a, double b) {
  return std::abs(a - b) / std::max({std::abs(a), std::abs(b), 1.0});
}

std::string shapeStr(ArrayRef<int64_t> shape) {
  return llvm::join(
      llvm::map_range(shape, [](int64_t d) { return std::to_string(d); }), "x");
}

/// The update op (sgd, momentum, rmsprop, adam) that consumes `param` as
/// its parameter operand.
Operation *updateOf(BlockArgument param) {
  for (Operation *user : param.getUsers())
    if (isa<nn::SgdUpdateOp, nn::MomentumUpdateOp, nn::RmspropUpdateOp,
            nn::AdamUpdateOp>(user) &&
        user->getOperand(0) == param)
      return user;
  return nullptr;
}

struct Param {
  std::string name;
  unsigned arg;
  mlir::Value grad; // the update's gradient operand
};

/// Deterministic draws that do not depend on the standard library's
/// distribution algorithms, so a seed gives the same check everywhere.
class Rng {
public:
  explicit Rng(uint64_t seed) : gen(seed) {}
  double uniform(double lo, double hi) {
    return lo + (hi - lo) * double(gen() >> 11) * 0x1.0p-53;
  }
  uint64_t below(uint64_t n) { return gen() % n; }

private:
  std::mt19937_64 gen;
};

} // namespace

int runGradcheck() {
  Session session;
  const ResolvedModel *model = session.load(modelPath);
  if (!model)
    return 1;
  if (batchSize <= 0 || batchSize > kMaxBatch) {
    errs() << "gradc gradcheck: error: --batch-size must be in [1, "
           << kMaxBatch << "], got " << batchSize << "\n";
    return 1;
  }
  auto module = session.importLoaded(batchSize);
  if (!module || failed(session.runPipeline(**module, Stage::Train)))
    return 1;
  auto fn = (*module)->lookupSymbol<func::FuncOp>("train_step");
  if (!fn) {
    errs() << modelPath << ": internal error: no @train_step was built\n";
    return 1;
  }
  uint64_t seed = seedFlag >= 0 ? uint64_t(seedFlag) : uint64_t(model->seed);
  Rng rng(seed);

  // The loss op's predictions give the number of classes of the labels.
  auto ret = cast<func::ReturnOp>(fn.getBody().front().getTerminator());
  Operation *lossOp = ret.getOperand(0).getDefiningOp();
  int64_t classes =
      cast<RankedTensorType>(lossOp->getOperand(0).getType()).getDimSize(1);

  // Arguments: glorot-scaled parameters, zero optimizer state, step 0, a
  // random batch and random labels.
  std::vector<Value64> args;
  std::vector<Param> params;
  for (unsigned i = 0; i < fn.getNumArguments(); ++i) {
    auto type = cast<RankedTensorType>(fn.getArgument(i).getType());
    std::vector<int64_t> shape(type.getShape().begin(), type.getShape().end());
    if (auto name = fn.getArgAttrOfType<StringAttr>(i, "nn.param")) {
      const ParamSpec *spec = nullptr;
      for (const ParamSpec &p : model->params)
        if (p.name == name.getValue())
          spec = &p;
      Tensor t(shape);
      if (spec && spec->constant != 0.0f) {
        // A PReLU alpha: around its initial slope, varied per channel.
        for (double &v : t.data)
          v = spec->constant + rng.uniform(-0.1, 0.1);
      } else {
        double fanIn = spec ? double(spec->fanIn) : 1.0;
        double fanOut = spec ? double(spec->fanOut) : 1.0;
        double limit = std::sqrt(6.0 / (fanIn + fanOut));
        for (double &v : t.data)
          v = rng.uniform(-limit, limit);
      }
      args.push_back(std::move(t));
      Operation *update = updateOf(fn.getArgument(i));
      if (!update) {
        errs() << modelPath << ": internal error: parameter '"
               << name.getValue() << "' has no update op in @train_step\n";
        return 1;
      }
      params.push_back({name.str(), i, update->getOperand(1)});
    } else if (fn.getArgAttr(i, "nn.learning_rate")) {
      args.push_back(Tensor(shape, model->optimizer.learningRate));
    } else if (fn.getArgAttr(i, "nn.input") &&
               isa<IntegerType>(type.getElementType())) {
      // Integer ids: in range of the smallest table that reads them, and
      // never perturbed (only parameters are).
      int64_t rows = 0;
      for (Operation *user : fn.getArgument(i).getUsers())
        if (auto e = dyn_cast<nn::EmbeddingOp>(user)) {
          int64_t v =
              cast<RankedTensorType>(e.getTable().getType()).getDimSize(0);
          rows = rows ? std::min(rows, v) : v;
        }
      rows = std::max<int64_t>(rows, 1);
      if (type.getElementType().isSignlessInteger(32)) {
        HostTensor<int32_t> t(shape);
        for (int32_t &v : t.data)
          v = int32_t(rng.below(uint64_t(rows)));
        args.push_back(std::move(t));
      } else {
        HostTensor<int64_t> t(shape);
        for (int64_t &v : t.data)
          v = int64_t(rng.below(uint64_t(rows)));
        args.push_back(std::move(t));
      }
    } else if (fn.getArgAttr(i, "nn.input")) {
      Tensor t(shape);
      for (double &v : t.data)
        v = rng.uniform(-1.0, 1.0);
      args.push_back(std::move(t));
    } else if (fn.getArgAttr(i, "nn.targets")) {
      Tensor t(shape); // regression targets
      for (double &v : t.data)
        v = rng.uniform(-1.0, 1.0);
      args.push_back(std::move(t));
    } else if (fn.getArgAttr(i, "nn.labels")) {
      HostTensor<int32_t> t(shape);
      for (int32_t &v : t.data)
        v = int32_t(rng.below(uint64_t(std::max<int64_t>(classes, 2))));
      args.push_back(std::move(t));
    } else if (type.getElementType().isSignlessInteger(64)) {
      args.push_back(HostTensor<int64_t>(shape, 0)); // the step
    } else {
      args.push_back(Tensor(shape)); // optimizer state starts at zero
    }
  }

  // One full step: the loss and, through the observer, the gradients.
  llvm::DenseMap<mlir::Value, Tensor> grads;
  for (const Param &p : params)
    grads[p.grad] = Tensor();
  auto full =
      evaluate<double>(fn, args, [&](mlir::Value v, const Value64 &value) {
        auto it = grads.find(v);
        if (it != grads.end())
          it->second = std::get<Tensor>(value);
      });
  if (!full.ok()) {
    errs() << modelPath << ": error: " << std::string(full.status().message())
           << "\n";
    return 1;
  }
  double loss0 = std::get<Tensor>((*full)[0])[0];
  auto lossAt = [&](const Param &p, int64_t index,
                    double delta) -> std::optional<double> {
    std::vector<Value64> shifted = args;
    std::get<Tensor>(shifted[p.arg])[index] += delta;
    auto result = evaluateResults<double>(fn, std::move(shifted), {0});
    if (!result.ok()) {
      errs() << modelPath
             << ": error: " << std::string(result.status().message()) << "\n";
      return std::nullopt;
    }
    return std::get<Tensor>((*result)[0])[0];
  };

  outs() << "gradcheck " << model->name << ": batch " << batchSize << ", seed "
         << seed << ", loss " << format("%.6g", loss0) << ", "
         << model->lossKind << " + " << model->optimizer.kind << ", tolerance "
         << format("%g", kTolerance) << "\n";
  size_t nameWidth = 0;
  for (const Param &p : params)
    nameWidth = std::max(nameWidth, p.name.size());

  double worstOverall = 0;
  unsigned failedParams = 0;
  for (const Param &p : params) {
    const Tensor &g = grads[p.grad];
    const Tensor &value = std::get<Tensor>(args[p.arg]);
    int64_t n = value.numElements();
    if (g.numElements() != n) {
      errs() << modelPath << ": internal error: the gradient of '" << p.name
             << "' has " << g.numElements() << " elements, expected " << n
             << "\n";
      return 1;
    }
    // Which elements: all of a small parameter, else distinct random ones.
    std::vector<int64_t> indices;
    if (n <= int64_t(samples)) {
      for (int64_t i = 0; i < n; ++i)
        indices.push_back(i);
    } else {
      std::vector<int64_t> all(n);
      for (int64_t i = 0; i < n; ++i)
        all[i] = i;
      for (unsigned k = 0; k < samples; ++k) {
        std::swap(all[k], all[k + rng.below(uint64_t(n - k))]);
        indices.push_back(all[k]);
      }
    }
    double worst = 0, worstNumeric = 0, worstAnalytic = 0;
    int64_t worstIndex = -1;
    unsigned retried = 0;
    for (int64_t index : indices) {
      // A ReLU, max-pool or hinge kink within eps of the point spoils the
      // difference; a smaller step then moves past it, while a wrong rule
      // stays wrong at every step.
      double err = 0, numeric = 0;
      int attempts = 0;
      for (double eps : {kEpsilon, kEpsilon / 10, kEpsilon / 100}) {
        auto plus = lossAt(p, index, eps), minus = lossAt(p, index, -eps);
        if (!plus || !minus)
          return 1;
        numeric = (*plus - *minus) / (2 * eps);
        err = relativeError(g[index], numeric);
        ++attempts;
        if (err <= kTolerance)
          break;
      }
      retried += attempts > 1;
      if (err >= worst) {
        worst = err;
        worstIndex = index;
        worstNumeric = numeric;
        worstAnalytic = g[index];
      }
    }
    bool ok = worst <= kTolerance;
    failedParams += !ok;
    worstOverall = std::max(worstOverall, worst);
    outs() << "  " << left_justify(p.name, nameWidth) << "  "
           << left_justify(shapeStr(value.shape), 12) << " "
           << format("%3zu", indices.size()) << " samples  max error "
           << format("%.2e", worst) << (ok ? "  ok" : "  FAIL");
    if (!ok)
      outs() << " (element " << worstIndex << ": analytic "
             << format("%.8g", worstAnalytic) << ", numeric "
             << format("%.8g", worstNumeric) << ")";
    if (retried)
      outs() << " (" << retried << " retried with a smaller step)";
    outs() << "\n";
  }
  if (failedParams) {
    outs() << "FAIL: " << failedParams << " of " << params.size()
           << " parameters have gradients off by more than "
           << format("%g", kTolerance) << "\n";
    return 1;
  }
  outs() << "PASS: " << params.size() << " parameters, worst error "
         << format("%.2e", worstOverall) << "\n";
  return 0;
}

} // namespace gradc
