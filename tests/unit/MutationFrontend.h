//===- MutationFrontend.h - the frontend on one broken file -----*- C++ -*-===//
//
// What the mutation tests share: `Frontend` runs one model file (text, or
// bytes written to a .pb file) through parse, check and import with batch
// kBatch and records every broken requirement: a crash or hang aside, a
// rejected file must get error lines that each start with its path, an
// accepted one must import to a module that verifies, with positive,
// bounded sizes. `Random` makes the same choices on every standard library.
//
//===----------------------------------------------------------------------===//

#ifndef GRADC_TESTS_UNIT_MUTATIONFRONTEND_H
#define GRADC_TESTS_UNIT_MUTATIONFRONTEND_H

#include "frontend/Importer.h"
#include "frontend/ModelChecker.h"
#include "frontend/ModelLoader.h"
#include "ir/NNDialect.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Verifier.h"
#include "gtest/gtest.h"

#include <chrono>
#include <fstream>
#include <iostream>
#include <random>
#include <string>
#include <unistd.h>
#include <vector>

namespace gradc::test {

/// The batch every model is imported with.
inline constexpr int64_t kBatch = 2;
/// The example models (examples/) the mutants start from.
inline const char *const kExamples[] = {"fashion_mnist_cnn.pbtxt",
                                        "lenet.pbtxt", "mnist_mlp.pbtxt"};

/// Deterministic choices: `rng() % n` rather than the distributions, whose
/// results differ between standard libraries.
class Random {
public:
  explicit Random(uint32_t seed) : rng(seed) {}
  size_t below(size_t n) { return n == 0 ? 0 : rng() % n; }
  bool chance(int percent) { return below(100) < size_t(percent); }
  template <typename T> const T &pick(const std::vector<T> &v) {
    return v[below(v.size())];
  }

private:
  std::mt19937 rng;
};

//===----------------------------------------------------------------------===//
// Running one file through the frontend
//===----------------------------------------------------------------------===//

struct Stats {
  int mutants = 0, parseFailed = 0, checkFailed = 0, imported = 0;
};

class Frontend {
public:
  Frontend() {
    ctx.loadDialect<gradc::nn::NNDialect, mlir::func::FuncDialect>();
    // Diagnostics of a failed verification must not reach stderr unseen.
    ctx.printOpOnDiagnostic(false);
  }

  /// Runs model text named `path`; `origin` says how the mutant was made.
  /// Returns the error lines with their location prefixes removed (empty when
  /// the model imported).
  std::vector<std::string> runText(const std::string &text,
                                   const std::string &path,
                                   const std::string &origin) {
    auto start = std::chrono::steady_clock::now();
    auto result = finish(parseModelText(text, path), path, text, origin);
    checkTime(start, text, origin);
    return result;
  }

  /// Writes `bytes` to a .pb file and loads it.
  std::vector<std::string> runBinary(const std::string &bytes,
                                     const std::string &origin) {
    // One file per process: ctest runs the binary-mutant tests in parallel.
    std::string path =
        absl::StrCat(testing::TempDir(), "/gradc_mutant.", getpid(), ".pb");
    {
      std::ofstream out(path, std::ios::binary | std::ios::trunc);
      out.write(bytes.data(), bytes.size());
    }
    auto start = std::chrono::steady_clock::now();
    auto result = finish(loadModelFile(path), path, bytes, origin);
    checkTime(start, bytes, origin);
    return result;
  }

  /// Fails the test when any input broke a requirement.
  void expectNoFailures() {
    EXPECT_EQ(failures, 0) << "inputs that broke a requirement (the first 20 "
                              "are shown above)";
  }

  Stats stats;

private:
  std::vector<std::string>
  finish(absl::StatusOr<std::unique_ptr<ModelFile>> file,
         const std::string &path, const std::string &input,
         const std::string &origin) {
    ++stats.mutants;
    if (!file.ok()) {
      ++stats.parseFailed;
      return errorLines(file.status(), path, input, origin);
    }
    auto model = checkModel(**file);
    if (!model.ok()) {
      ++stats.checkFailed;
      return errorLines(model.status(), path, input, origin);
    }
    // Every size the checker vouches for is positive and bounded, so the
    // runtime's buffer sizes cannot overflow.
    auto sane = [](const std::vector<int64_t> &shape) {
      int64_t n = 1;
      for (int64_t d : shape)
        if (d < 1 || __builtin_mul_overflow(n, d, &n) || n > (int64_t(1) << 31))
          return false;
      return true;
    };
    for (const ResolvedLayer &l : model->layers)
      if (!sane(l.shape))
        fail(origin, input,
             absl::StrCat("layer '", l.layer->name(), "' has a bad shape [",
                          absl::StrJoin(l.shape, ", "), "]"));
    for (const ParamSpec &p : model->params)
      if (!sane(p.shape) || p.fanIn < 1 || p.fanOut < 1)
        fail(origin, input,
             absl::StrCat("parameter '", p.name, "' has a bad shape [",
                          absl::StrJoin(p.shape, ", "), "]"));
    auto module = importModel(ctx, *model, kBatch);
    if (!module.ok()) {
      fail(origin, input,
           absl::StrCat("the checker accepted a model the importer rejects: ",
                        module.status().message()));
      return {"<import failed>"};
    }
    ++stats.imported;
    if (mlir::failed(mlir::verify(**module)))
      fail(origin, input, "the imported module does not verify");
    auto predict = (*module)->lookupSymbol<mlir::func::FuncOp>("predict");
    if (!predict ||
        llvm::cast<mlir::RankedTensorType>(predict.getResultTypes()[0])
                .getShape()[0] != kBatch)
      fail(origin, input, "@predict is missing or has the wrong batch");
    return {};
  }

  std::vector<std::string> errorLines(const absl::Status &status,
                                      const std::string &path,
                                      const std::string &input,
                                      const std::string &origin) {
    std::vector<std::string> messages;
    std::vector<std::string> lines =
        absl::StrSplit(status.message(), '\n', absl::SkipEmpty());
    if (lines.empty())
      fail(origin, input, "an error without a message");
    for (const std::string &line : lines) {
      size_t sep = line.find(": error: ");
      bool located = line.rfind(path + ":", 0) == 0 && sep != std::string::npos;
      // After the path: nothing, or ":line:col" with positive numbers.
      std::string where =
          located ? line.substr(path.size(), sep - path.size()) : "";
      if (located && !where.empty()) {
        std::vector<std::string> parts = absl::StrSplit(where, ':');
        located = parts.size() == 3 && parts[0].empty();
        for (size_t i = 1; located && i < parts.size(); ++i)
          located =
              !parts[i].empty() && parts[i][0] != '0' &&
              parts[i].find_first_not_of("0123456789") == std::string::npos;
      }
      if (!located)
        fail(origin, input,
             absl::StrCat("an error line without \"", path,
                          "[:line:col]: error: \": ", line));
      else
        messages.push_back(line.substr(sep + 9));
    }
    return messages;
  }

  void checkTime(std::chrono::steady_clock::time_point start,
                 const std::string &input, const std::string &origin) {
    auto elapsed = std::chrono::steady_clock::now() - start;
    if (elapsed > std::chrono::seconds(2))
      fail(origin, input, "took more than 2 s");
  }

  void fail(const std::string &origin, const std::string &input,
            const std::string &what) {
    if (++failures > 20)
      return; // enough to debug; the count still fails the test
    std::string shown =
        input.size() > 3000 ? input.substr(0, 3000) + "..." : input;
    ADD_FAILURE() << origin << ": " << what << "\n--- input (" << input.size()
                  << " bytes) ---\n"
                  << shown;
  }

  mlir::MLIRContext ctx{mlir::MLIRContext::Threading::DISABLED};
  int failures = 0;
};

/// Prints how far the inputs of a test got.
inline void report(const char *what, const Stats &s) {
  std::cout << what << ": " << s.mutants << " mutants, " << s.parseFailed
            << " rejected by the parser, " << s.checkFailed
            << " by the checker, " << s.imported << " imported\n";
}

} // namespace gradc::test

#endif // GRADC_TESTS_UNIT_MUTATIONFRONTEND_H
