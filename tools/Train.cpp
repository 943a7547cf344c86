//===- Train.cpp - gradc train, eval and predict --------------------------===//
//
// The runtime subcommands: compile the model once for its batch (a partial
// last batch runs padded), JIT it, and run the trainer.
//
//===----------------------------------------------------------------------===//

#include "support/Stopwatch.h"
#include "tools/Commands.h"
#include "tools/Compiler.h"
#include "tools/LoadData.h"
#include "tools/Session.h"
#include "tools/TrainReport.h"

#include "frontend/ModelBudget.h"
#include "support/Files.h"

#include "runtime/data/NpyFormat.h"
#include "runtime/distributed/Distributed.h"
#include "runtime/trainer/Normalization.h"
#include "runtime/trainer/Trainer.h"

#include "absl/strings/match.h"
#include "absl/strings/str_format.h"
#include "llvm/Support/raw_ostream.h"

#include <chrono>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <unistd.h>

using namespace llvm;

namespace gradc {

cl::SubCommand &trainCommand() {
  static cl::SubCommand sub("train", "JIT-compile and train a model");
  return sub;
}
cl::SubCommand &evalCommand() {
  static cl::SubCommand sub("eval", "Evaluate trained weights on the test set");
  return sub;
}
cl::SubCommand &reportCommand() {
  static cl::SubCommand sub(
      "report", "Write the HTML report of trained weights on the test set");
  return sub;
}
cl::SubCommand &predictCommand() {
  static cl::SubCommand sub(
      "predict", "Class probabilities (or regression values) for examples");
  return sub;
}

namespace {
cl::opt<std::string> trainModel(cl::Positional, cl::desc("MODEL"), cl::Required,
                                cl::sub(trainCommand()), cl::sub(evalCommand()),
                                cl::sub(reportCommand()),
                                cl::sub(predictCommand()));
cl::opt<std::string> dataDir("data",
                             cl::desc("The data: a directory (IDX files, "
                                      "CIFAR binaries or class folders), an "
                                      ".npz or a .csv file (default: the "
                                      "model's data { ... })"),
                             cl::value_desc("PATH"), cl::sub(trainCommand()),
                             cl::sub(evalCommand()), cl::sub(reportCommand()));
cl::opt<int64_t> epochs("epochs", cl::desc("Epochs (default: the model's)"),
                        cl::init(0), cl::sub(trainCommand()));
cl::opt<int64_t> batchSize("batch-size",
                           cl::desc("Batch size (default: the model's)"),
                           cl::init(0), cl::sub(trainCommand()),
                           cl::sub(evalCommand()), cl::sub(reportCommand()),
                           cl::sub(predictCommand()));
cl::opt<int64_t> threads("threads", cl::desc("Threads (default: all cores)"),
                         cl::init(0), cl::sub(trainCommand()),
                         cl::sub(evalCommand()), cl::sub(reportCommand()),
                         cl::sub(predictCommand()));
cl::opt<int64_t> seed("seed", cl::desc("Seed (default: the model's)"),
                      cl::init(-1), cl::sub(trainCommand()));
cl::opt<std::string>
    checkpoint("checkpoint", cl::desc("Write a checkpoint after every epoch"),
               cl::value_desc("FILE"), cl::sub(trainCommand()));
cl::opt<std::string> checkpointBest(
    "checkpoint-best",
    cl::desc("Write a checkpoint whenever the validation metric improves "
             "(early_stopping's monitor, else the validation loss)"),
    cl::value_desc("FILE"), cl::sub(trainCommand()));
cl::opt<std::string> reportOut("o", cl::desc("Report directory"),
                               cl::value_desc("DIR"), cl::Required,
                               cl::sub(reportCommand()));
cl::opt<std::string> reportDir(
    "report",
    cl::desc("Write an HTML report (curves, confusion matrix, filters, "
             "feature maps) to DIR/index.html, updated every epoch"),
    cl::value_desc("DIR"), cl::sub(trainCommand()));
cl::opt<std::string> exportOnnxFile(
    "export-onnx",
    cl::desc("At the end, write the trained model as an ONNX model"),
    cl::value_desc("FILE"), cl::sub(trainCommand()));
cl::opt<std::string> resume("resume",
                            cl::desc("Resume training from a checkpoint"),
                            cl::value_desc("FILE"), cl::sub(trainCommand()));
cl::opt<std::string>
    initFrom("init-from", cl::desc("Start from a checkpoint's weights only"),
             cl::value_desc("FILE"), cl::sub(trainCommand()));
cl::opt<std::string> metricsJson("metrics-json",
                                 cl::desc("Append one JSON object per epoch"),
                                 cl::value_desc("FILE"),
                                 cl::sub(trainCommand()));
cl::opt<int64_t> maxSteps("max-steps", cl::desc("Stop after N steps"),
                          cl::init(-1), cl::sub(trainCommand()));
cl::opt<bool> noShuffle("no-shuffle", cl::desc("Do not shuffle each epoch"),
                        cl::sub(trainCommand()));
cl::opt<bool> dropLast("drop-last",
                       cl::desc("Drop a partial last batch of each epoch"),
                       cl::sub(trainCommand()));
cl::opt<int> optLevel("opt-level", cl::desc("LLVM optimization level (0-3)"),
                      cl::init(2), cl::sub(trainCommand()),
                      cl::sub(evalCommand()), cl::sub(reportCommand()),
                      cl::sub(predictCommand()));
cl::opt<double> memoryLimit(
    "memory-limit",
    cl::desc("Refuse a run whose step needs more than this many GiB "
             "(default: the smallest of the machine's physical memory, "
             "RLIMIT_AS and RLIMIT_DATA less what the process already uses, "
             "and the cgroup's memory limit)"),
    cl::value_desc("GIB"), cl::init(0), cl::sub(trainCommand()),
    cl::sub(evalCommand()), cl::sub(reportCommand()),
    cl::sub(predictCommand()));
cl::opt<bool> timing("timing",
                     cl::desc("Report compile times (or a compile cache hit)"),
                     cl::sub(trainCommand()), cl::sub(evalCommand()),
                     cl::sub(reportCommand()), cl::sub(predictCommand()));
cl::opt<bool> noCache("no-cache",
                      cl::desc("Compile without the compile cache (neither "
                               "read nor written)"),
                      cl::sub(trainCommand()), cl::sub(evalCommand()),
                      cl::sub(reportCommand()), cl::sub(predictCommand()));

/// How the runtime subcommands compile.
CompilerOptions compilerOptions(int threads) {
  CompilerOptions o;
  o.threads = threads;
  o.optLevel = optLevel;
  o.useCache = !noCache;
  o.timing = timing;
  return o;
}
cl::opt<std::string> weights("weights", cl::desc("Checkpoint with the weights"),
                             cl::value_desc("FILE"), cl::sub(evalCommand()),
                             cl::sub(reportCommand()),
                             cl::sub(predictCommand()));
cl::opt<std::string> predictOut(
    "o",
    cl::desc("Also write the probabilities to FILE as a NumPy .npy array "
             "(float32, [images, classes])"),
    cl::value_desc("FILE"), cl::sub(predictCommand()));
cl::opt<std::string>
    inputFile("input",
              cl::desc("Examples: an IDX image file (raw or .gz), a .npy "
                       "array, or a PNG or JPEG image"),
              cl::value_desc("FILE"), cl::sub(predictCommand()));

} // namespace

bool flagInRange(const char *command, const cl::opt<int64_t> &flag, int64_t lo,
                 int64_t hi) {
  if (!flag.getNumOccurrences() || (flag >= lo && flag <= hi))
    return true;
  std::cerr << "gradc " << command << ": error: --" << flag.ArgStr.str()
            << " must be in [" << lo << ", " << hi << "], got " << int64_t(flag)
            << "\n";
  return false;
}

namespace {

/// The flags every runtime command shares.
bool sharedFlagsInRange(const char *command) {
  if (memoryLimit.getNumOccurrences() && !(memoryLimit > 0)) {
    std::cerr << "gradc " << command
              << ": error: --memory-limit must be a positive number of GiB\n";
    return false;
  }
  return flagInRange(command, batchSize, 1, kMaxBatch) &&
         flagInRange(command, threads, 1, 256);
}

/// The memory budget of a step of `batch` examples, then the code budget
/// (frontend/ModelBudget.h).
absl::Status budgets(const ResolvedModel &model, int64_t batch, bool training,
                     const char *command) {
  absl::Status memory =
      memoryLimit.getNumOccurrences()
          ? checkMemoryBudget(model, batch, training,
                              int64_t(memoryLimit * double(int64_t(1) << 30)),
                              "--memory-limit")
          : checkMemoryBudget(model, batch, training, detectMemoryLimit());
  if (!memory.ok())
    return memory;
  return checkCodeLimit(model, command);
}

int threadCount() {
  return threads > 0 ? int(threads) : int(sysconf(_SC_NPROCESSORS_ONLN));
}

} // namespace

int fail(const absl::Status &s) {
  std::string message(s.message());
  if (message.find("error:") == std::string::npos)
    message = "error: " + message;
  std::cerr << message << "\n";
  return 1;
}

namespace {

absl::Status checkFeatures(const ResolvedModel &m, const Dataset &d,
                           const std::string &dir) {
  int64_t features = 1;
  for (int64_t s : m.inputShape())
    features *= s;
  if (d.size() && d.exampleSize() != features)
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: error: examples have %d values (%dx%dx%d), the model input "
        "needs %d",
        dir, d.exampleSize(), d.height, d.width, d.channels, features));
  return absl::OkStatus();
}

std::vector<std::string> classNamesFor(const std::string &dir,
                                       const ResolvedModel &m,
                                       const DataSplits &data) {
  if (int64_t(data.classNames.size()) == m.numClasses())
    return data.classNames;
  std::string lower = dir;
  for (char &c : lower)
    c = std::tolower(c);
  if (absl::StrContains(lower, "fashion") && m.numClasses() == 10)
    return fashionMnistClassNames();
  return {};
}

/// Evaluates `test`, prints its loss, accuracy and confusion matrix;
/// returns the exit status.
absl::StatusOr<EvalResult> reportTest(const ResolvedModel &model,
                                      Trainer &trainer, const Dataset &test) {
  auto r = trainer.evaluate(test, /*confusion=*/true);
  if (!r.ok())
    return r.status();
  if (model.regression)
    std::cout << "Test: " << trainer.describe(*r) << " (" << r->examples
              << " examples)\n";
  else
    std::cout << absl::StrFormat(
        "Test: loss %.4f, accuracy %.2f%% (%d images)\n", r->loss,
        100 * r->accuracy, r->examples);
  trainer.printConfusion(*r);
  return r;
}

} // namespace

int runTrain() {
  Session session;
  const ResolvedModel *loaded = session.load(trainModel);
  if (!loaded)
    return 1;
  ResolvedModel &model = const_cast<ResolvedModel &>(*loaded);
  if (!sharedFlagsInRange("train") ||
      !flagInRange("train", epochs, 1, 1000000) ||
      !flagInRange("train", seed, 0, INT64_MAX) ||
      !flagInRange("train", maxSteps, 1, INT64_MAX))
    return 1;
  TrainOptions options;
  options.epochs = epochs > 0 ? int64_t(epochs) : model.epochs;
  options.batchSize = batchSize > 0 ? int64_t(batchSize) : model.batchSize;
  model.batchSize = options.batchSize;
  options.seed = seed >= 0 ? uint64_t(seed) : uint64_t(model.seed);
  if (seed >= 0)
    model.seed = seed;
  options.shuffle = model.shuffle && !noShuffle;
  options.dropLast = model.dropLast || dropLast;
  options.maxSteps = maxSteps;
  options.threads = threadCount();
  options.timing = timing;
  options.interactive = isatty(STDOUT_FILENO);
  // Under mpirun: data parallelism over the ranks
  // (runtime/distributed/Distributed.h).
  auto world = joinWorld();
  if (!world.ok())
    return fail(world.status());
  struct Leave {
    ~Leave() { leaveWorld(); }
  } leave;
  if (world->distributed()) {
    if (options.batchSize % world->ranks != 0) {
      std::cerr << "gradc train: error: the batch size " << options.batchSize
                << " does not divide among " << world->ranks
                << " ranks; pass --batch-size (a multiple of " << world->ranks
                << ")\n";
      return 1;
    }
    options.rank = world->rank;
    options.ranks = world->ranks;
    options.sumOverRanks = sumOverRanks;
    options.sameOnAllRanks = sameOnAllRanks;
    // The ranks on one machine share its cores.
    if (threads <= 0)
      options.threads = std::max<int64_t>(1, sysconf(_SC_NPROCESSORS_ONLN) /
                                                 world->localRanks);
    // Rank 0 prints and writes; the others only train.
    if (world->rank != 0) {
      options.timing = false;
      static std::ofstream null("/dev/null");
      std::cout.rdbuf(null.rdbuf());
      options.interactive = false;
      checkpoint.setValue("");
      checkpointBest.setValue("");
      metricsJson.setValue("");
      reportDir.setValue("");
      exportOnnxFile.setValue("");
    }
  }
  options.checkpointPath = checkpoint;
  options.bestCheckpointPath = checkpointBest;
  options.metricsPath = metricsJson;
  if (absl::Status s = budgets(model, options.batchSize, true, "train");
      !s.ok())
    return fail(s);
  // Contradictory or empty flags, and destinations that are not regular
  // files, are refused before any work.
  if (!resume.empty() && !initFrom.empty()) {
    std::cerr << "gradc train: error: --resume and --init-from exclude each "
                 "other (--resume continues a run, --init-from starts a new "
                 "one from its weights)\n";
    return 1;
  }
  if (dataDir.getNumOccurrences() && dataDir.empty()) {
    std::cerr << "gradc train: error: --data needs a path\n";
    return 1;
  }
  for (auto [path, what] :
       {std::pair<const std::string &, const char *>{checkpoint, "checkpoint"},
        {checkpointBest, "checkpoint"},
        {metricsJson, "metrics"},
        {exportOnnxFile, "ONNX"}})
    if (!path.empty())
      if (absl::Status s = checkOutputPath(path, what); !s.ok())
        return fail(s);
  auto loadStart = std::chrono::steady_clock::now();
  std::string dir;
  auto data = loadModelData(model, dataDir, /*testOnly=*/false, &dir);
  if (!data.ok())
    return fail(data.status());
  // A text given by --data alone is text data too (bits per character).
  if (!data->vocabulary.empty() && !model.data.has_text())
    model.data.mutable_text()->set_file(dir);
  options.classNames = classNamesFor(dir, model, *data);
  options.augment.horizontalFlip = model.data.augment().horizontal_flip();
  options.augment.cropPadding = model.data.augment().crop_padding();
  if (timing)
    std::cerr << absl::StrFormat("data loaded in %.2f s\n",
                                 secondsSince(loadStart));
  if (absl::Status s = checkFeatures(model, data->train, dir); !s.ok())
    return fail(s);

  ParameterStore params = ParameterStore::initialize(model, options.seed);
  if (!resume.empty()) {
    if (absl::Status s = params.load(resume, /*weightsOnly=*/false, &model);
        !s.ok())
      return fail(s);
    // Shuffling and dropout are functions of the seed: resume with the
    // checkpoint's unless --seed says otherwise.
    if (seed < 0 && params.savedSeed >= 0)
      model.seed = int64_t(options.seed = params.savedSeed);
    if (params.savedBatchSize > 0 && batchSize <= 0 &&
        params.savedBatchSize != options.batchSize) {
      std::cerr << resume << ": error: the checkpoint was trained with batch "
                << params.savedBatchSize << ", the model file says "
                << options.batchSize << "; pass --batch-size\n";
      return 1;
    }
  } else if (!initFrom.empty()) {
    if (absl::Status s = params.load(initFrom, /*weightsOnly=*/true); !s.ok())
      return fail(s);
  } else if (absl::Status s =
                 adaptNormalization(model, params, data->train, std::cout);
             !s.ok()) {
    // A new run: normalization layers adapt to the training part.
    return fail(s);
  }
  // A language model's tokens go with its weights (gradc generate); a
  // checkpoint's own must be the same tokens, or its ids mean other ones.
  if (!data->vocabulary.empty()) {
    std::string from = resume.empty() ? std::string(initFrom) : resume;
    if (!params.vocabulary.empty() && params.vocabulary != data->vocabulary) {
      std::cerr << from << ": error: the checkpoint's vocabulary ("
                << params.vocabulary.size()
                << " tokens) is not the text's: its ids would mean other "
                   "characters\n";
      return 1;
    }
    params.vocabulary = data->vocabulary;
  }
  std::cout << absl::StrFormat(
      "gradc: training %s: %d parameters, %d train / %d validation / %d test "
      "examples, batch %d, %d epochs, seed %d\n",
      model.name,
      [&] {
        int64_t n = 0;
        for (auto &b : params.params)
          n += b.data.size();
        return n;
      }(),
      data->train.size(), data->validation.size(), data->test.size(),
      options.batchSize, options.epochs, options.seed);
  // Compile up front, so no step pays for compilation: one module for the
  // full batch serves every partial batch too (padded).
  CompilerOptions co = compilerOptions(int(options.threads));
  co.ranks = options.ranks;
  co.rank = options.rank;
  co.timing = options.timing;
  Compiler compiler(session, co);
  if (auto jit = compiler.get(options.batchSize / options.ranks); !jit.ok())
    return fail(jit.status());
  if (options.ranks > 1)
    std::cout << "gradc: data parallel over " << options.ranks
              << " ranks: each steps " << options.batchSize / options.ranks
              << " examples of every batch of " << options.batchSize << " on "
              << options.threads << " thread(s); gradients "
              << "averaged by MPI_Allreduce\n";
  ReportData report = startReport(model, options.classNames);
  if (!reportDir.empty()) {
    report.seed = int64_t(options.seed);
    report.compileSeconds = compiler.totalSeconds;
    options.report = &report;
    options.reportDir = reportDir;
  }
  Trainer trainer(
      model, params, [&](int64_t b) { return compiler.get(b); }, options,
      std::cout);
  if (absl::Status s = trainer.train(*data); !s.ok())
    return fail(s);
  if (options.ranks > 1 && timing) { // every rank's own figures
    AllreduceStats a = allreduceStats();
    std::cerr << absl::StrFormat(
        "rank %d: %d gradient allreduces of %d floats (%.2f MB), %.3f ms "
        "each on average (waiting for the other ranks included)\n",
        options.rank, a.calls, a.floats, a.floats * 4e-6,
        a.calls ? 1e3 * a.seconds / a.calls : 0.0);
  }
  if (!exportOnnxFile.empty()) {
    if (absl::Status s = exportOnnxWeights(model, params, exportOnnxFile);
        !s.ok())
      return fail(s);
    std::cout << "gradc: wrote " << std::string(exportOnnxFile) << "\n";
  }
  if (!data->test.size())
    return 0;
  auto test = reportTest(model, trainer, data->test);
  if (!test.ok())
    return fail(test.status());
  if (!reportDir.empty()) {
    report.compileSeconds = compiler.totalSeconds;
    if (absl::Status s = finishReport(session, model, params, data->test, *test,
                                      report, reportDir);
        !s.ok())
      return fail(s);
  }
  return 0;
}

namespace {
/// gradc eval, and gradc report with a report directory: the test set
/// through trained weights.
int evaluateWeights(const char *command, const std::string &reportTo) {
  Session session;
  const ResolvedModel *loaded = session.load(trainModel);
  if (!loaded)
    return 1;
  ResolvedModel &model = const_cast<ResolvedModel &>(*loaded);
  if (!sharedFlagsInRange(command))
    return 1;
  if (batchSize > 0)
    model.batchSize = batchSize;
  if (absl::Status s = budgets(model, model.batchSize, false, command); !s.ok())
    return fail(s);
  if (weights.empty() && !givesAllWeights(model)) {
    std::cerr << "gradc " << command << ": error: --weights FILE is required\n";
    return 1;
  }
  std::string dir;
  auto data = loadModelData(model, dataDir, /*testOnly=*/true, &dir);
  if (!data.ok())
    return fail(data.status());
  const Dataset *test = &data->test;
  if (absl::Status s = checkFeatures(model, *test, dir); !s.ok())
    return fail(s);
  ParameterStore params = ParameterStore::initialize(model, 0);
  if (!weights.empty())
    if (absl::Status s = params.load(weights, /*weightsOnly=*/true); !s.ok())
      return fail(s);
  Compiler compiler(session, compilerOptions(int(threadCount())));
  TrainOptions options;
  options.batchSize = model.batchSize;
  options.classNames = classNamesFor(dir, model, *data);
  Trainer trainer(
      model, params, [&](int64_t b) { return compiler.get(b); }, options,
      std::cout);
  auto r = reportTest(model, trainer, *test);
  if (!r.ok())
    return fail(r.status());
  if (reportTo.empty())
    return 0;
  ReportData report = startReport(model, options.classNames);
  report.compileSeconds = compiler.totalSeconds;
  ReportData::Epoch e;
  e.epoch = params.epoch;
  e.hasTest = true;
  e.testLoss = r->loss;
  e.testAccuracy = r->accuracy;
  e.testMae = r->mae;
  e.testRmse = r->rmse;
  e.testR2 = r->r2;
  report.epochs.push_back(e);
  if (absl::Status s =
          finishReport(session, model, params, *test, *r, report, reportTo);
      !s.ok())
    return fail(s);
  return 0;
}
} // namespace

int runEval() { return evaluateWeights("eval", ""); }

int runReport() { return evaluateWeights("report", reportOut); }

int runPredict() {
  Session session;
  const ResolvedModel *loaded = session.load(trainModel);
  if (!loaded)
    return 1;
  const ResolvedModel &model = *loaded;
  if ((weights.empty() && !givesAllWeights(model)) || inputFile.empty()) {
    std::cerr << "gradc predict: error: --weights FILE and --input FILE are "
                 "required\n";
    return 1;
  }
  if (!sharedFlagsInRange("predict"))
    return 1;
  auto input = loadPredictInput(model, inputFile);
  if (!input.ok())
    return fail(input.status());
  int64_t per = input->exampleSize();
  if (!predictOut.empty())
    if (absl::Status s = checkOutputPath(predictOut, "probabilities"); !s.ok())
      return fail(s);
  ParameterStore params = ParameterStore::initialize(model, 0);
  if (!weights.empty())
    if (absl::Status s = params.load(weights, /*weightsOnly=*/true); !s.ok())
      return fail(s);
  Compiler compiler(session, compilerOptions(int(threadCount())));
  int64_t count = input->size(), classes = model.numClasses();
  std::vector<float> all;
  int64_t batch = std::min<int64_t>(count, batchSize > 0 ? int64_t(batchSize)
                                                         : model.batchSize);
  if (absl::Status s = budgets(model, batch, false, "predict"); !s.ok())
    return fail(s);
  // Floats or ids (valueBytes() each), in 8-byte-aligned storage.
  int64_t rowBytes = per * input->valueBytes();
  std::vector<int64_t> x((batch * rowBytes + 7) / 8);
  // A prediction per position of a per-example output [T..., classes] (a
  // language model's tokens).
  const std::vector<int64_t> &outShape = model.outputShape();
  int64_t positions = 1;
  for (size_t d = 0; d + 1 < outShape.size(); ++d)
    positions *= outShape[d];
  int64_t width = positions * classes;
  std::vector<float> probs(batch * width);
  char *xBytes = reinterpret_cast<char *>(x.data());
  for (int64_t start = 0; start < count; start += batch) {
    // The last batch runs padded with zero images: one compiled module.
    int64_t n = std::min(batch, count - start);
    for (int64_t i = 0; i < n; ++i)
      input->example(start + i, xBytes + i * rowBytes);
    std::memset(xBytes + n * rowBytes, 0, size_t((batch - n) * rowBytes));
    auto jit = compiler.get(batch);
    if (!jit.ok())
      return fail(jit.status());
    std::vector<BufferRef> args = entryArguments(params, false);
    BufferRef xr, pr;
    xr.data = x.data();
    xr.shape.push_back(batch);
    xr.shape.append(model.inputShape().begin(), model.inputShape().end());
    pr.data = probs.data();
    pr.shape = {batch};
    pr.shape.append(outShape.begin(), outShape.end());
    args.push_back(xr);
    args.push_back(pr);
    if (absl::Status s = (*jit)->call("predict", args); !s.ok())
      return fail(s);
    if (!predictOut.empty())
      all.insert(all.end(), probs.begin(), probs.begin() + n * width);
    for (int64_t i = 0; i < n; ++i) {
      const float *row = probs.data() + i * width;
      if (positions > 1) { // the class of each position
        std::cout << start + i << ": " << (model.regression ? "" : "classes");
        for (int64_t t = 0; t < positions; ++t, row += classes) {
          if (model.regression)
            for (int64_t c = 0; c < classes; ++c)
              std::cout << absl::StrFormat(" %.6g", row[c]);
          else
            std::cout << " " << std::max_element(row, row + classes) - row;
        }
        std::cout << "\n";
        continue;
      }
      if (model.regression) { // the predicted values
        std::cout << start + i << ":";
        for (int64_t c = 0; c < classes; ++c)
          std::cout << absl::StrFormat(" %.6g", row[c]);
        std::cout << "\n";
        continue;
      }
      int64_t best = std::max_element(row, row + classes) - row;
      std::cout << start + i << ": class " << best << "  [";
      for (int64_t c = 0; c < classes; ++c)
        std::cout << absl::StrFormat("%s%.4f", c ? " " : "", row[c]);
      std::cout << "]\n";
    }
  }
  if (!predictOut.empty()) {
    NpyArray probabilities;
    probabilities.type = NpyArray::Type::F32;
    probabilities.shape = {count};
    probabilities.shape.insert(probabilities.shape.end(), outShape.begin(),
                               outShape.end());
    const uint8_t *bytes = reinterpret_cast<const uint8_t *>(all.data());
    probabilities.bytes.assign(bytes, bytes + all.size() * sizeof(float));
    if (absl::Status s = writeNpy(predictOut, probabilities, "probabilities");
        !s.ok())
      return fail(s);
  }
  return 0;
}

} // namespace gradc
