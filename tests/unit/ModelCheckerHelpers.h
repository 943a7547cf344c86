//===- ModelCheckerHelpers.h - checking model text in a test ----*- C++ -*-===//
//
// What the model checker tests share: parse model text in memory and check
// it (`check`), the error lines of a bad model (`errorsOf`, `errorOf`,
// `syntaxErrorOf`), a layer or parameter by name, and a small valid model,
// one part per line, that the tests break in one place at a time.
//
//===----------------------------------------------------------------------===//

#ifndef GRADC_TESTS_UNIT_MODELCHECKERHELPERS_H
#define GRADC_TESTS_UNIT_MODELCHECKERHELPERS_H

#include "frontend/ModelChecker.h"
#include "frontend/ModelLoader.h"

#include "absl/strings/str_split.h"
#include "gtest/gtest.h"

#include <memory>
#include <string>
#include <vector>

namespace gradc::test {

/// The path model text is parsed under: error lines start with it.
inline const char *const kPath = "model.pbtxt";

/// The non-empty lines of `text`.
inline std::vector<std::string> lines(absl::string_view text) {
  return absl::StrSplit(text, '\n', absl::SkipEmpty());
}

/// A parsed and checked model; `file` outlives `model`, which points to it.
struct Checked {
  std::unique_ptr<ModelFile> file;
  absl::StatusOr<ResolvedModel> model = absl::UnknownError("not checked");

  std::vector<std::string> errors() const {
    return model.ok() ? std::vector<std::string>{}
                      : lines(model.status().message());
  }
};

inline Checked check(const std::string &text) {
  Checked c;
  auto file = parseModelText(text, kPath);
  EXPECT_TRUE(file.ok()) << file.status().message();
  if (!file.ok())
    return c;
  c.file = std::move(*file);
  c.model = checkModel(*c.file);
  return c;
}

/// The lines of a bad model's report; the model must fail.
inline std::vector<std::string> errorsOf(const std::string &text) {
  Checked c = check(text);
  EXPECT_FALSE(c.model.ok()) << "the model passed:\n" << text;
  return c.errors();
}

/// The one error line of a model with a single problem.
inline std::string errorOf(const std::string &text) {
  std::vector<std::string> errs = errorsOf(text);
  EXPECT_EQ(errs.size(), 1u) << testing::PrintToString(errs);
  return errs.empty() ? "" : errs[0];
}

inline std::string syntaxErrorOf(const std::string &text) {
  auto file = parseModelText(text, kPath);
  EXPECT_FALSE(file.ok());
  return file.ok() ? "" : std::string(file.status().message());
}

inline const ResolvedLayer *findLayer(const ResolvedModel &m,
                                      const std::string &name) {
  for (const ResolvedLayer &l : m.layers)
    if (l.layer->name() == name)
      return &l;
  return nullptr;
}

inline const ParamSpec *findParam(const ResolvedModel &m,
                                  const std::string &name) {
  for (const ParamSpec &p : m.params)
    if (p.name == name)
      return &p;
  return nullptr;
}

using Shape = std::vector<int64_t>;

// A small valid model, one part per line, that the tests break in one place
// at a time: model(layers) puts `layers` between kHeader and kTail.
inline const char *const kHeader =
    "name: \"t\"\n"
    "input { name: \"image\" shape: [8, 8, 1] }\n";
inline const char *const kTail = "loss { categorical_crossentropy {} }\n"
                                 "optimizer { adam {} }\n"
                                 "training { batch_size: 4 }\n";

inline std::string model(const std::string &layers,
                         const std::string &tail = kTail) {
  return std::string(kHeader) + layers + tail;
}

inline const char *const kOutput =
    "layer { name: \"out\" dense { units: 3 activation: SOFTMAX } }\n";

} // namespace gradc::test

#endif // GRADC_TESTS_UNIT_MODELCHECKERHELPERS_H
