#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <numeric>
#include <random>

#include "framework/model/encoder.h"
#include "framework/tasks/features.h"
#include "framework/tasks/task.h"
#include "framework/text/wordpiece_tokenizer.h"
#include "framework/train/finetune.h"
#include "framework/util/error.h"
#include "framework/util/files.h"
#include "tests/test_support.h"

namespace kprune {
namespace {

std::shared_ptr<EncoderModel> tiny_model(int64_t vocab_size, uint64_t seed) {
  const nlohmann::json config = {
      {"model_type", "bert"},          {"vocab_size", vocab_size}, {"hidden_size", 32},
      {"num_hidden_layers", 2},        {"num_attention_heads", 2}, {"intermediate_size", 64},
      {"max_position_embeddings", 64}, {"num_labels", 2},          {"hidden_act", "gelu"}};
  return EncoderModel::random(EncoderConfig::from_json(config, "test"), seed);
}

// A keyword task in SST-2 layout: label 1 iff the sentence contains "good". Learnable in a
// few hundred steps by a tiny model, unlike the synthetic task, which needs long training.
std::string write_keyword_task(int64_t train_size, int64_t dev_size) {
  const std::string dir = testing::temp_dir("finetune");
  const std::vector<std::string> words = {"the", "a",   "film", "plot", "cast",  "was", "is",
                                          "and", "but", "very", "long", "short", "good"};
  std::string vocab = "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n";
  for (const auto& w : words) vocab += w + "\n";
  std::filesystem::create_directories(dir + "/SST-2");
  write_file_atomic(dir + "/vocab.txt", vocab);
  std::mt19937_64 rng(11);
  auto write_split = [&](const std::string& name, int64_t size) {
    std::string tsv = "sentence\tlabel\n";
    for (int64_t i = 0; i < size; ++i) {
      const bool positive = rng() % 2 == 0;
      const size_t length = 4 + rng() % 6;
      std::vector<std::string> sentence;
      for (size_t j = 0; j < length; ++j) sentence.push_back(words[rng() % (words.size() - 1)]);
      if (positive) sentence[rng() % length] = "good";
      std::string text;
      for (const auto& w : sentence) text += w + " ";
      tsv += text + "\t" + (positive ? "1" : "0") + "\n";
    }
    write_file_atomic(dir + "/SST-2/" + name + ".tsv", tsv);
  };
  write_split("train", train_size);
  write_split("dev", dev_size);
  return dir;
}

// The keyword task encoded for a tiny model, and options that learn it in 200 steps.
struct KeywordRun {
  int64_t vocab_size = 0;
  std::vector<Feature> train, dev;
  FinetuneOptions options;
};

KeywordRun keyword_run() {
  const std::string dir = write_keyword_task(2000, 300);
  const auto tokenizer = WordPieceTokenizer::from_vocab_file(dir + "/vocab.txt");
  const TaskSpec& task = find_task("sst2");
  KeywordRun run;
  run.vocab_size = tokenizer.vocab_size();
  run.train = encode_examples(tokenizer, read_examples(task, dir, "train"), 64, true);
  run.dev = encode_examples(tokenizer, read_examples(task, dir, "dev"), 64, true);
  run.options.max_steps = 200;
  run.options.eval_every = 50;
  run.options.learning_rate = 2e-3;
  run.options.seed = 1;
  run.options.pad_id = tokenizer.pad_id();
  return run;
}

// A tiny model learns the keyword task, the best dev result is handed to the callback, and
// the same seed reproduces the same run.
TEST(Finetune, LearnsAKeywordTaskDeterministically) {
  torch::set_num_threads(1);
  const KeywordRun keyword = keyword_run();
  const TaskSpec& task = find_task("sst2");

  auto run = [&](std::vector<double>* best_seen) {
    auto model = tiny_model(keyword.vocab_size, 5);
    return finetune(*model, task, keyword.train, keyword.dev, keyword.options,
                    [&](const EncoderModel&, const EvalRecord& record) {
                      best_seen->push_back(record.metrics.at("accuracy"));
                    });
  };
  std::vector<double> best_seen;
  const FinetuneResult result = run(&best_seen);
  ASSERT_EQ(result.evaluations.size(), 4u);
  EXPECT_EQ(result.evaluations.back().step, 200);
  EXPECT_GT(result.best.metrics.at("accuracy"), 95.0);
  EXPECT_LT(result.final_loss, 0.3);  // chance level is ln 2 = 0.693
  ASSERT_FALSE(best_seen.empty());
  EXPECT_TRUE(std::is_sorted(best_seen.begin(), best_seen.end()));
  EXPECT_DOUBLE_EQ(best_seen.back(), result.best.metrics.at("accuracy"));

  std::vector<double> again;
  const FinetuneResult repeat = run(&again);
  EXPECT_EQ(repeat.best.metrics, result.best.metrics);
  EXPECT_DOUBLE_EQ(repeat.final_loss, result.final_loss);
}

// Mixed precision trains the same tiny model to the same quality; the weights stay fp32.
TEST(Finetune, LearnsTheKeywordTaskInBf16) {
  torch::set_num_threads(1);
  KeywordRun keyword = keyword_run();
  const TaskSpec& task = find_task("sst2");
  keyword.options.precision = Precision::bf16;
  auto model = tiny_model(keyword.vocab_size, 5);
  const FinetuneResult result =
      finetune(*model, task, keyword.train, keyword.dev, keyword.options, {});
  EXPECT_GT(result.best.metrics.at("accuracy"), 95.0);
  EXPECT_LT(result.final_loss, 0.3);
  for (const auto& item : model->named_parameters()) {
    EXPECT_EQ(item.value().scalar_type(), torch::kFloat) << item.key();
  }
  // The option took effect: the same run in fp32 follows another path.
  keyword.options.precision = Precision::fp32;
  auto fp32_model = tiny_model(keyword.vocab_size, 5);
  const FinetuneResult fp32 =
      finetune(*fp32_model, task, keyword.train, keyword.dev, keyword.options, {});
  EXPECT_NE(fp32.final_loss, result.final_loss);
}

TEST(Finetune, RejectsAnEmptyTrainingSet) {
  auto model = tiny_model(50, 0);
  EXPECT_THROW(finetune(*model, find_task("sst2"), {}, {}, FinetuneOptions{}, nullptr), Error);
}

}  // namespace
}  // namespace kprune
