// Pieces of `kprune prune`: the --sample-batches reader, the input checks of run_pruner, and
// the saved pruned checkpoint (Kwon REF on the oracle fixture, reloaded from disk).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "framework/model/checkpoint.h"
#include "framework/prune/pruner.h"
#include "framework/prune/sample_batches.h"
#include "framework/prune/task_pruning.h"
#include "framework/tasks/task.h"
#include "framework/util/error.h"
#include "framework/util/files.h"
#include "tests/model_fixtures.h"
#include "tests/test_support.h"

namespace kprune {
namespace {

std::string oracle_dir(const std::string& folder) {
  return testing::shared_path("fixtures/kwon-oracle/" + folder);
}

std::string error_of(const std::function<void()>& action) {
  try {
    action();
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

TEST(SampleBatches, ReadsTheFixtureBatchesWithTargetsOfTheHead) {
  const std::vector<Batch> cls =
      read_sample_batches(oracle_dir("cls2") + "/batches.jsonl", HeadKind::classification);
  ASSERT_EQ(cls.size(), 8u);
  int64_t sequences = 0, tokens = 0;
  for (const Batch& b : cls) {
    sequences += b.size();
    tokens += b.attention_mask.sum().item<int64_t>();
    EXPECT_EQ(b.labels.scalar_type(), torch::kInt64);
    EXPECT_EQ(b.token_type_ids.sizes(), b.input_ids.sizes());
  }
  const nlohmann::json meta = read_json_file(oracle_dir("cls2") + "/meta.json");
  EXPECT_EQ(sequences, 64);
  EXPECT_EQ(tokens, meta.at("num_tokens").get<int64_t>());

  const auto reg = read_sample_batches(oracle_dir("reg") + "/batches.jsonl", HeadKind::regression);
  EXPECT_EQ(reg[0].labels.scalar_type(), torch::kFloat32);
  const auto qa =
      read_sample_batches(oracle_dir("qa") + "/batches.jsonl", HeadKind::question_answering);
  EXPECT_TRUE(qa[0].start_positions.defined() && qa[0].end_positions.defined());
  EXPECT_FALSE(qa[0].labels.defined());
}

TEST(SampleBatches, RejectsMalformedLines) {
  const nlohmann::json ragged = {{"input_ids", {{1, 2, 3}, {1, 2}}},
                                 {"attention_mask", {{1, 1, 1}, {1, 1}}}};
  EXPECT_NE(error_of([&] {
              batch_from_json(ragged, HeadKind::classification, "x");
            }).find("padded to one length"),
            std::string::npos);
  const nlohmann::json no_mask = {{"input_ids", {{1, 2}}}};
  EXPECT_NE(error_of([&] {
              batch_from_json(no_mask, HeadKind::classification, "x");
            }).find("attention_mask"),
            std::string::npos);
  const nlohmann::json short_labels = {
      {"input_ids", {{1, 2}, {3, 4}}}, {"attention_mask", {{1, 1}, {1, 0}}}, {"labels", {1}}};
  EXPECT_NE(error_of([&] {
              batch_from_json(short_labels, HeadKind::classification, "x");
            }).find("labels"),
            std::string::npos);
  const std::string empty = testing::temp_dir("kwon-batches") + "/empty.jsonl";
  write_file_atomic(empty, "");
  EXPECT_NE(error_of([&] { read_sample_batches(empty, HeadKind::classification); }).find("empty"),
            std::string::npos);
}

TEST(RunPruner, RejectsBadInput) {
  auto model = testing::tiny_model(testing::tiny_config(), 1);
  const std::vector<Batch> batches = {testing::tiny_batch({4, 6}, 6, 2)};
  PruneInput input;
  input.sample_batches = &batches;
  input.flops_seq_len = 12;
  for (double ratio : {-0.1, 1.0}) {
    input.flops_reduction = ratio;
    EXPECT_NE(error_of([&] { run_pruner("magnitude", *model, input); }).find("[0, 1)"),
              std::string::npos);
  }
  input.flops_reduction = 0.5;
  input.params = Params::parse({"sede=3"});
  const std::string unknown = error_of([&] { run_pruner("random", *model, input); });
  EXPECT_NE(unknown.find("sede"), std::string::npos) << unknown;
  EXPECT_NE(unknown.find("seed"), std::string::npos) << unknown;  // the accepted one
  input.params = Params();
  const std::vector<Batch> none;
  input.sample_batches = &none;
  EXPECT_NE(error_of([&] { run_pruner("magnitude", *model, input); }).find("empty"),
            std::string::npos);
  input.sample_batches = &batches;  // no labels
  EXPECT_NE(error_of([&] { run_pruner("kwon", *model, input); }).find("needs labels"),
            std::string::npos);
  EXPECT_NE(error_of([&] { find_pruner("kwonn"); }).find("kwon-notune"), std::string::npos);
}

// Every registered pruner refuses a model whose head is not the task's, naming both kinds.
TEST(TaskSampleSet, FewerExamplesThanOneBatchIsAClearError) {
  TaskSplit train;
  train.task = &find_task("sst2");
  train.path = "data/SST-2/train.tsv";
  for (int64_t i = 0; i < 40; ++i) {
    Feature feature;
    feature.input_ids = {101, 2000 + i, 102};
    feature.token_type_ids = {0, 0, 0};
    feature.label = static_cast<double>(i % 2);
    feature.example_index = i;
    train.features.push_back(feature);
  }
  const std::string message = error_of([&] { make_pruning_sample_set(train, 31, 0, 0); });
  EXPECT_NE(message.find("data/SST-2/train.tsv"), std::string::npos) << message;
  EXPECT_NE(message.find("31 examples, fewer than one batch (32)"), std::string::npos) << message;
  const SampleSet one_batch = make_pruning_sample_set(train, 32, 0, 0);
  ASSERT_EQ(one_batch.batches.size(), 1u);
  EXPECT_EQ(one_batch.batches[0].size(), 32);
}

TEST(RunPruner, RejectsAHeadThatDoesNotMatchTheTask) {
  auto qa_model =
      testing::tiny_model(testing::tiny_config("bert", HeadKind::question_answering), 1);
  const std::vector<Batch> batches = {testing::tiny_batch({4, 6}, 6, 2)};
  PruneInput input;
  input.sample_batches = &batches;
  input.flops_reduction = 0.5;
  input.flops_seq_len = 12;
  input.head_kind = HeadKind::classification;
  for (const PrunerInfo& info : pruner_registry()) {
    const std::string message = error_of([&] { run_pruner(info.name, *qa_model, input); });
    EXPECT_NE(message.find("question_answering head"), std::string::npos) << info.name << message;
    EXPECT_NE(message.find("needs classification"), std::string::npos) << info.name << message;
  }
}

// The saved checkpoint of `kwon mode=ref` reproduces the official tuned (masked) model's logits.
TEST(PrunedCheckpoint, KwonRefReloadedGivesTheOfficialTunedLogits) {
  torch::set_num_threads(1);
  const std::string dir = oracle_dir("cls2");
  const nlohmann::json oracle = read_json_file(dir + "/kwon-c0.6.json");
  const std::vector<Batch> batches =
      read_sample_batches(dir + "/batches.jsonl", HeadKind::classification);
  auto model = load_checkpoint(dir);
  PruneInput input;
  input.sample_batches = &batches;
  input.flops_reduction = oracle.at("constraint").at("removed").get<double>();
  input.flops_seq_len = read_json_file(dir + "/meta.json").at("mean_seq_len").get<double>();
  input.params = Params::parse({"mode=ref"});
  const PruneReport report = run_pruner("kwon", *model, input);
  const std::string out = testing::temp_dir("kwon-pruned");
  save_checkpoint(*model, out);
  auto reloaded = load_checkpoint(out);
  EXPECT_EQ(reloaded->config().heads_per_layer,
            oracle.at("rearranged").at("heads_per_layer").get<std::vector<int64_t>>());
  torch::NoGradGuard no_grad;
  for (size_t b = 0; b < batches.size(); ++b) {
    const torch::Tensor expected =
        testing::json_to_tensor(oracle["logits"]["tuned"][b]["logits"], torch::kFloat32);
    const torch::Tensor actual = reloaded->forward(batches[b]).logits;
    EXPECT_TRUE(torch::allclose(actual, expected, 1e-3, 1e-5)) << "batch " << b;
  }
}

}  // namespace
}  // namespace kprune
