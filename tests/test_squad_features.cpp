// SQuAD features (windows, offsets, training positions) and decoding on hand-made logits
// (algorithms.md 8.2), on a tiny vocabulary with a small max length so that answers cross the
// window borders.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "framework/tasks/squad_data.h"
#include "framework/tasks/squad_decode.h"
#include "framework/tasks/squad_evaluate.h"
#include "framework/tasks/squad_features.h"
#include "framework/text/utf8.h"
#include "framework/util/error.h"
#include "tests/model_fixtures.h"
#include "tests/test_support.h"

namespace kprune {
namespace {

// Ids: [PAD] 0, [UNK] 1, [CLS] 2, [SEP] 3, [MASK] 4, q 5, cafe 6, t1..t11 7..17, why 18.
WordPieceTokenizer tiny_tokenizer() {
  const std::string dir = testing::temp_dir("squad_features");
  const std::string path = dir + "/vocab.txt";
  std::ofstream vocab(path);
  vocab << "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nq\ncafe\n";
  for (int i = 1; i <= 11; ++i) vocab << "t" << i << "\n";
  vocab << "why\n";
  vocab.close();
  return WordPieceTokenizer::from_vocab_file(path);
}

// 12 one-token words; "Café " is 5 code points (6 bytes), so t_k (k = 1..9) starts at
// 5 + 3 (k - 1), t10 at 32, t11 at 36.
const std::string kContext = "Café t1 t2 t3 t4 t5 t6 t7 t8 t9 t10 t11";

nlohmann::json qa(const std::string& id, const std::string& question, const std::string& text,
                  int64_t start) {
  nlohmann::json answers = nlohmann::json::array();
  if (!text.empty()) answers.push_back({{"text", text}, {"answer_start", start}});
  return {
      {"id", id}, {"question", question}, {"answers", answers}, {"is_impossible", text.empty()}};
}

SquadDataset dataset_of(nlohmann::json qas) {
  return parse_squad(
      {{"version", "v2.0"},
       {"data",
        {{{"title", "T"}, {"paragraphs", {{{"context", kContext}, {"qas", std::move(qas)}}}}}}}},
      "tiny.json");
}

// "[CLS] q [SEP]" + a window of 5 context tokens + "[SEP]": windows [0,5) [3,8) [6,11) [9,12).
SquadFeatureOptions small_windows() {
  SquadFeatureOptions options;
  options.max_seq_len = 9;
  options.stride = 2;
  return options;
}

TEST(SquadFeatures, WindowStartsFollowHfOverflow) {
  EXPECT_EQ(squad_window_starts(12, 5, 2), (std::vector<int64_t>{0, 3, 6, 9}));
  EXPECT_EQ(squad_window_starts(10, 4, 2), (std::vector<int64_t>{0, 2, 4, 6}));
  EXPECT_EQ(squad_window_starts(11, 4, 1), (std::vector<int64_t>{0, 3, 6, 9}));
  EXPECT_EQ(squad_window_starts(10, 10, 3), (std::vector<int64_t>{0}));
  EXPECT_EQ(squad_window_starts(0, 5, 2), (std::vector<int64_t>{0}));
  EXPECT_THROW(squad_window_starts(10, 4, 4), Error);
}

TEST(SquadFeatures, WindowsOffsetsAndPositionsAcrossBorders) {
  const auto tokenizer = tiny_tokenizer();
  // a: "t4 t5" crosses the border of window 0; b: "t7" is the last token of window 1;
  // c: "10" lies inside the token t10; d: unanswerable.
  const SquadDataset dataset = dataset_of({qa("a", "  q", "t4 t5", 14), qa("b", "q", "t7", 23),
                                           qa("c", "q", "10", 33), qa("d", "q", "", 0)});
  const auto features = make_squad_features(tokenizer, dataset, small_windows());
  ASSERT_EQ(features.size(), 16u);
  const SquadFeature& first = features[0];
  EXPECT_EQ(first.example_id, "a");
  EXPECT_EQ(first.tokens.example_index, 0);
  EXPECT_TRUE(std::isnan(first.tokens.label));
  EXPECT_EQ(first.tokens.input_ids, (std::vector<int64_t>{2, 5, 3, 6, 7, 8, 9, 10, 3}));
  EXPECT_EQ(first.tokens.token_type_ids, (std::vector<int64_t>{0, 0, 0, 1, 1, 1, 1, 1, 1}));
  using Offsets = std::vector<std::pair<int64_t, int64_t>>;
  const auto null = kNoContextOffset;
  EXPECT_EQ(first.context_offsets,
            (Offsets{null, null, null, {0, 4}, {5, 7}, {8, 10}, {11, 13}, {14, 16}, null}));
  EXPECT_EQ(features[1].tokens.input_ids, (std::vector<int64_t>{2, 5, 3, 9, 10, 11, 12, 13, 3}));
  EXPECT_EQ(features[3].tokens.input_ids, (std::vector<int64_t>{2, 5, 3, 15, 16, 17, 3}));
  EXPECT_EQ(features[3].context_offsets,
            (Offsets{null, null, null, {29, 31}, {32, 35}, {36, 39}, null}));

  // (start, end) per window of each question: [0,5) [3,8) [6,11) [9,12).
  auto positions = [&](size_t question) {
    std::vector<std::pair<int64_t, int64_t>> out;
    for (size_t w = 0; w < 4; ++w) {
      const SquadFeature& feature = features[question * 4 + w];
      EXPECT_EQ(feature.tokens.example_index, static_cast<int64_t>(question));
      out.emplace_back(feature.start_position, feature.end_position);
    }
    return out;
  };
  using Positions = std::vector<std::pair<int64_t, int64_t>>;
  EXPECT_EQ(positions(0), (Positions{{0, 0}, {4, 5}, {0, 0}, {0, 0}}));
  EXPECT_EQ(positions(1), (Positions{{0, 0}, {7, 7}, {4, 4}, {0, 0}}));
  EXPECT_EQ(positions(2), (Positions{{0, 0}, {0, 0}, {7, 7}, {4, 4}}));
  EXPECT_EQ(positions(3), (Positions{{0, 0}, {0, 0}, {0, 0}, {0, 0}}));

  const auto batch = collate_squad({&features[1], &features[3]}, true);
  EXPECT_EQ(batch.seq_len(), 9);
  EXPECT_EQ(batch.attention_mask[1].sum().item<int64_t>(), 7);
  EXPECT_EQ(batch.start_positions[0].item<int64_t>(), 4);
  EXPECT_EQ(batch.end_positions[0].item<int64_t>(), 5);
  EXPECT_FALSE(collate_squad({&features[1]}, false).start_positions.defined());
}

TEST(SquadFeatures, ShortContextsAndDefaultsGiveOneWindow) {
  const auto tokenizer = tiny_tokenizer();
  const SquadDataset dataset = dataset_of({qa("a", "why q", "t11", 36)});
  SquadFeatureOptions options;
  options.use_token_types = false;
  const auto features = make_squad_features(tokenizer, dataset, options);
  ASSERT_EQ(features.size(), 1u);
  EXPECT_EQ(features[0].tokens.length(), 2 + 1 + 12 + 2);
  EXPECT_EQ(features[0].tokens.token_type_ids, std::vector<int64_t>(17, 0));
  EXPECT_EQ(features[0].start_position, 15);
  EXPECT_EQ(features[0].end_position, 15);
}

TEST(SquadFeatures, AQuestionLeavingNoRoomBeyondTheStrideIsAnError) {
  const auto tokenizer = tiny_tokenizer();
  const SquadDataset dataset = dataset_of({qa("long", "why q why q", "t11", 36)});
  SquadFeatureOptions options = small_windows();  // 9 - 4 - 3 = 2 context tokens <= stride 2
  try {
    make_squad_features(tokenizer, dataset, options);
    ADD_FAILURE() << "no error";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("question long"), std::string::npos) << error.what();
  }
}

// Zero logits over each feature plus 3 padding entries of 1000 (ignored by decoding).
struct Logits {
  std::vector<std::vector<double>> start, end;
  explicit Logits(const std::vector<SquadFeature>& features) {
    for (const auto& feature : features) {
      std::vector<double> row(static_cast<size_t>(feature.tokens.length()), 0.0);
      row.insert(row.end(), 3, 1000.0);
      start.push_back(row);
      end.push_back(row);
    }
  }
  // Start and end logits at [CLS] of feature f, each half of `score`.
  void null(size_t f, double score) { start[f][0] = end[f][0] = score / 2; }
};

TEST(SquadDecode, BestSpanOverWindowsAndTheV2NullScore) {
  const auto tokenizer = tiny_tokenizer();
  const SquadDataset dataset = dataset_of({qa("a", "q", "t4 t5", 14)});
  const auto features = make_squad_features(tokenizer, dataset, small_windows());
  ASSERT_EQ(features.size(), 4u);
  Logits logits(features);
  logits.start[1][4] = 5;  // window 1: "t4 t5" scores 9
  logits.end[1][5] = 4;
  logits.start[2][5] = 6;  // window 2: "t8 t9" scores 10
  logits.end[2][6] = 4;
  logits.start[0][1] = 50;  // the question token and [SEP] are never part of an answer
  logits.end[0][8] = 50;
  auto decode = [&](const SquadDecodeOptions& options) {
    const auto predictions = decode_squad(dataset, features, logits.start, logits.end, options);
    EXPECT_EQ(predictions.size(), 1u);
    EXPECT_EQ(predictions[0].id, "a");
    return predictions[0];
  };
  EXPECT_EQ(decode({}).text, "t8 t9");
  EXPECT_EQ(prediction_texts({decode({})}), (std::map<std::string, std::string>{{"a", "t8 t9"}}));

  // v2: the null score is the MINIMUM over windows of start[0] + end[0].
  SquadDecodeOptions v2;
  v2.version_2 = true;
  for (size_t f = 0; f < 4; ++f) logits.null(f, 12);
  logits.null(3, 10.5);
  EXPECT_EQ(decode(v2).text, "");
  EXPECT_DOUBLE_EQ(decode(v2).null_score_diff, 0.5);
  logits.null(3, 9.5);
  EXPECT_EQ(decode(v2).text, "t8 t9");
  EXPECT_DOUBLE_EQ(decode(v2).null_score_diff, -0.5);
  v2.null_threshold = -1;
  EXPECT_EQ(decode(v2).text, "");
  // v1 ignores the null score.
  EXPECT_EQ(decode({}).text, "t8 t9");
}

TEST(SquadDecode, LengthLimitOrderAndFallback) {
  const auto tokenizer = tiny_tokenizer();
  const SquadDataset dataset = dataset_of({qa("a", "q", "t4 t5", 14)});
  const auto features = make_squad_features(tokenizer, dataset, small_windows());
  Logits logits(features);
  // Window 0 ("Café t1 t2 t3 t4"): start at Café, end at t4 = 5 tokens.
  logits.start[0][3] = 50;
  logits.end[0][7] = 50;
  logits.end[0][4] = 1;
  SquadDecodeOptions options;
  options.max_answer_length = 5;
  EXPECT_EQ(decode_squad(dataset, features, logits.start, logits.end, options)[0].text,
            "Café t1 t2 t3 t4");
  options.max_answer_length = 4;
  // Too long now; the next best span is Café (50) to t1 (1).
  EXPECT_EQ(decode_squad(dataset, features, logits.start, logits.end, options)[0].text, "Café t1");

  // With one start and one end per window and the end before the start everywhere, no span is
  // left: v1 answers "empty"; v2 compares the null score with the fallback's score 0.
  Logits reversed(features);
  for (size_t f = 0; f < 4; ++f) {
    reversed.start[f][7] = 3;
    reversed.end[f][3] = 3;
  }
  SquadDecodeOptions one;
  one.n_best = 1;
  EXPECT_EQ(decode_squad(dataset, features, reversed.start, reversed.end, one)[0].text, "empty");
  one.version_2 = true;
  for (size_t f = 0; f < 4; ++f) reversed.null(f, -1);
  EXPECT_EQ(decode_squad(dataset, features, reversed.start, reversed.end, one)[0].text, "empty");
  for (size_t f = 0; f < 4; ++f) reversed.null(f, 2);
  EXPECT_EQ(decode_squad(dataset, features, reversed.start, reversed.end, one)[0].text, "");

  Logits short_rows(features);
  short_rows.start[2].resize(3);
  EXPECT_THROW(decode_squad(dataset, features, short_rows.start, short_rows.end), Error);
}

TEST(SquadEvaluate, AgreesWithDecodingOneFeatureAtATimeForAnyBatchSize) {
  const auto tokenizer = tiny_tokenizer();
  const SquadDataset dataset = dataset_of({qa("a", "  q", "t4 t5", 14), qa("b", "why q", "t7", 23),
                                           qa("c", "q", "10", 33), qa("d", "q", "", 0)});
  const auto features = make_squad_features(tokenizer, dataset, small_windows());
  const auto model =
      testing::tiny_model(testing::tiny_config("bert", HeadKind::question_answering), 3);
  std::vector<std::vector<double>> starts, ends;
  int64_t tokens = 0;
  for (const SquadFeature& feature : features) {
    const auto output = model->forward(collate_squad({&feature}, false));
    const torch::Tensor start = output.start_logits[0].contiguous();
    const torch::Tensor end = output.end_logits[0].contiguous();
    starts.emplace_back(start.data_ptr<double>(), start.data_ptr<double>() + start.numel());
    ends.emplace_back(end.data_ptr<double>(), end.data_ptr<double>() + end.numel());
    tokens += feature.tokens.length();
  }
  SquadDecodeOptions v2;
  v2.version_2 = true;
  const auto expected = decode_squad(dataset, features, starts, ends, v2);
  ASSERT_EQ(expected.size(), 4u);
  for (const int64_t batch_size : {1, 3, 16}) {
    const SquadEvalResult result = evaluate_squad(*model, dataset, features, v2, batch_size);
    ASSERT_EQ(result.predictions.size(), expected.size());
    for (size_t q = 0; q < expected.size(); ++q) {
      EXPECT_EQ(result.predictions[q].id, expected[q].id);
      EXPECT_EQ(result.predictions[q].text, expected[q].text) << batch_size;
      EXPECT_NEAR(result.predictions[q].null_score_diff, expected[q].null_score_diff, 1e-9);
    }
    EXPECT_EQ(result.tokens, tokens);
    const SquadScores scores = score_squad(dataset, prediction_texts(expected));
    EXPECT_DOUBLE_EQ(result.scores.f1, scores.f1);
    EXPECT_DOUBLE_EQ(result.scores.exact, scores.exact);
    EXPECT_FALSE(model->is_training());
  }
  const auto classifier = testing::tiny_model(testing::tiny_config("bert"), 3);
  EXPECT_THROW(evaluate_squad(*classifier, dataset, features), Error);
}

TEST(SquadFeatures, SharedDevSetWithTheBertVocab) {
  const auto tokenizer = WordPieceTokenizer::from_vocab_file(
      testing::shared_path("data/vocab/bert-base-uncased-vocab.txt"));
  const SquadDataset dataset =
      read_squad_file(testing::shared_path("data/squad/v2.0/dev-v2.0-first5articles.json"));
  const auto features = make_squad_features(tokenizer, dataset);  // 384 / 128
  std::vector<int64_t> windows(dataset.questions.size(), 0), hits(dataset.questions.size(), 0);
  for (const SquadFeature& feature : features) {
    ASSERT_LE(feature.tokens.length(), 384);
    const auto q = static_cast<size_t>(feature.tokens.example_index);
    ++windows[q];
    const SquadQuestion& question = dataset.questions[q];
    if (feature.start_position == 0) {
      EXPECT_EQ(feature.end_position, 0);
      continue;
    }
    ++hits[q];
    ASSERT_FALSE(question.is_impossible()) << question.id;
    // The span's tokens cover the answer, and its first and last tokens overlap it.
    const SquadAnswer& answer = question.answers[0];
    const auto answer_end = answer.start + static_cast<int64_t>(decode_utf8(answer.text).size());
    const auto& first = feature.context_offsets[static_cast<size_t>(feature.start_position)];
    const auto& last = feature.context_offsets[static_cast<size_t>(feature.end_position)];
    EXPECT_LE(first.first, answer.start) << question.id;
    EXPECT_GT(first.second, answer.start) << question.id;
    EXPECT_GE(last.second, answer_end) << question.id;
    EXPECT_LT(last.first, answer_end) << question.id;
  }
  int64_t multi_window = 0;
  for (size_t q = 0; q < dataset.questions.size(); ++q) {
    EXPECT_GE(windows[q], 1);
    multi_window += windows[q] > 1 ? 1 : 0;
    if (!dataset.questions[q].is_impossible()) {
      EXPECT_GE(hits[q], 1) << dataset.questions[q].id;
    }
  }
  EXPECT_GT(multi_window, 0);  // some paragraphs need two windows
}

}  // namespace
}  // namespace kprune
