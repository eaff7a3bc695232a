// Fine-tuning on SQuAD (framework/train/task_training.h): training windows carry the answer's
// token positions or the [CLS] index, training steps reduce the start/end loss of a tiny QA
// model, and the dev set is scored by decoding with the official metrics.
#include <gtest/gtest.h>

#include <cmath>
#include <numeric>
#include <set>
#include <string>

#include "framework/model/losses.h"
#include "framework/tasks/squad_synthetic.h"
#include "framework/tasks/task.h"
#include "framework/train/task_training.h"
#include "tests/test_support.h"

namespace kprune {
namespace {

std::shared_ptr<EncoderModel> tiny_qa_model(int64_t vocab_size, uint64_t seed) {
  const nlohmann::json config = {
      {"model_type", "bert"},     {"architectures", {"BertForQuestionAnswering"}},
      {"vocab_size", vocab_size}, {"hidden_size", 32},
      {"num_hidden_layers", 1},   {"num_attention_heads", 2},
      {"intermediate_size", 64},  {"max_position_embeddings", 128},
      {"type_vocab_size", 2},     {"hidden_act", "gelu"}};
  return EncoderModel::random(EncoderConfig::from_json(config, "test"), seed);
}

// Short windows split the paragraphs: each training row points at one answer word inside its
// window, or at [CLS] (index 0) when the answer is elsewhere or the question has none.
TEST(SquadTraining, WindowsCarryTheAnswerTokenOrTheClsIndex) {
  const std::string dir = testing::temp_dir("squad_train_windows");
  SquadSyntheticOptions synthetic;
  synthetic.version_2 = true;
  write_synthetic_squad(dir, 3, 30, 5, synthetic);
  const auto tokenizer = WordPieceTokenizer::from_vocab_file(dir + "/vocab.txt");
  const auto model = tiny_qa_model(tokenizer.vocab_size(), 0);
  FinetuneOptions options;
  options.pad_id = tokenizer.pad_id();
  const TaskTrainingData data = load_task_training_data(find_task("squad_v2"), dir, tokenizer,
                                                        model->config(), {32, 8, 0}, options);
  EXPECT_EQ(data.train_examples, 120);
  EXPECT_GT(data.train_features, 2 * data.train_examples);  // 32 tokens: several windows
  EXPECT_EQ(data.dev_examples, 20);

  // Every answer of the generator is the one word between "in"/"color"/"a" and "." of a
  // statement ("Alice lives in Oslo .", "Bob likes the color red .", "Carol owns a cat ."), or
  // next to the window's [SEP].
  const std::set<int64_t> before_answer = {tokenizer.token_to_id("in"),
                                           tokenizer.token_to_id("color"),
                                           tokenizer.token_to_id("a"), tokenizer.sep_id()};
  const std::set<int64_t> after_answer = {tokenizer.token_to_id("."), tokenizer.sep_id()};
  std::vector<int64_t> all(static_cast<size_t>(data.train_features));
  std::iota(all.begin(), all.end(), 0);
  const Batch batch = data.train.collate(all);
  int64_t at_cls = 0;
  for (int64_t row = 0; row < batch.size(); ++row) {
    const int64_t start = batch.start_positions[row].item<int64_t>();
    const int64_t end = batch.end_positions[row].item<int64_t>();
    if (start == 0) {
      EXPECT_EQ(end, 0);
      ++at_cls;
      continue;
    }
    EXPECT_EQ(start, end) << "row " << row;
    EXPECT_EQ(batch.token_type_ids[row][start].item<int64_t>(), 1) << "row " << row;
    EXPECT_TRUE(before_answer.count(batch.input_ids[row][start - 1].item<int64_t>()))
        << "row " << row;
    EXPECT_TRUE(after_answer.count(batch.input_ids[row][start + 1].item<int64_t>()))
        << "row " << row;
  }
  EXPECT_GT(at_cls, 0);
  EXPECT_LT(at_cls, batch.size());
}

TEST(SquadTraining, StepsReduceTheStartEndLossAndTheDevIsDecodedAndScored) {
  torch::set_num_threads(1);
  const std::string dir = testing::temp_dir("squad_train");
  write_synthetic_squad(dir, 4, 100, 10, {});
  const auto tokenizer = WordPieceTokenizer::from_vocab_file(dir + "/vocab.txt");
  auto model = tiny_qa_model(tokenizer.vocab_size(), 1);
  FinetuneOptions options;
  options.pad_id = tokenizer.pad_id();
  options.batch_size = 16;
  options.max_steps = 60;
  options.eval_every = 30;
  options.learning_rate = 3e-3;
  options.warmup_ratio = 0;
  const TaskSpec& task = find_task("squad");
  const TaskTrainingData data =
      load_task_training_data(task, dir, tokenizer, model->config(), {128, 32, 0}, options);
  EXPECT_EQ(data.train_features, data.train_examples);  // short paragraphs: one window each

  std::vector<int64_t> first(64);
  std::iota(first.begin(), first.end(), 0);
  const Batch fixed = data.train.collate(first);
  auto loss_on_fixed = [&] {
    torch::NoGradGuard no_grad;
    model->eval();
    return supervised_loss(model->forward(fixed), fixed, HeadKind::question_answering)
        .item<double>();
  };
  const double before = loss_on_fixed();
  EXPECT_NEAR(before, std::log(static_cast<double>(fixed.seq_len())), 1.0);  // about uniform

  int best_calls = 0;
  const FinetuneResult result =
      finetune_on(*model, task, data.train, data.evaluate_dev, options,
                  [&](const EncoderModel&, const EvalRecord&) { ++best_calls; });
  EXPECT_LT(loss_on_fixed(), 0.8 * before);
  ASSERT_EQ(result.evaluations.size(), 2u);
  EXPECT_GE(best_calls, 1);
  for (const EvalRecord& record : result.evaluations) {
    for (const char* name : {"exact", "f1"}) {
      ASSERT_TRUE(record.metrics.count(name)) << name;
      EXPECT_GE(record.metrics.at(name), 0.0);
      EXPECT_LE(record.metrics.at(name), 100.0);
    }
    EXPECT_GE(record.metrics.at("f1"), record.metrics.at("exact"));
  }
}

}  // namespace
}  // namespace kprune
