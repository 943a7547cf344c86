//===- MutationTest.cpp - the frontend on thousands of broken model files -===//
//
// Feeds deterministic mutants of the example models (text and binary) and
// random models built through the protobuf API through the whole frontend:
// parse, check, import with a small batch. Whatever the input, the frontend
// must not crash or hang; a rejected file gets error lines that each start
// with its path; an accepted one imports to a module that verifies.
//
//===----------------------------------------------------------------------===//

#include "frontend/Importer.h"
#include "frontend/ModelChecker.h"
#include "frontend/ModelLoader.h"
#include "ir/NNDialect.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/stubs/logging.h"
#include "google/protobuf/text_format.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Verifier.h"
#include "gtest/gtest.h"

#include <chrono>
#include <cmath>
#include <fstream>
#include <iostream>
#include <limits>
#include <random>
#include <sstream>
#include <unistd.h>

using namespace gradc;

namespace {

constexpr int64_t kBatch = 2;
const char *const kExamples[] = {"fashion_mnist_cnn.pbtxt", "lenet.pbtxt",
                                 "mnist_mlp.pbtxt"};

std::string readFile(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

std::string examplePath(const std::string &name) {
  return std::string(GRADC_SOURCE_DIR) + "/examples/" + name;
}

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

//===----------------------------------------------------------------------===//
// Text mutations
//===----------------------------------------------------------------------===//

const std::vector<std::string> kExtremeNumbers = {"0",
                                                  "-1",
                                                  "1",
                                                  "2",
                                                  "2147483647",
                                                  "-2147483648",
                                                  "4294967296",
                                                  "9223372036854775807",
                                                  "-9223372036854775808",
                                                  "9223372036854775808",
                                                  "1048576",
                                                  "1048577",
                                                  "65536",
                                                  "65537",
                                                  "1e30",
                                                  "-1e30",
                                                  "1e-45",
                                                  "3.4028235e38",
                                                  "nan",
                                                  "inf",
                                                  "-inf",
                                                  "0.99999994",
                                                  "1.0000001",
                                                  "0.5",
                                                  "-0.0",
                                                  "0x7fffffff",
                                                  "1.5"};

const std::vector<std::string> kKeywords = {
    "conv2d",   "dense",      "max_pool2d", "avg_pool2d", "flatten",
    "dropout",  "add",        "activation", "RELU",       "SOFTMAX",
    "SIGMOID",  "LEAKY_RELU", "PRELU",      "TANH",       "LINEAR",
    "SAME",     "VALID",      "filters",    "units",      "kernel_size",
    "strides",  "pads",       "dilations",  "pool_size",  "rate",
    "inputs",   "name",       "shape",      "input",      "layer",
    "loss",     "optimizer",  "training",   "batch_size", "mse",
    "huber",    "sgd",        "momentum",   "rmsprop",    "adam",
    "use_bias", "alpha",      "kind",       "padding",    "learning_rate",
    "true",     "false",      "epochs",     "seed",       "bogus_field"};

const std::vector<std::string> kSnippets = {
    "layer { name: \"$\" conv2d { filters: 3 kernel_size: [3, 3] padding: "
    "SAME } }",
    "layer { name: \"$\" conv2d { filters: 2 kernel_size: [2] strides: [2] "
    "dilations: [2, 1] } }",
    "layer { name: \"$\" conv2d { filters: 1 kernel_size: [1] pads: [1048576, "
    "1048576, 1048576, 1048576] } }",
    "layer { name: \"$\" max_pool2d { pool_size: [3] strides: [1] padding: "
    "SAME } }",
    "layer { name: \"$\" avg_pool2d { pool_size: [2, 2] pads: [1, 0, 1, 0] } "
    "}",
    "layer { name: \"$\" flatten {} }",
    "layer { name: \"$\" dense { units: 7 activation: PRELU } }",
    "layer { name: \"$\" dense { units: 1048576 use_bias: false } }",
    "layer { name: \"$\" activation { kind: LEAKY_RELU alpha: 0.99999994 } }",
    "layer { name: \"$\" activation { kind: PRELU alpha: nan } }",
    "layer { name: \"$\" dropout { rate: 0.99999994 } }",
    "layer { name: \"$\" dropout { rate: 0.9999999 } }",
    "layer { name: \"$\" add {} inputs: [\"@\", \"@\"] }",
    "layer { name: \"$\" add {} inputs: [\"@\", \"@\", \"@\"] }",
    "layer { name: \"$\" flatten {} inputs: [\"@\"] }",
    "layer { name: \"$\" }",
    "input { name: \"$\" shape: [4] }",
    "loss { huber { delta: 1e-45 } }",
    "optimizer { rmsprop { rho: 0.99999994 epsilon: 1e-45 } }",
    "training { batch_size: 65536 epochs: 1000000 seed: "
    "9223372036854775807 validation_split: 0.99999994 }",
    "training { seed: -9223372036854775808 }",
};

std::vector<std::string> splitLines(const std::string &text) {
  std::vector<std::string> lines = absl::StrSplit(text, '\n');
  return lines;
}

std::string joinLines(const std::vector<std::string> &lines) {
  return absl::StrJoin(lines, "\n");
}

/// Start and length of every numeric token (digits, sign, '.', exponent).
std::vector<std::pair<size_t, size_t>> numberTokens(const std::string &text) {
  std::vector<std::pair<size_t, size_t>> tokens;
  for (size_t i = 0; i < text.size();) {
    bool startsNumber =
        std::isdigit(static_cast<unsigned char>(text[i])) &&
        (i == 0 || !std::isalnum(static_cast<unsigned char>(text[i - 1])));
    if (!startsNumber) {
      ++i;
      continue;
    }
    size_t begin = i > 0 && text[i - 1] == '-' ? i - 1 : i;
    while (i < text.size() &&
           (std::isalnum(static_cast<unsigned char>(text[i])) ||
            text[i] == '.' || text[i] == '-' || text[i] == '+'))
      ++i;
    tokens.push_back({begin, i - begin});
  }
  return tokens;
}

/// Start and length of every identifier outside strings and comments.
std::vector<std::pair<size_t, size_t>> identifiers(const std::string &text) {
  std::vector<std::pair<size_t, size_t>> tokens;
  bool inString = false, inComment = false;
  for (size_t i = 0; i < text.size();) {
    char c = text[i];
    if (inComment) {
      inComment = c != '\n';
      ++i;
    } else if (inString) {
      if (c == '\\')
        ++i;
      inString = c != '"';
      ++i;
    } else if (c == '"') {
      inString = true;
      ++i;
    } else if (c == '#') {
      inComment = true;
      ++i;
    } else if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      size_t begin = i;
      while (
          i < text.size() &&
          (std::isalnum(static_cast<unsigned char>(text[i])) || text[i] == '_'))
        ++i;
      tokens.push_back({begin, i - begin});
    } else {
      ++i;
    }
  }
  return tokens;
}

/// The quoted names after `name: ` (layers and the input).
std::vector<std::pair<size_t, size_t>> quotedNames(const std::string &text) {
  std::vector<std::pair<size_t, size_t>> names;
  for (size_t pos = text.find("name: \""); pos != std::string::npos;
       pos = text.find("name: \"", pos + 1)) {
    size_t begin = pos + 7, end = text.find('"', begin);
    if (end == std::string::npos)
      break;
    names.push_back({begin, end - begin});
  }
  return names;
}

std::vector<std::string> namesIn(const std::string &text) {
  std::vector<std::string> names;
  for (auto [begin, len] : quotedNames(text))
    names.push_back(text.substr(begin, len));
  names.push_back("nope");
  return names;
}

std::string hugeList(Random &rnd) {
  size_t n = 100 + rnd.below(20000);
  std::string value = rnd.pick(kExtremeNumbers);
  if (value == "nan" || value == "inf" || value == "-inf")
    value = "1";
  std::string list = "[";
  for (size_t i = 0; i < n; ++i)
    absl::StrAppend(&list, i ? ", " : "", rnd.chance(50) ? "1" : value);
  return list + "]";
}

/// Applies one random mutation to model text; appends what it did to `how`.
std::string mutateText(std::string text, Random &rnd, std::string &how) {
  auto pos = [&](size_t extra = 0) { return rnd.below(text.size() + extra); };
  switch (rnd.below(14)) {
  case 0: { // flip one bit
    if (text.empty())
      break;
    size_t p = pos();
    text[p] = static_cast<char>(text[p] ^ (1 << rnd.below(8)));
    how += " flip@" + std::to_string(p);
    break;
  }
  case 1: { // insert a byte, often one that matters to the syntax
    static const std::string syntax = "{}[]:\",#-.0123456789 \n\\e";
    char c = rnd.chance(50) ? syntax[rnd.below(syntax.size())]
                            : static_cast<char>(rnd.below(256));
    size_t p = pos(1);
    text.insert(text.begin() + p, c);
    how += " insert@" + std::to_string(p);
    break;
  }
  case 2: { // delete a few bytes
    size_t p = pos(), n = 1 + rnd.below(rnd.chance(80) ? 4 : 64);
    text.erase(p, n);
    how += " delete@" + std::to_string(p);
    break;
  }
  case 3: { // truncate
    size_t p = pos();
    text.resize(p);
    how += " truncate@" + std::to_string(p);
    break;
  }
  case 4:
  case 5: { // duplicate, remove or swap lines
    std::vector<std::string> lines = splitLines(text);
    size_t a = rnd.below(lines.size()), b = rnd.below(lines.size());
    int op = rnd.below(3);
    if (op == 0)
      lines.insert(lines.begin() + b, lines[a]);
    else if (op == 1)
      lines.erase(lines.begin() + a);
    else
      std::swap(lines[a], lines[b]);
    text = joinLines(lines);
    how += absl::StrCat(" lines", op, "@", a, ",", b);
    break;
  }
  case 6:
  case 7:
  case 8: { // a number becomes an extreme value or a huge list
    auto tokens = numberTokens(text);
    if (tokens.empty())
      break;
    auto [begin, len] = rnd.pick(tokens);
    std::string value =
        rnd.chance(8) ? hugeList(rnd) : rnd.pick(kExtremeNumbers);
    text.replace(begin, len, value);
    how += " number@" + std::to_string(begin) + "=" + value.substr(0, 20);
    break;
  }
  case 9: { // swap two names, or give one the name of another
    auto names = quotedNames(text);
    if (names.size() < 2)
      break;
    size_t a = rnd.below(names.size()), b = rnd.below(names.size());
    if (a > b)
      std::swap(a, b);
    std::string na = text.substr(names[a].first, names[a].second);
    std::string nb = text.substr(names[b].first, names[b].second);
    bool copy = rnd.chance(30);
    // Replace the later one first so the earlier offsets stay valid.
    text.replace(names[b].first, names[b].second, na);
    if (!copy)
      text.replace(names[a].first, names[a].second, nb);
    how += absl::StrCat(copy ? " copyname" : " swapname", a, ",", b);
    break;
  }
  case 10: { // a keyword becomes another one
    auto tokens = identifiers(text);
    if (tokens.empty())
      break;
    auto [begin, len] = rnd.pick(tokens);
    std::string word = rnd.pick(kKeywords);
    text.replace(begin, len, word);
    how += " keyword@" + std::to_string(begin) + "=" + word;
    break;
  }
  case 11: { // a layer gets explicit inputs
    std::vector<std::string> lines = splitLines(text);
    std::vector<size_t> layers;
    for (size_t i = 0; i < lines.size(); ++i)
      if (lines[i].rfind("layer {", 0) == 0 && lines[i].back() == '}')
        layers.push_back(i);
    if (layers.empty())
      break;
    size_t l = rnd.pick(layers);
    auto names = namesIn(text);
    std::string inputs = " inputs: [";
    for (size_t k = 0, n = 1 + rnd.below(3); k < n; ++k)
      absl::StrAppend(&inputs, k ? ", " : "", "\"", rnd.pick(names), "\"");
    lines[l].insert(lines[l].size() - 1, inputs + "] ");
    text = joinLines(lines);
    how += " inputs@" + std::to_string(l);
    break;
  }
  case 12: { // insert a layer (or another part) from the snippets
    std::vector<std::string> lines = splitLines(text);
    std::string snippet = rnd.pick(kSnippets);
    auto names = namesIn(text);
    std::string fresh = absl::StrCat("z", rnd.below(1000));
    for (size_t p; (p = snippet.find('$')) != std::string::npos;)
      snippet.replace(p, 1, fresh);
    for (size_t p; (p = snippet.find('@')) != std::string::npos;)
      snippet.replace(p, 1, rnd.pick(names));
    size_t at = rnd.below(lines.size() + 1);
    lines.insert(lines.begin() + at, snippet);
    text = joinLines(lines);
    how += " snippet@" + std::to_string(at);
    break;
  }
  case 13: { // random garbage bytes in a row
    size_t p = pos(1), n = 1 + rnd.below(16);
    std::string junk;
    for (size_t i = 0; i < n; ++i)
      junk += static_cast<char>(rnd.below(256));
    text.insert(p, junk);
    how += " junk@" + std::to_string(p);
    break;
  }
  }
  return text;
}

/// Applies one random mutation to serialized bytes.
std::string mutateBytes(std::string bytes, Random &rnd, std::string &how) {
  auto pos = [&](size_t extra = 0) { return rnd.below(bytes.size() + extra); };
  switch (rnd.below(7)) {
  case 0: { // flip a bit
    if (bytes.empty())
      break;
    size_t p = pos();
    bytes[p] = static_cast<char>(bytes[p] ^ (1 << rnd.below(8)));
    how += " flip@" + std::to_string(p);
    break;
  }
  case 1: { // overwrite with a byte that matters to varints and tags
    static const unsigned char special[] = {0x00, 0x01, 0x7f, 0x80,
                                            0xff, 0x08, 0x12, 0x1a};
    if (bytes.empty())
      break;
    size_t p = pos();
    bytes[p] = static_cast<char>(special[rnd.below(sizeof(special))]);
    how += " set@" + std::to_string(p);
    break;
  }
  case 2: { // insert a random byte
    size_t p = pos(1);
    bytes.insert(bytes.begin() + p, static_cast<char>(rnd.below(256)));
    how += " insert@" + std::to_string(p);
    break;
  }
  case 3: { // delete bytes
    size_t p = pos(), n = 1 + rnd.below(8);
    bytes.erase(p, n);
    how += " delete@" + std::to_string(p);
    break;
  }
  case 4: { // truncate
    size_t p = pos();
    bytes.resize(p);
    how += " truncate@" + std::to_string(p);
    break;
  }
  case 5: { // duplicate a chunk: repeated fields appear twice, others merge
    if (bytes.empty())
      break;
    size_t p = pos(), n = 1 + rnd.below(std::min<size_t>(64, bytes.size() - p));
    bytes.insert(rnd.below(bytes.size() + 1), bytes.substr(p, n));
    how += " dup@" + std::to_string(p);
    break;
  }
  case 6: { // append a field with a big varint (tags 1..7 of Model)
    std::string field;
    field += static_cast<char>((1 + rnd.below(7)) << 3);
    for (int i = 0; i < 9; ++i)
      field += static_cast<char>(0xff);
    field += static_cast<char>(0x01);
    bytes += field;
    how += " bigvarint";
    break;
  }
  }
  return bytes;
}

//===----------------------------------------------------------------------===//
// Random models through the protobuf API
//===----------------------------------------------------------------------===//

constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();
constexpr int64_t kInt64Min = std::numeric_limits<int64_t>::min();

int64_t wildInt(Random &rnd) {
  static const std::vector<int64_t> values = {
      0,         -1,          1,           2,         3,
      kMaxDim,   kMaxDim - 1, kMaxDim + 1, kMaxBatch, 1 << 30,
      kInt64Max, kInt64Min,   4294967296};
  return rnd.pick(values);
}

float wildFloat(Random &rnd) {
  static const std::vector<float> values = {
      0.0f,
      -0.0f,
      0.5f,
      0.1f,
      1.0f,
      -1.0f,
      0.99999994f,
      1e-45f,
      1e30f,
      std::numeric_limits<float>::max(),
      std::numeric_limits<float>::quiet_NaN(),
      std::numeric_limits<float>::infinity(),
      -std::numeric_limits<float>::infinity()};
  return rnd.pick(values);
}

/// Mostly small sizes, sometimes extreme ones.
int64_t randomSize(Random &rnd, int64_t lo, int64_t hi) {
  if (rnd.chance(4))
    return wildInt(rnd);
  return lo + static_cast<int64_t>(rnd.below(hi - lo + 1));
}

float fraction(Random &rnd) {
  if (rnd.chance(5))
    return wildFloat(rnd);
  return static_cast<float>(rnd.below(100)) / 100.0f;
}

void setInts(google::protobuf::RepeatedField<int64_t> *field, Random &rnd,
             int64_t lo, int64_t hi) {
  size_t n = rnd.chance(5) ? rnd.below(6) : 1 + rnd.below(2);
  for (size_t i = 0; i < n; ++i)
    field->Add(randomSize(rnd, lo, hi));
}

void setInitializer(Initializer *init, Random &rnd) {
  switch (rnd.below(9)) {
  case 0:
    init->mutable_zeros();
    break;
  case 1:
    init->mutable_he_normal();
    break;
  case 2:
    init->mutable_uniform()->set_minval(wildFloat(rnd));
    init->mutable_uniform()->set_maxval(wildFloat(rnd));
    break;
  case 3:
    init->mutable_normal()->set_stddev(wildFloat(rnd));
    break;
  case 4:
    init->mutable_ones();
    break;
  default:
    break; // the default initializer
  }
}

Activation randomActivation(Random &rnd) {
  if (rnd.chance(3))
    return static_cast<Activation>(7 + rnd.below(100));
  return static_cast<Activation>(rnd.below(7));
}

Padding randomPadding(Random &rnd) {
  if (rnd.chance(3))
    return static_cast<Padding>(2 + rnd.below(5));
  return static_cast<Padding>(rnd.below(2));
}

/// A random model: a plausible chain (conv/pool while 4-D, then dense) with
/// random branches, names and values, some of them extreme.
Model randomModel(Random &rnd) {
  Model m;
  if (rnd.chance(90))
    m.set_name(rnd.chance(90) ? "random" : "\"odd\\name\n");
  int inputs = rnd.chance(95) ? 1 : rnd.below(3);
  bool image = rnd.chance(70);
  for (int i = 0; i < inputs; ++i) {
    Input *in = m.add_input();
    if (rnd.chance(90))
      in->set_name("x");
    if (image) {
      in->add_shape(randomSize(rnd, 3, 16));
      in->add_shape(randomSize(rnd, 3, 16));
      in->add_shape(randomSize(rnd, 1, 3));
    } else {
      in->add_shape(randomSize(rnd, 1, 40));
    }
    if (rnd.chance(3))
      in->add_shape(randomSize(rnd, 1, 4));
  }
  bool fourD = image;
  std::vector<std::string> names{"x"};
  int numLayers = rnd.chance(2) ? 0 : 1 + rnd.below(8);
  for (int i = 0; i < numLayers; ++i) {
    Layer *l = m.add_layer();
    std::string name = absl::StrCat("l", i);
    if (rnd.chance(2)) // names are free text: one error line each still
      name = absl::StrCat("multi\nline\r'", i, "'");
    if (rnd.chance(1))
      name = rnd.pick(names); // a duplicate, or the input's name
    if (!rnd.chance(1))
      l->set_name(name);
    int kind = fourD ? rnd.below(6) : 4 + rnd.below(5);
    bool last = i == numLayers - 1;
    if (last && rnd.chance(70)) {
      kind = 8; // a classifier head, mostly after a flatten
      if (fourD && rnd.chance(90)) {
        l->set_name(absl::StrCat("f", i));
        l->mutable_flatten();
        names.push_back(l->name());
        l = m.add_layer();
        l->set_name(name);
      }
    }
    switch (kind) {
    case 0:
    case 1: {
      Conv2D *c = l->mutable_conv2d();
      c->set_filters(randomSize(rnd, 1, 8));
      setInts(c->mutable_kernel_size(), rnd, 1, 4);
      if (rnd.chance(40))
        setInts(c->mutable_strides(), rnd, 1, 3);
      if (rnd.chance(20))
        setInts(c->mutable_dilations(), rnd, 1, 3);
      if (rnd.chance(60))
        c->set_padding(randomPadding(rnd));
      if (rnd.chance(15))
        for (int k = 0, n = rnd.chance(80) ? 4 : rnd.below(6); k < n; ++k)
          c->add_pads(randomSize(rnd, 0, 2));
      if (rnd.chance(30))
        c->set_use_bias(rnd.chance(50));
      if (rnd.chance(50))
        c->set_activation(randomActivation(rnd));
      if (rnd.chance(20))
        c->set_alpha(fraction(rnd));
      if (rnd.chance(20))
        setInitializer(c->mutable_kernel_initializer(), rnd);
      break;
    }
    case 2:
    case 3: {
      Pool2D *p =
          rnd.chance(50) ? l->mutable_max_pool2d() : l->mutable_avg_pool2d();
      setInts(p->mutable_pool_size(), rnd, 1, 3);
      if (rnd.chance(40))
        setInts(p->mutable_strides(), rnd, 1, 3);
      if (rnd.chance(50))
        p->set_padding(randomPadding(rnd));
      if (rnd.chance(15))
        for (int k = 0; k < 4; ++k)
          p->add_pads(randomSize(rnd, 0, 2));
      break;
    }
    case 4:
      l->mutable_flatten();
      fourD = false;
      break;
    case 5: {
      ActivationLayer *a = l->mutable_activation();
      a->set_kind(randomActivation(rnd));
      if (rnd.chance(50))
        a->set_alpha(fraction(rnd));
      break;
    }
    case 6:
      l->mutable_dropout()->set_rate(fraction(rnd));
      break;
    case 7: {
      // A residual connection of the previous layer, or random inputs.
      l->mutable_add();
      bool residual = rnd.chance(70);
      for (int k = 0, n = residual ? 2 : rnd.below(4); k < n; ++k)
        l->add_inputs(residual ? names.back() : rnd.pick(names));
      break;
    }
    case 8: {
      Dense *d = l->mutable_dense();
      d->set_units(randomSize(rnd, 1, 12));
      if (rnd.chance(30))
        d->set_use_bias(rnd.chance(50));
      d->set_activation(rnd.chance(60) ? SOFTMAX : randomActivation(rnd));
      if (rnd.chance(20))
        d->set_alpha(fraction(rnd));
      if (rnd.chance(20))
        setInitializer(d->mutable_bias_initializer(), rnd);
      break;
    }
    }
    if (kind != 7 && rnd.chance(4))
      for (int k = 0, n = 1 + rnd.below(2); k < n; ++k)
        l->add_inputs(rnd.chance(90) ? rnd.pick(names) : "missing");
    names.push_back(name);
  }
  if (rnd.chance(95)) {
    Loss *loss = m.mutable_loss();
    switch (rnd.below(12)) {
    case 0:
      loss->mutable_binary_crossentropy();
      break;
    case 1:
      loss->mutable_mse();
      break;
    case 2:
      loss->mutable_mae();
      break;
    case 3:
      loss->mutable_huber()->set_delta(wildFloat(rnd));
      break;
    case 4:
      loss->mutable_hinge();
      break;
    case 5:
      loss->mutable_squared_hinge();
      break;
    case 6:
      loss->mutable_categorical_hinge();
      break;
    case 7:
      loss->mutable_sparse_categorical_crossentropy();
      break;
    default:
      loss->mutable_categorical_crossentropy();
      break;
    }
  }
  if (rnd.chance(70)) {
    Optimizer *o = m.mutable_optimizer();
    auto value = [&](float normal) {
      return rnd.chance(15) ? wildFloat(rnd) : normal;
    };
    switch (rnd.below(4)) {
    case 0:
      o->mutable_sgd()->set_learning_rate(value(0.01f));
      o->mutable_sgd()->set_weight_decay(value(0.0f));
      break;
    case 1:
      o->mutable_momentum()->set_learning_rate(value(0.01f));
      o->mutable_momentum()->set_momentum(value(0.9f));
      o->mutable_momentum()->set_nesterov(rnd.chance(50));
      break;
    case 2:
      o->mutable_rmsprop()->set_rho(value(0.9f));
      o->mutable_rmsprop()->set_epsilon(value(1e-7f));
      break;
    case 3:
      o->mutable_adam()->set_beta_1(value(0.9f));
      o->mutable_adam()->set_beta_2(value(0.999f));
      o->mutable_adam()->set_weight_decay(value(0.0f));
      break;
    }
  }
  if (rnd.chance(70)) {
    Training *t = m.mutable_training();
    t->set_batch_size(randomSize(rnd, 1, 64));
    t->set_epochs(randomSize(rnd, 1, 5));
    t->set_seed(rnd.chance(20) ? wildInt(rnd) : int64_t(rnd.below(100)));
    if (rnd.chance(30))
      t->set_validation_split(fraction(rnd));
    if (rnd.chance(20))
      t->set_shuffle(rnd.chance(50));
  }
  if (rnd.chance(50))
    m.mutable_data()->mutable_idx()->set_dir("/tmp/data");
  return m;
}

//===----------------------------------------------------------------------===//
// The tests
//===----------------------------------------------------------------------===//

void report(const char *what, const Stats &s) {
  std::cout << what << ": " << s.mutants << " mutants, " << s.parseFailed
            << " rejected by the parser, " << s.checkFailed
            << " by the checker, " << s.imported << " imported\n";
}

TEST(Mutation, TextMutantsOfTheExamples) {
  Frontend frontend;
  Random rnd(20240611);
  const int perExample = 1200;
  for (const char *example : kExamples) {
    std::string original = readFile(examplePath(example));
    ASSERT_FALSE(original.empty()) << example;
    std::string path = absl::StrCat("mutant_", example);
    for (int i = 0; i < perExample; ++i) {
      std::string how = absl::StrCat(example, " #", i, ":");
      std::string text = original;
      for (size_t n = 1 + rnd.below(3); n > 0; --n)
        text = mutateText(text, rnd, how);
      frontend.runText(text, path, how);
    }
  }
  report("text mutants", frontend.stats);
  frontend.expectNoFailures();
  EXPECT_EQ(frontend.stats.mutants, 3 * perExample);
  // The mutants reach every stage.
  EXPECT_GT(frontend.stats.parseFailed, 200);
  EXPECT_GT(frontend.stats.checkFailed, 200);
  EXPECT_GT(frontend.stats.imported, 200);
}

TEST(Mutation, BinaryMutantsOfTheExamples) {
  // Protobuf logs every string field with invalid UTF-8.
  google::protobuf::LogSilencer quiet;
  Frontend frontend;
  Random rnd(7);
  const int perExample = 400;
  for (const char *example : kExamples) {
    auto file = loadModelFile(examplePath(example));
    ASSERT_TRUE(file.ok()) << file.status().message();
    std::string original = (*file)->model.SerializeAsString();
    for (int i = 0; i < perExample; ++i) {
      std::string how = absl::StrCat(example, " binary #", i, ":");
      std::string bytes = original;
      for (size_t n = rnd.chance(80) ? 1 : 2; n > 0; --n)
        bytes = mutateBytes(bytes, rnd, how);
      frontend.runBinary(bytes, how);
    }
  }
  report("binary mutants", frontend.stats);
  frontend.expectNoFailures();
  EXPECT_EQ(frontend.stats.mutants, 3 * perExample);
  EXPECT_GT(frontend.stats.parseFailed, 50);
  EXPECT_GT(frontend.stats.checkFailed, 25);
  EXPECT_GT(frontend.stats.imported, 50);
}

TEST(Mutation, RandomModelsAsTextAndBinary) {
  Frontend frontend;
  Random rnd(1234);
  const int models = 1500;
  google::protobuf::TextFormat::Printer printer;
  printer.SetUseShortRepeatedPrimitives(true);
  for (int i = 0; i < models; ++i) {
    Model m = randomModel(rnd);
    std::string how = absl::StrCat("random model #", i);
    std::string text;
    ASSERT_TRUE(printer.PrintToString(m, &text));
    std::vector<std::string> fromText =
        frontend.runText(text, "random.pbtxt", how + " (text)");
    std::vector<std::string> fromBinary =
        frontend.runBinary(m.SerializeAsString(), how + " (binary)");
    // Text and binary files of one model get the same verdict and messages;
    // only the locations differ.
    EXPECT_EQ(fromText, fromBinary) << how << "\n" << text;
  }
  report("random models", frontend.stats);
  frontend.expectNoFailures();
  EXPECT_EQ(frontend.stats.mutants, 2 * models);
  EXPECT_GT(frontend.stats.checkFailed, 200);
  EXPECT_GT(frontend.stats.imported, 200);
}

} // namespace
