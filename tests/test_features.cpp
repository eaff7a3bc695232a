// Tokenized features from examples, with the real bert-base-uncased vocab.
#include <gtest/gtest.h>

#include <cmath>

#include "framework/tasks/features.h"
#include "framework/tasks/tokenizer_files.h"
#include "framework/util/error.h"
#include "framework/util/files.h"
#include "tests/test_support.h"

namespace kprune {
namespace {

// bert-base-uncased ids (line number - 1 in vocab.txt).
constexpr int64_t kCls = 101, kSep = 102, kHello = 7592, kWorld = 2088, kAgain = 2153;

TEST(Features, SingleAndPairEncodingWithTokenTypes) {
  const auto tokenizer = WordPieceTokenizer::from_vocab_file(
      testing::shared_path("data/vocab/bert-base-uncased-vocab.txt"));
  const std::vector<Example> examples = {{"Hello world ", std::nullopt, 1, 2},
                                         {"hello", "World again", 0, 3},
                                         {"hello world again", std::nullopt, NAN, 4}};
  const auto features = encode_examples(tokenizer, examples, 64, true);
  ASSERT_EQ(features.size(), 3u);
  EXPECT_EQ(features[0].input_ids, (std::vector<int64_t>{kCls, kHello, kWorld, kSep}));
  EXPECT_EQ(features[0].token_type_ids, (std::vector<int64_t>{0, 0, 0, 0}));
  EXPECT_EQ(features[0].label, 1);
  EXPECT_EQ(features[0].example_index, 0);
  EXPECT_EQ(features[1].input_ids,
            (std::vector<int64_t>{kCls, kHello, kSep, kWorld, kAgain, kSep}));
  EXPECT_EQ(features[1].token_type_ids, (std::vector<int64_t>{0, 0, 0, 1, 1, 1}));
  EXPECT_EQ(features[1].example_index, 1);
  EXPECT_TRUE(std::isnan(features[2].label));

  // DistilBERT has no token types: all zeros.
  const auto untyped = encode_examples(tokenizer, examples, 64, false);
  EXPECT_EQ(untyped[1].input_ids, features[1].input_ids);
  EXPECT_EQ(untyped[1].token_type_ids, (std::vector<int64_t>(6, 0)));

  // Truncation to max_seq_len keeps [CLS] ... [SEP].
  const auto truncated = encode_examples(tokenizer, examples, 3, true);
  EXPECT_EQ(truncated[2].input_ids, (std::vector<int64_t>{kCls, kHello, kSep}));
}

TEST(Features, CheckpointTokenizerCaseFromTokenizerConfig) {
  const std::string dir = testing::temp_dir("tokenizer");
  write_file_atomic(dir + "/vocab.txt", "[PAD]\n[UNK]\n[CLS]\n[SEP]\nhello\nHello\n");
  // No tokenizer_config.json: lower-cased, as HF's default.
  EXPECT_EQ(load_checkpoint_tokenizer(dir).encode("Hello").input_ids,
            (std::vector<int64_t>{2, 4, 3}));
  write_file_atomic(dir + "/tokenizer_config.json", R"({"do_lower_case": false})");
  EXPECT_EQ(load_checkpoint_tokenizer(dir).encode("Hello").input_ids,
            (std::vector<int64_t>{2, 5, 3}));
  write_file_atomic(dir + "/tokenizer_config.json", R"({"do_lower_case": "yes"})");
  try {
    load_checkpoint_tokenizer(dir);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("tokenizer_config.json: key 'do_lower_case': expected "
                                         "true or false, found \"yes\""),
              std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace kprune
