//===- Text.h - a text file as windows of token ids -------------*- C++ -*-===//
//
// A language model's data: a text read as bytes (ids 0-255) or as the UTF-8
// characters it contains (ids in code-point order), cut into windows of
// `context` tokens, each labelled with the tokens that follow its own, one
// per position (the next-token targets of a causal model).
//
//===----------------------------------------------------------------------===//

#ifndef GRADC_RUNTIME_TEXT_H
#define GRADC_RUNTIME_TEXT_H

#include "runtime/data/Dataset.h"

#include <string>
#include <vector>

namespace gradc {

/// Text files are read whole; above this they are refused.
constexpr int64_t kMaxTextFileBytes = int64_t(256) << 20;

enum class TextVocabulary { Bytes, Chars };

/// The vocabulary of `text`: its 256 bytes, or its distinct UTF-8
/// characters in code-point order (an error naming `path` and the byte
/// offset of invalid UTF-8). Entry k is token k's text.
absl::StatusOr<std::vector<std::string>>
textVocabulary(const std::string &text, TextVocabulary kind,
               const std::string &path);

/// `text` as token ids of `vocabulary` (from textVocabulary); an error
/// naming `path` and the offset of a character the vocabulary lacks.
absl::StatusOr<std::vector<int64_t>>
tokenize(const std::string &text, const std::vector<std::string> &vocabulary,
         const std::string &path);

/// The text file `path` as examples of `context` ids (one window after the
/// other, in the file's order) whose labels are the ids one position on;
/// the vocabulary in `*vocabulary`. At least one window (context + 1
/// tokens) is needed.
absl::StatusOr<Dataset> loadText(const std::string &path, TextVocabulary kind,
                                 int64_t context,
                                 std::vector<std::string> *vocabulary);

} // namespace gradc

#endif // GRADC_RUNTIME_TEXT_H
