//===- TextTest.cpp - text files as windows of token ids ------------------===//
//
// runtime/data/Text.h: the byte and character vocabularies, the windows and
// their next-token labels, and one clear error for invalid UTF-8, a
// character outside the vocabulary and a text too short for one window.
//
//===----------------------------------------------------------------------===//

#include "TempDirTest.h"

#include "runtime/data/Text.h"

using namespace gradc;

namespace {

using TextTest = TempDirTest;

TEST_F(TextTest, BytesAreTheirOwnIds) {
  std::vector<std::string> vocabulary;
  auto d = loadText(write("a.txt", "abcdefg"), TextVocabulary::Bytes, 3,
                    &vocabulary);
  ASSERT_TRUE(d.ok()) << d.status().message();
  ASSERT_EQ(vocabulary.size(), 256u);
  EXPECT_EQ(vocabulary['a'], "a");
  // 7 bytes: two windows of 3 with their next bytes; the 7th is only a label.
  EXPECT_EQ(d->size(), 2);
  EXPECT_EQ(d->exampleSize(), 3);
  EXPECT_EQ(d->labelWidth, 3);
  EXPECT_EQ(d->ids, (std::vector<int64_t>{'a', 'b', 'c', 'd', 'e', 'f'}));
  EXPECT_EQ(d->labels, (std::vector<int32_t>{'b', 'c', 'd', 'e', 'f', 'g'}));
}

TEST_F(TextTest, CharactersInCodePointOrder) {
  std::vector<std::string> vocabulary;
  // "é" (U+00E9) and "€" (U+20AC) are 2 and 3 bytes.
  auto d = loadText(write("u.txt", "b\xc3\xa9"
                                   "a\xe2\x82\xac"
                                   "b"),
                    TextVocabulary::Chars, 2, &vocabulary);
  ASSERT_TRUE(d.ok()) << d.status().message();
  EXPECT_EQ(vocabulary,
            (std::vector<std::string>{"a", "b", "\xc3\xa9", "\xe2\x82\xac"}));
  // b é a € b: windows [b é] [a €] labelled [é a] [€ b].
  EXPECT_EQ(d->ids, (std::vector<int64_t>{1, 2, 0, 3}));
  EXPECT_EQ(d->labels, (std::vector<int32_t>{2, 0, 3, 1}));
}

TEST_F(TextTest, TokenizeWithAGivenVocabulary) {
  std::vector<std::string> vocabulary{"a", "b", "c"};
  auto ids = tokenize("cab", vocabulary, "prompt");
  ASSERT_TRUE(ids.ok());
  EXPECT_EQ(*ids, (std::vector<int64_t>{2, 0, 1}));
  auto bad = tokenize("cad", vocabulary, "prompt");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(),
            "prompt: error: the character 'd' at byte 2 is not in the "
            "vocabulary");
}

TEST_F(TextTest, ErrorsNameTheFileAndThePlace) {
  std::vector<std::string> vocabulary;
  std::string bad = write("bad.txt", "ok\xff then");
  auto d = loadText(bad, TextVocabulary::Chars, 2, &vocabulary);
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().message(),
            bad + ": error: invalid UTF-8 at byte 2 (use data { text { "
                  "vocabulary: BYTES } } for other encodings)");
  // Bytes take any encoding.
  EXPECT_TRUE(loadText(bad, TextVocabulary::Bytes, 2, &vocabulary).ok());
  // An overlong encoding of '/' and a lone continuation byte.
  for (const char *text : {"a\xc0\xaf", "\x80"})
    EXPECT_FALSE(
        loadText(write("o.txt", text), TextVocabulary::Chars, 1, &vocabulary)
            .ok());
  std::string shortText = write("short.txt", "abc");
  d = loadText(shortText, TextVocabulary::Bytes, 3, &vocabulary);
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().message(),
            shortText + ": error: the text has 3 tokens, a window of 3 and "
                        "its next token need 4");
  d = loadText(path("missing.txt"), TextVocabulary::Bytes, 3, &vocabulary);
  EXPECT_FALSE(d.ok());
}

} // namespace
