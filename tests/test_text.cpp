// framework/text: HF BertTokenizer ids on the golden fixture, offsets, truncation, cased mode,
// invalid UTF-8, vocab file errors, and the `kprune tokenize` line transform.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "framework/text/tokenize_json.h"
#include "framework/text/wordpiece_tokenizer.h"
#include "framework/util/error.h"
#include "framework/util/files.h"
#include "tests/test_support.h"

namespace kprune {
namespace {

using Offsets = std::vector<std::pair<int64_t, int64_t>>;

const WordPieceTokenizer& uncased() {
  static const WordPieceTokenizer tokenizer = WordPieceTokenizer::from_vocab_file(
      testing::shared_path("data/vocab/bert-base-uncased-vocab.txt"));
  return tokenizer;
}

std::string write_vocab(const std::string& contents) {
  const std::string path = testing::temp_dir("kprune_text") + "/vocab.txt";
  write_file_atomic(path, contents);
  return path;
}

// The error message of `action`, or a test failure when it does not throw kprune::Error.
template <typename Action>
std::string error_of(Action&& action) {
  try {
    action();
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected a kprune::Error";
  return "";
}

std::vector<int64_t> ids_of(const std::vector<TokenPiece>& pieces) {
  std::vector<int64_t> ids;
  for (const auto& piece : pieces) ids.push_back(piece.id);
  return ids;
}

Offsets offsets_of(const std::vector<TokenPiece>& pieces) {
  Offsets offsets;
  for (const auto& piece : pieces) offsets.emplace_back(piece.begin, piece.end);
  return offsets;
}

TEST(WordPieceTokenizer, MatchesHuggingFaceOnEveryGoldenCase) {
  const auto cases =
      read_json_lines(testing::shared_path("fixtures/tokenizer/bert-base-uncased-golden.jsonl"));
  ASSERT_EQ(cases.size(), 222u);
  int pairs = 0;
  for (const auto& golden : cases) {
    std::optional<std::string> b;
    if (golden.contains("b")) {
      b = golden.at("b").get<std::string>();
      ++pairs;
    }
    const Encoding encoding = uncased().encode(golden.at("a").get<std::string>(), b);
    EXPECT_EQ(encoding.input_ids, golden.at("input_ids").get<std::vector<int64_t>>())
        << "case " << golden.at("id") << ": " << golden.at("a");
    EXPECT_EQ(encoding.token_type_ids, golden.at("token_type_ids").get<std::vector<int64_t>>())
        << "case " << golden.at("id");
  }
  EXPECT_GT(pairs, 100);  // the fixture exercises pair encoding, not only single texts
}

TEST(WordPieceTokenizer, SpecialTokenIdsAndLookups) {
  const auto& tokenizer = uncased();
  EXPECT_EQ(tokenizer.vocab_size(), 30522);
  EXPECT_EQ(tokenizer.pad_id(), 0);
  EXPECT_EQ(tokenizer.unk_id(), 100);
  EXPECT_EQ(tokenizer.cls_id(), 101);
  EXPECT_EQ(tokenizer.sep_id(), 102);
  EXPECT_EQ(tokenizer.mask_id(), 103);
  EXPECT_TRUE(tokenizer.lower_case());
  EXPECT_EQ(tokenizer.token_to_id("##bed"), 8270);
  EXPECT_EQ(tokenizer.token_to_id("no-such-token"), 100);
  EXPECT_EQ(tokenizer.id_to_token(7668), "cafe");
  EXPECT_NE(error_of([&] { tokenizer.id_to_token(30522); }).find("30522"), std::string::npos);
}

TEST(WordPieceTokenizer, WordPiecesCoverTheirPartOfTheWord) {
  const auto pieces = uncased().tokenize("Embeddings!");
  EXPECT_EQ(ids_of(pieces),
            (std::vector<int64_t>{7861, 8270, 4667, 2015, 999}));  // em ##bed ##ding ##s !
  EXPECT_EQ(offsets_of(pieces), (Offsets{{0, 2}, {2, 5}, {5, 9}, {9, 10}, {10, 11}}));
}

TEST(WordPieceTokenizer, OffsetsCountCodePointsOfTheOriginalText) {
  // Precomposed accents: "Café" (4 code points, 5 bytes) is "cafe".
  auto pieces = uncased().tokenize("Café au lait");
  EXPECT_EQ(ids_of(pieces), (std::vector<int64_t>{7668, 8740, 21110, 2102}));  // lai ##t
  EXPECT_EQ(offsets_of(pieces), (Offsets{{0, 4}, {5, 7}, {8, 11}, {11, 12}}));

  // A separate combining accent is dropped; the piece ends at its last kept character.
  pieces = uncased().tokenize("cafe\u0301 au");
  EXPECT_EQ(ids_of(pieces), (std::vector<int64_t>{7668, 8740}));
  EXPECT_EQ(offsets_of(pieces), (Offsets{{0, 4}, {6, 8}}));

  // A zero-width space inside a word is removed without splitting it, and stays covered.
  pieces = uncased().tokenize("zero\u200bwidth");
  EXPECT_EQ(ids_of(pieces), (std::vector<int64_t>{5717, 9148, 11927, 2232}));  // zero ##wi ##dt ##h
  EXPECT_EQ(offsets_of(pieces), (Offsets{{0, 4}, {5, 7}, {7, 9}, {9, 10}}));

  // U+0130 lower-cases to "i" plus a combining dot: still one original character.
  pieces = uncased().tokenize("\u0130stanbul is");
  EXPECT_EQ(ids_of(pieces), (std::vector<int64_t>{9960, 2003}));
  EXPECT_EQ(offsets_of(pieces), (Offsets{{0, 8}, {9, 11}}));
}

TEST(WordPieceTokenizer, CjkAndHangulOffsets) {
  // Each CJK ideograph is a word of its own, even inside a Latin word.
  auto pieces = uncased().tokenize("東京abc");
  EXPECT_EQ(ids_of(pieces), (std::vector<int64_t>{1879, 1755, 5925}));
  EXPECT_EQ(offsets_of(pieces), (Offsets{{0, 1}, {1, 2}, {2, 5}}));

  // NFD splits the syllable 한 into three jamo pieces, all covering that one character.
  pieces = uncased().tokenize(" 한");
  EXPECT_EQ(ids_of(pieces), (std::vector<int64_t>{1469, 30006, 30021}));
  EXPECT_EQ(offsets_of(pieces), (Offsets{{1, 2}, {1, 2}, {1, 2}}));
}

TEST(WordPieceTokenizer, SpecialTokensInTheTextStayWhole) {
  // HF splits them out even inside a word; lower-case spellings are ordinary text.
  auto pieces = uncased().tokenize("ab[SEP]c");
  EXPECT_EQ(ids_of(pieces), (std::vector<int64_t>{11113, 102, 1039}));
  EXPECT_EQ(offsets_of(pieces), (Offsets{{0, 2}, {2, 7}, {7, 8}}));
  EXPECT_EQ(ids_of(uncased().tokenize("[sep]")), (std::vector<int64_t>{1031, 19802, 1033}));
}

TEST(WordPieceTokenizer, OverlongWordIsOneUnknownOverTheWholeWord) {
  const auto pieces = uncased().tokenize("a " + std::string(101, 'x') + " b");
  EXPECT_EQ(ids_of(pieces), (std::vector<int64_t>{1037, 100, 1038}));
  EXPECT_EQ(offsets_of(pieces), (Offsets{{0, 1}, {2, 103}, {104, 105}}));
  // 100 characters is still split into pieces, which tile the word.
  const auto hundred = uncased().tokenize(std::string(100, 'x'));
  ASSERT_GT(hundred.size(), 1u);
  int64_t covered = 0;
  for (const auto& piece : hundred) {
    EXPECT_NE(piece.id, 100);
    EXPECT_EQ(piece.begin, covered);
    covered = piece.end;
  }
  EXPECT_EQ(covered, 100);
}

TEST(WordPieceTokenizer, PairEncodingLayout) {
  const Encoding encoding = uncased().encode("Who?", "Paris.");
  EXPECT_EQ(encoding.input_ids, (std::vector<int64_t>{101, 2040, 1029, 102, 3000, 1012, 102}));
  EXPECT_EQ(encoding.token_type_ids, (std::vector<int64_t>{0, 0, 0, 0, 1, 1, 1}));
  EXPECT_EQ(encoding.offsets, (Offsets{{0, 0}, {0, 3}, {3, 4}, {0, 0}, {0, 5}, {5, 6}, {0, 0}}));
  EXPECT_EQ(encoding.sequence_ids, (std::vector<int>{-1, 0, 0, -1, 1, 1, -1}));

  const Encoding single = uncased().encode("Who?");
  EXPECT_EQ(single.input_ids, (std::vector<int64_t>{101, 2040, 1029, 102}));
  EXPECT_EQ(single.token_type_ids, (std::vector<int64_t>{0, 0, 0, 0}));
  EXPECT_EQ(single.sequence_ids, (std::vector<int>{-1, 0, 0, -1}));

  // An empty second text is still a pair.
  EXPECT_EQ(uncased().encode("Who?", "").input_ids,
            (std::vector<int64_t>{101, 2040, 1029, 102, 102}));
}

TEST(WordPieceTokenizer, LongestFirstTruncation) {
  // a: 5 tokens, b: 3 tokens, 11 with specials; removing 3: a 5->4, a 4->3, tie 3=3 -> b 3->2.
  Encoding encoding = uncased().encode("a b c d e", "f g h", 8);
  EXPECT_EQ(encoding.input_ids,
            (std::vector<int64_t>{101, 1037, 1038, 1039, 102, 1042, 1043, 102}));
  EXPECT_EQ(encoding.token_type_ids, (std::vector<int64_t>{0, 0, 0, 0, 0, 1, 1, 1}));
  EXPECT_EQ(encoding.offsets.back(), (std::pair<int64_t, int64_t>{0, 0}));
  EXPECT_EQ(encoding.offsets[6], (std::pair<int64_t, int64_t>{2, 3}));

  // Ties go to b first: 2 + 2 tokens, one to remove.
  EXPECT_EQ(uncased().encode("a b", "f g", 6).input_ids,
            (std::vector<int64_t>{101, 1037, 1038, 102, 1042, 102}));
  // A single text loses its tail.
  EXPECT_EQ(uncased().encode("a b c d e", std::nullopt, 4).input_ids,
            (std::vector<int64_t>{101, 1037, 1038, 102}));
  // Short enough: untouched; 0 means no truncation.
  EXPECT_EQ(uncased().encode("a b", "f", 6).input_ids.size(), 6u);
  EXPECT_EQ(uncased().encode("a b c d e f g h", std::nullopt, 0).input_ids.size(), 10u);

  EXPECT_NE(error_of([] { uncased().encode("a", "b", 2); }).find("max_length 2"),
            std::string::npos);
  EXPECT_NE(error_of([] { uncased().encode("a", std::nullopt, -1); }).find("-1"),
            std::string::npos);
}

TEST(WordPieceTokenizer, CasedModeKeepsCaseAndAccents) {
  const std::string path =
      write_vocab("[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nCafé\ncafé\ncafe\nHello\nhello\n##s\n!\n");
  const auto cased = WordPieceTokenizer::from_vocab_file(path, /*lower_case=*/false);
  const auto lower = WordPieceTokenizer::from_vocab_file(path, /*lower_case=*/true);
  EXPECT_FALSE(cased.lower_case());
  EXPECT_EQ(ids_of(cased.tokenize("Café Hellos! café HELLO")),
            (std::vector<int64_t>{5, 8, 10, 11, 6, 1}));
  EXPECT_EQ(ids_of(lower.tokenize("Café Hellos! café HELLO")),
            (std::vector<int64_t>{7, 9, 10, 11, 7, 9}));
  EXPECT_EQ(offsets_of(cased.tokenize("Café Hellos")), (Offsets{{0, 4}, {5, 10}, {10, 11}}));
  // A special token that is whole only after cleaning is kept in cased mode (HF never_split).
  EXPECT_EQ(ids_of(cased.tokenize("[SE\u200bP]")), (std::vector<int64_t>{3}));
  EXPECT_EQ(cased.encode("Hello", "cafe").input_ids, (std::vector<int64_t>{2, 8, 3, 7, 3}));
}

TEST(WordPieceTokenizer, InvalidUtf8IsAnErrorNamingTheByte) {
  const auto& tokenizer = uncased();
  EXPECT_NE(error_of([&] { tokenizer.tokenize("ab\xff"); }).find("byte 2"), std::string::npos);
  EXPECT_NE(error_of([&] { tokenizer.tokenize("abc\xe2\x82"); }).find("byte 3"),
            std::string::npos);  // cut off
  EXPECT_NE(error_of([&] { tokenizer.tokenize("\xc0\xaf"); }).find("overlong"), std::string::npos);
  EXPECT_NE(error_of([&] { tokenizer.tokenize("a\xed\xa0\x80"); }).find("surrogate"),
            std::string::npos);
  EXPECT_NE(error_of([&] { tokenizer.tokenize("x\x80"); }).find("byte 1"), std::string::npos);
  EXPECT_NE(error_of([&] { tokenizer.tokenize("a\xe2(b"); }).find("byte 2"), std::string::npos);
  EXPECT_NE(error_of([&] {
              tokenizer.encode("ok", std::string("\xf4\x90\x80\x80"));
            }).find("beyond U+10FFFF"),
            std::string::npos);
  // A literal U+FFFD is valid UTF-8, and HF's cleaning removes it.
  EXPECT_EQ(ids_of(tokenizer.tokenize("a\xef\xbf\xbd b")), (std::vector<int64_t>{1037, 1038}));
}

TEST(WordPieceTokenizer, VocabFileErrorsNameTheFileAndLine) {
  auto message = error_of([] { WordPieceTokenizer::from_vocab_file(write_vocab("")); });
  EXPECT_NE(message.find("vocab.txt: empty vocabulary"), std::string::npos) << message;

  message = error_of(
      [] { WordPieceTokenizer::from_vocab_file(write_vocab("[PAD]\n[UNK]\n\n[CLS]\n[SEP]\n")); });
  EXPECT_NE(message.find("vocab.txt:3: empty line"), std::string::npos) << message;

  message = error_of([] {
    WordPieceTokenizer::from_vocab_file(write_vocab("[PAD]\n[UNK]\n[CLS]\n[SEP]\nthe\nthe\n"));
  });
  EXPECT_NE(message.find("vocab.txt:6: duplicate token \"the\" (first on line 5)"),
            std::string::npos)
      << message;

  message = error_of(
      [] { WordPieceTokenizer::from_vocab_file(write_vocab("[PAD]\n[CLS]\n[SEP]\nthe\n")); });
  EXPECT_NE(message.find("has no [UNK]"), std::string::npos) << message;
  EXPECT_NE(message.find("vocab.txt"), std::string::npos) << message;

  message = error_of([] {
    WordPieceTokenizer::from_vocab_file(write_vocab("[PAD]\n[UNK]\n[CLS]\n[SEP]\nb\xff\n"));
  });
  EXPECT_NE(message.find("vocab.txt:5: invalid UTF-8 at byte 1"), std::string::npos) << message;

  message = error_of([] { WordPieceTokenizer::from_vocab_file("/nonexistent/vocab.txt"); });
  EXPECT_NE(message.find("/nonexistent/vocab.txt"), std::string::npos) << message;

  // Without [MASK] the tokenizer works; asking for the mask id is the error.
  const auto no_mask =
      WordPieceTokenizer::from_vocab_file(write_vocab("[PAD]\r\n[UNK]\r\n[CLS]\r\n[SEP]\r\nhi"));
  EXPECT_EQ(no_mask.vocab_size(), 5);
  EXPECT_EQ(no_mask.token_to_id("hi"), 4);  // CRLF line ends and no final newline are accepted
  EXPECT_NE(error_of([&] { no_mask.mask_id(); }).find("no [MASK]"), std::string::npos);
}

TEST(TokenizeJsonLine, AddsIdsAndOffsetsAndKeepsOtherFields) {
  const auto record = tokenize_json_line(
      uncased(), R"({"id": "q7", "a": "Who?", "b": "Paris.", "label": 1})", "stdin", 1, 0);
  EXPECT_EQ(record.dump(),
            R"({"id":"q7","a":"Who?","b":"Paris.","label":1,)"
            R"("input_ids":[101,2040,1029,102,3000,1012,102],"token_type_ids":[0,0,0,0,1,1,1],)"
            R"("offsets":[[0,0],[0,3],[3,4],[0,0],[0,5],[5,6],[0,0]]})");

  const auto truncated = tokenize_json_line(uncased(), R"({"a": "a b c d e"})", "stdin", 2, 4);
  EXPECT_EQ(truncated.at("input_ids"), nlohmann::ordered_json({101, 1037, 1038, 102}));
  EXPECT_EQ(truncated.at("offsets"), nlohmann::ordered_json::parse("[[0,0],[0,1],[2,3],[0,0]]"));
}

TEST(TokenizeJsonLine, MalformedLinesNameTheLine) {
  auto message = error_of([] { tokenize_json_line(uncased(), "{\"a\": ", "stdin", 3, 0); });
  EXPECT_NE(message.find("stdin line 3: not valid JSON"), std::string::npos) << message;
  message = error_of([] { tokenize_json_line(uncased(), "[1, 2]", "stdin", 4, 0); });
  EXPECT_NE(message.find("stdin line 4: expected a JSON object"), std::string::npos) << message;
  message = error_of([] { tokenize_json_line(uncased(), R"({"b": "x"})", "stdin", 5, 0); });
  EXPECT_NE(message.find("stdin line 5: expected a string field \"a\""), std::string::npos)
      << message;
  message = error_of([] { tokenize_json_line(uncased(), R"({"a": "x", "b": 2})", "stdin", 6, 0); });
  EXPECT_NE(message.find("stdin line 6: field \"b\" must be a string"), std::string::npos)
      << message;
  message =
      error_of([] { tokenize_json_line(uncased(), R"({"a": "x", "b": "y"})", "stdin", 7, 2); });
  EXPECT_NE(message.find("stdin line 7: max_length 2"), std::string::npos) << message;
}

}  // namespace
}  // namespace kprune
