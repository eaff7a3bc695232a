// Checkpoint IO: HF config parsing, pruned save/load round trip, the masked export, the
// official K-prune pruned model, load errors by name, and the supervised losses.
#include <gtest/gtest.h>

#include <filesystem>

#include "framework/model/checkpoint.h"
#include "framework/model/config.h"
#include "framework/model/flops.h"
#include "framework/model/losses.h"
#include "framework/model/safetensors.h"
#include "framework/util/error.h"
#include "framework/util/files.h"
#include "tests/model_fixtures.h"
#include "tests/test_support.h"

namespace kprune {
namespace {

namespace fs = std::filesystem;

std::string error_of(const std::function<void()>& action) {
  try {
    action();
  } catch (const Error& error) {
    return error.what();
  }
  ADD_FAILURE() << "expected a kprune::Error";
  return "";
}

#define EXPECT_CONTAINS(text, part) \
  EXPECT_NE(std::string(text).find(part), std::string::npos) << "in: " << (text)

TEST(Config, ReadsBertAndDistilBertFields) {
  const auto bert = EncoderConfig::from_json_file(
      testing::shared_path("fixtures/hf-forward/bert-cls3/config.json"));
  EXPECT_EQ(bert.model_type, "bert");
  EXPECT_EQ(bert.hidden_size, 32);
  EXPECT_EQ(bert.num_layers, 2);
  EXPECT_EQ(bert.num_heads, 4);
  EXPECT_EQ(bert.head_dim, 8);
  EXPECT_EQ(bert.intermediate_size, 64);
  EXPECT_EQ(bert.type_vocab_size, 2);
  EXPECT_EQ(bert.num_labels, 3);
  EXPECT_EQ(bert.head_kind, HeadKind::classification);
  EXPECT_DOUBLE_EQ(bert.head_dropout(), 0.1);  // classifier_dropout null -> hidden dropout
  EXPECT_EQ(bert.heads_per_layer, (std::vector<int64_t>{4, 4}));
  EXPECT_FALSE(bert.is_pruned());
  EXPECT_EQ(bert.extra.at("use_cache"), true);  // unknown fields are kept

  const auto distil = EncoderConfig::from_json_file(
      testing::shared_path("fixtures/hf-forward/distilbert-cls2/config.json"));
  EXPECT_EQ(distil.hidden_size, 32);
  EXPECT_EQ(distil.intermediate_size, 64);
  EXPECT_EQ(distil.type_vocab_size, 0);
  EXPECT_EQ(distil.num_labels, 2);
  EXPECT_DOUBLE_EQ(distil.head_dropout(), 0.2);  // seq_classif_dropout

  const auto reg = EncoderConfig::from_json_file(
      testing::shared_path("fixtures/hf-forward/bert-reg/config.json"));
  EXPECT_EQ(reg.head_kind, HeadKind::regression);
  EXPECT_EQ(reg.num_labels, 1);
}

TEST(Config, RoundTripKeepsEverything) {
  const std::string path = testing::shared_path("fixtures/hf-forward/distilbert-qa/config.json");
  nlohmann::json original = read_json_file(path);
  original["architectures"] = {"DistilBertForQuestionAnswering"};
  auto config = EncoderConfig::from_json(original, path);
  EXPECT_EQ(config.head_kind, HeadKind::question_answering);
  config.heads_per_layer = {3, 0};
  const auto again = EncoderConfig::from_json(config.to_json(), "round trip");
  EXPECT_EQ(again.to_json(), config.to_json());
  EXPECT_EQ(again.heads_per_layer, (std::vector<int64_t>{3, 0}));
  EXPECT_EQ(config.to_json()["sinusoidal_pos_embds"], false);
  EXPECT_FALSE(config.to_json(/*plain_hf=*/true).contains("kprune_heads_per_layer"));
}

TEST(Config, ErrorsNameTheField) {
  nlohmann::json json =
      read_json_file(testing::shared_path("fixtures/hf-forward/bert-cls3/config.json"));
  json["hidden_act"] = "relu";
  EXPECT_CONTAINS(error_of([&] { EncoderConfig::from_json(json, "x/config.json"); }),
                  "x/config.json: field 'hidden_act' is 'relu'");
  json["hidden_act"] = "gelu";
  json.erase("num_attention_heads");
  EXPECT_CONTAINS(error_of([&] { EncoderConfig::from_json(json, "x/config.json"); }),
                  "missing required field 'num_attention_heads'");
  json["num_attention_heads"] = 5;
  EXPECT_CONTAINS(error_of([&] { EncoderConfig::from_json(json, "x/config.json"); }),
                  "not a multiple of the head count 5");
  json["num_attention_heads"] = 4;
  json["kprune_heads_per_layer"] = {4, 9};
  EXPECT_CONTAINS(error_of([&] { EncoderConfig::from_json(json, "x/config.json"); }),
                  "kprune_heads_per_layer[1] = 9 is outside [0, 4]");
  json.erase("kprune_heads_per_layer");
  json["model_type"] = "gpt2";
  EXPECT_CONTAINS(error_of([&] { EncoderConfig::from_json(json, "x/config.json"); }),
                  "unknown model_type 'gpt2'");
}

torch::Tensor all_logits(const EncoderModel& model, const Batch& batch) {
  const ModelOutput out = model.forward(batch);
  return out.logits.defined() ? out.logits : torch::stack({out.start_logits, out.end_logits});
}

// Shrinks a loaded fixture model (f32) in layer 0 partially and makes layer 1's MHA LN-only.
std::shared_ptr<EncoderModel> shrunk_fixture(const std::string& name) {
  auto model = load_checkpoint(testing::shared_path("fixtures/hf-forward/" + name));
  model->sublayer(0).shrink({0, 2});
  model->sublayer(1).shrink({1, 5, 9, 33, 63});
  model->sublayer(2).shrink({});
  return model;
}

TEST(Checkpoint, PrunedRoundTripGivesIdenticalOutputs) {
  for (const std::string name : {"bert-cls3", "distilbert-qa"}) {
    auto model = shrunk_fixture(name);
    const std::string dir = testing::temp_dir("ckpt");
    save_checkpoint(*model, dir);
    auto loaded = load_checkpoint(dir);
    EXPECT_EQ(loaded->config().heads_per_layer, (std::vector<int64_t>{2, 0}));
    EXPECT_EQ(loaded->config().neurons_per_layer, (std::vector<int64_t>{5, 64}));
    EXPECT_EQ(loaded->num_parameters(), model->num_parameters());
    const auto tensors = load_safetensors(dir + "/model.safetensors");
    const std::string layer =
        name == "bert-cls3" ? "bert.encoder.layer." : "distilbert.transformer.layer.";
    const std::string q =
        name == "bert-cls3" ? "attention.self.query.weight" : "attention.q_lin.weight";
    EXPECT_EQ(tensors.at(layer + "0." + q).sizes(), (std::vector<int64_t>{16, 32}));
    EXPECT_EQ(tensors.count(layer + "1." + q), 0u);  // LN-only: no Q/K/V/out tensors
    const Batch batch = testing::batch_from_json(
        read_json_lines(testing::shared_path("fixtures/hf-forward/" + name + "/batches.jsonl"))[0]);
    EXPECT_TRUE(torch::equal(all_logits(*loaded, batch), all_logits(*model, batch))) << name;
  }
}

TEST(Checkpoint, MaskedExportHasFullShapesAndSameOutputs) {
  auto model = shrunk_fixture("bert-cls3");
  const std::string dir = testing::temp_dir("masked");
  save_masked_export(*model, dir);
  const auto config = read_json_file(dir + "/config.json");
  EXPECT_FALSE(config.contains("kprune_heads_per_layer"));
  const auto tensors = load_safetensors(dir + "/model.safetensors");
  EXPECT_EQ(tensors.at("bert.encoder.layer.0.attention.self.query.weight").sizes(),
            (std::vector<int64_t>{32, 32}));
  EXPECT_EQ(tensors.at("bert.encoder.layer.1.attention.output.dense.weight").sizes(),
            (std::vector<int64_t>{32, 32}));
  EXPECT_TRUE(torch::equal(tensors.at("bert.encoder.layer.1.attention.output.dense.bias"),
                           torch::zeros({32})));
  EXPECT_EQ(tensors.at("bert.encoder.layer.0.intermediate.dense.weight").sizes(),
            (std::vector<int64_t>{64, 32}));
  auto full = load_checkpoint(dir);
  EXPECT_FALSE(full->config().is_pruned());
  const Batch batch = testing::batch_from_json(
      read_json_lines(testing::shared_path("fixtures/hf-forward/bert-cls3/batches.jsonl"))[1]);
  const auto expected = all_logits(*model, batch);
  EXPECT_TRUE(torch::allclose(all_logits(*full, batch), expected, 1e-5, 1e-6));
}

// The official K-prune run that removed whole sublayers (c0.9): our loader + LN-only
// semantics reproduce its pruned logits.
TEST(Checkpoint, OfficialKpruneModelWithRemovedSublayers) {
  const std::string oracle = testing::shared_path("fixtures/kprune-oracle/cls2");
  const auto report = read_json_file(oracle + "/oracle-c0.9.json");
  nlohmann::json config = read_json_file(oracle + "/config.json");
  config["kprune_heads_per_layer"] = report["survived_heads"];
  config["kprune_neurons_per_layer"] = report["survived_neurons"];
  const std::string dir = testing::temp_dir("oracle");
  write_file_atomic(dir + "/config.json", config.dump());
  fs::copy_file(oracle + "/pruned-c0.9.safetensors", dir + "/model.safetensors");
  auto model = load_checkpoint(dir);
  EXPECT_TRUE(model->sublayer(0).is_empty());
  const auto& flops = report["flops"];
  const double seq_len = flops["seq_len"].get<double>();
  EXPECT_NEAR(model_flops(model->config(), seq_len) / 1e9, flops["pruned_flops"].get<double>(),
              1e-15);
  EXPECT_NEAR(full_model_flops(model->config(), seq_len) / 1e9, flops["model_flops"].get<double>(),
              1e-15);
  const auto batches = read_json_lines(oracle + "/batches.jsonl");
  const auto& outputs = report["pruned_outputs"];
  ASSERT_EQ(batches.size(), outputs.size());
  for (size_t b = 0; b < batches.size(); ++b) {
    const auto logits = model->forward(testing::batch_from_json(batches[b])).logits;
    const auto expected = testing::json_to_tensor(outputs[b]["logits"], torch::kFloat32);
    EXPECT_TRUE(torch::allclose(logits, expected, 1e-5, 1e-6)) << "batch " << b;
  }
}

// A copy of a fixture checkpoint whose tensors `edit` may change.
std::string edited_checkpoint(
    const std::function<void(std::map<std::string, torch::Tensor>&)>& edit) {
  const std::string source = testing::shared_path("fixtures/hf-forward/bert-cls3");
  const std::string dir = testing::temp_dir("edited");
  fs::copy_file(source + "/config.json", dir + "/config.json");
  auto tensors = load_safetensors(source + "/model.safetensors");
  edit(tensors);
  save_safetensors(dir + "/model.safetensors", tensors);
  return dir;
}

TEST(Checkpoint, MismatchesAreReportedByName) {
  const std::string missing =
      edited_checkpoint([](auto& t) { t.erase("bert.encoder.layer.1.output.dense.weight"); });
  const std::string message = error_of([&] { load_checkpoint(missing); });
  EXPECT_CONTAINS(message, "model.safetensors");
  EXPECT_CONTAINS(message,
                  "missing tensor 'bert.encoder.layer.1.output.dense.weight' (expected shape "
                  "[32, 64])");

  const std::string wrong_shape = edited_checkpoint([](auto& t) {
    t["classifier.weight"] = torch::zeros({2, 32});
  });
  EXPECT_CONTAINS(error_of([&] { load_checkpoint(wrong_shape); }),
                  "tensor 'classifier.weight' has shape [2, 32], expected [3, 32]");

  const std::string unknown =
      edited_checkpoint([](auto& t) { t["bert.encoder.layer.7.mystery"] = torch::zeros({3}); });
  EXPECT_CONTAINS(error_of([&] { load_checkpoint(unknown); }),
                  "unexpected tensor 'bert.encoder.layer.7.mystery' with shape [3]");

  const std::string harmless = edited_checkpoint([](auto& t) {
    t["bert.embeddings.position_ids"] = torch::arange(64).unsqueeze(0);
    t["cls.predictions.bias"] = torch::zeros({100});
  });
  EXPECT_NO_THROW(load_checkpoint(harmless));

  const std::string bin_only = testing::temp_dir("bin");
  fs::copy_file(testing::shared_path("fixtures/hf-forward/bert-cls3/config.json"),
                bin_only + "/config.json");
  write_file_atomic(bin_only + "/pytorch_model.bin", "x");
  EXPECT_CONTAINS(error_of([&] { load_checkpoint(bin_only); }), "only pytorch_model.bin");
  EXPECT_CONTAINS(error_of([&] { load_checkpoint(bin_only + "/nope"); }), "not a directory");
}

TEST(Checkpoint, CopiesTokenizerFiles) {
  const std::string src = testing::temp_dir("tok-src");
  const std::string dst = testing::temp_dir("tok-dst");
  write_file_atomic(src + "/vocab.txt", "[PAD]\n");
  write_file_atomic(src + "/tokenizer_config.json", "{}");
  EXPECT_EQ(copy_tokenizer_files(src, dst), 2);
  EXPECT_EQ(read_file(dst + "/vocab.txt"), "[PAD]\n");
}

TEST(Losses, MatchHandComputedValues) {
  ModelOutput out;
  Batch batch;
  // CE: logits [[0, ln 3]] label 1 -> -log(3/4); label 0 -> -log(1/4).
  out.logits = torch::tensor({{0.0, std::log(3.0)}, {0.0, std::log(3.0)}}, torch::kFloat64);
  batch.labels = torch::tensor({1, 0}, torch::kInt64);
  EXPECT_NEAR(supervised_loss(out, batch, HeadKind::classification).item<double>(),
              (-std::log(0.75) - std::log(0.25)) / 2, 1e-12);
  // MSE on [B, 1] logits against [B] labels: ((1-0)^2 + (2-4)^2) / 2.
  out.logits = torch::tensor({{1.0}, {2.0}}, torch::kFloat64);
  batch.labels = torch::tensor({0.0, 4.0}, torch::kFloat64);
  EXPECT_NEAR(supervised_loss(out, batch, HeadKind::regression).item<double>(), 2.5, 1e-12);
  // QA: T = 2, uniform logits -> log 2 each; an out-of-range position is ignored.
  out.start_logits = torch::zeros({2, 2}, torch::kFloat64);
  out.end_logits = torch::tensor({{0.0, 0.0}, {0.0, std::log(3.0)}}, torch::kFloat64);
  batch.start_positions = torch::tensor({0, 1}, torch::kInt64);
  batch.end_positions = torch::tensor({1, 9}, torch::kInt64);
  const double expected = (std::log(2.0) + std::log(2.0)) / 2;  // end: only row 0 counts
  EXPECT_NEAR(supervised_loss(out, batch, HeadKind::question_answering).item<double>(), expected,
              1e-12);
  // bf16 logits (a forward pass under autocast; these values are exact in bf16): an fp32 loss.
  out.logits = torch::tensor({{0.0, 1.0}, {2.0, 0.5}}).to(torch::kBFloat16);
  batch.labels = torch::tensor({1, 0}, torch::kInt64);
  const torch::Tensor bf16_loss = supervised_loss(out, batch, HeadKind::classification);
  EXPECT_EQ(bf16_loss.scalar_type(), torch::kFloat);
  EXPECT_NEAR(bf16_loss.item<double>(),
              (std::log(1 + std::exp(1.0)) - 1 + std::log(std::exp(2.0) + std::exp(0.5)) - 2) / 2,
              1e-6);
  batch.labels = torch::Tensor();
  EXPECT_THROW(supervised_loss(out, batch, HeadKind::classification), Error);
}

}  // namespace
}  // namespace kprune
