//===- MutationTest.cpp - mutants of the example models -------------------===//
//
// Feeds deterministic mutants of the example models through the whole
// frontend (MutationFrontend.h): text mutants (flipped, inserted, deleted
// and junk bytes, truncation, duplicated, removed and swapped lines,
// extreme numbers and huge lists, swapped names and keywords, explicit
// inputs, inserted parts) and binary mutants (flipped, overwritten,
// inserted, deleted and duplicated bytes, truncation, big varints). Whatever
// the input, the frontend must not crash or hang; a rejected file gets error
// lines that each start with its path; an accepted one imports to a module
// that verifies. Random models built through the protobuf API are in
// MutationRandomModelsTest.cpp.
//
//===----------------------------------------------------------------------===//

#include "ExampleFiles.h"
#include "MutationFrontend.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/stubs/logging.h"
#include "gtest/gtest.h"

#include <algorithm>
#include <cctype>
#include <string>
#include <vector>

using namespace gradc;
using namespace gradc::test;

namespace {

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
// The tests
//===----------------------------------------------------------------------===//

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

} // namespace
