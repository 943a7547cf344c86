//===- Text.cpp - a text file as windows of token ids ---------------------===//
//
// Bytes or UTF-8 characters to ids, and the windows with their next-token
// labels (runtime/data/Text.h).
//
//===----------------------------------------------------------------------===//

#include "runtime/data/Text.h"

#include "support/Files.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

#include <algorithm>
#include <set>
#include <string_view>

namespace gradc {
namespace {

/// The length of the UTF-8 character at `text[i]`, or 0 when it is not
/// one (a stray continuation byte, a truncated or overlong sequence, a
/// surrogate or a code point above U+10FFFF).
size_t utf8Length(const std::string &text, size_t i) {
  auto byte = [&](size_t k) { return uint8_t(text[k]); };
  uint8_t b = byte(i);
  size_t n = b < 0x80         ? 1
             : (b >> 5) == 6  ? 2
             : (b >> 4) == 14 ? 3
             : (b >> 3) == 30 ? 4
                              : 0;
  if (n == 0 || i + n > text.size())
    return 0;
  uint32_t cp = n == 1 ? b : b & (0x7f >> n);
  for (size_t k = 1; k < n; ++k) {
    if ((byte(i + k) >> 6) != 2)
      return 0;
    cp = (cp << 6) | (byte(i + k) & 0x3f);
  }
  static const uint32_t kLeast[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kLeast[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
    return 0;
  return n;
}

/// Calls `f(offset, length)` for each token of `text`; an error at the
/// first byte that does not start a UTF-8 character.
template <typename F>
absl::Status forEachToken(const std::string &text, TextVocabulary kind,
                          const std::string &path, F f) {
  for (size_t i = 0; i < text.size();) {
    size_t n = kind == TextVocabulary::Bytes ? 1 : utf8Length(text, i);
    if (n == 0)
      return absl::InvalidArgumentError(absl::StrCat(
          path, ": error: invalid UTF-8 at byte ", i,
          " (use data { text { vocabulary: BYTES } } for other encodings)"));
    if (absl::Status s = f(i, n); !s.ok())
      return s;
    i += n;
  }
  return absl::OkStatus();
}

} // namespace

absl::StatusOr<std::vector<std::string>>
textVocabulary(const std::string &text, TextVocabulary kind,
               const std::string &path) {
  std::vector<std::string> vocabulary;
  if (kind == TextVocabulary::Bytes) {
    for (int b = 0; b < 256; ++b)
      vocabulary.push_back(std::string(1, char(b)));
    return vocabulary;
  }
  // UTF-8's byte order is code-point order.
  std::set<std::string_view> seen;
  absl::Status s = forEachToken(text, kind, path, [&](size_t i, size_t n) {
    seen.insert(std::string_view(text).substr(i, n));
    return absl::OkStatus();
  });
  if (!s.ok())
    return s;
  for (std::string_view entry : seen)
    vocabulary.emplace_back(entry);
  return vocabulary;
}

absl::StatusOr<std::vector<int64_t>>
tokenize(const std::string &text, const std::vector<std::string> &vocabulary,
         const std::string &path) {
  TextVocabulary kind =
      vocabulary.size() == 256 &&
              std::all_of(vocabulary.begin(), vocabulary.end(),
                          [](const std::string &v) { return v.size() == 1; })
          ? TextVocabulary::Bytes
          : TextVocabulary::Chars;
  std::vector<int64_t> ids;
  ids.reserve(text.size());
  absl::Status s = forEachToken(text, kind, path, [&](size_t i, size_t n) {
    std::string_view token = std::string_view(text).substr(i, n);
    auto it = std::lower_bound(
        vocabulary.begin(), vocabulary.end(), token,
        [](const std::string &v, std::string_view t) { return v < t; });
    if (it == vocabulary.end() || *it != token)
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": error: the character '",
                       absl::CHexEscape(std::string(token)), "' at byte ", i,
                       " is not in the vocabulary"));
    ids.push_back(int64_t(it - vocabulary.begin()));
    return absl::OkStatus();
  });
  if (!s.ok())
    return s;
  return ids;
}

absl::StatusOr<Dataset> loadText(const std::string &path, TextVocabulary kind,
                                 int64_t context,
                                 std::vector<std::string> *vocabulary) {
  auto text = readRegularFile(path, "text file", kMaxTextFileBytes);
  if (!text.ok())
    return text.status();
  auto vocab = textVocabulary(*text, kind, path);
  if (!vocab.ok())
    return vocab.status();
  auto ids = tokenize(*text, *vocab, path);
  if (!ids.ok())
    return ids.status();
  std::string().swap(*text); // freed: the ids hold it now
  if (context <= 0)
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": error: context must be positive, got ", context));
  int64_t windows = (int64_t(ids->size()) - 1) / context;
  if (windows < 1)
    return absl::InvalidArgumentError(absl::StrCat(
        path, ": error: the text has ", ids->size(), " tokens, a window of ",
        context, " and its next token need ", context + 1));
  Dataset d;
  d.height = d.width = 1;
  d.channels = context;
  d.idBytes = 8;
  d.labelWidth = context;
  d.labels.resize(size_t(windows * context));
  for (int64_t k = 0; k < windows * context; ++k)
    d.labels[size_t(k)] = int32_t((*ids)[size_t(k + 1)]);
  // The ids themselves, not a copy: a large text is several times its
  // bytes in memory already.
  ids->resize(size_t(windows * context));
  d.ids = std::move(*ids);
  *vocabulary = std::move(*vocab);
  return d;
}

} // namespace gradc
