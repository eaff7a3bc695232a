#pragma once
// Helpers shared by the model tests: JSON arrays <-> tensors, the hf-forward fixture batches,
// and a tiny random model.
#include <torch/torch.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "framework/model/batch.h"
#include "framework/model/config.h"
#include "framework/model/encoder.h"

namespace kprune::testing {

// Nested JSON number arrays -> tensor of `dtype` with the nesting as shape.
inline torch::Tensor json_to_tensor(const nlohmann::json& json, torch::ScalarType dtype) {
  std::vector<int64_t> shape;
  const nlohmann::json* level = &json;
  while (level->is_array()) {
    shape.push_back(static_cast<int64_t>(level->size()));
    if (level->empty()) break;
    level = &(*level)[0];
  }
  std::vector<double> values;
  // Depth-first, left to right: row-major order.
  std::function<void(const nlohmann::json&)> flatten = [&](const nlohmann::json& node) {
    if (node.is_array()) {
      for (const auto& child : node) flatten(child);
    } else {
      values.push_back(node.get<double>());
    }
  };
  flatten(json);
  return torch::tensor(values, torch::kFloat64).reshape(shape).to(dtype);
}

inline Batch batch_from_json(const nlohmann::json& line) {
  Batch batch;
  batch.input_ids = json_to_tensor(line.at("input_ids"), torch::kInt64);
  batch.attention_mask = json_to_tensor(line.at("attention_mask"), torch::kInt64);
  batch.token_type_ids = line.contains("token_type_ids")
                             ? json_to_tensor(line.at("token_type_ids"), torch::kInt64)
                             : torch::zeros_like(batch.input_ids);
  return batch;
}

// L=2, H=2, d=8, d_h=4, d_f=6, vocab 50 (algorithms.md section 9).
inline EncoderConfig tiny_config(const std::string& model_type = "bert",
                                 HeadKind head = HeadKind::classification) {
  nlohmann::json json = {{"model_type", model_type},
                         {"vocab_size", 50},
                         {"max_position_embeddings", 16},
                         {"pad_token_id", 0}};
  if (model_type == "bert") {
    json.update({{"hidden_size", 8},
                 {"num_hidden_layers", 2},
                 {"num_attention_heads", 2},
                 {"intermediate_size", 6},
                 {"type_vocab_size", 2}});
  } else {
    json.update({{"dim", 8}, {"n_layers", 2}, {"n_heads", 2}, {"hidden_dim", 6}});
  }
  if (head == HeadKind::question_answering) {
    json["architectures"] = {"XForQuestionAnswering"};
  } else if (head == HeadKind::regression) {
    json["num_labels"] = 1;
  } else {
    json["num_labels"] = 3;
  }
  json["initializer_range"] = 0.5;  // large weights, so that every part matters numerically
  return EncoderConfig::from_json(json, "tiny config");
}

// Random float64 model with randomised LayerNorm parameters, in eval mode.
inline std::shared_ptr<EncoderModel> tiny_model(const EncoderConfig& config, uint64_t seed) {
  auto model = EncoderModel::random(config, seed);
  model->to(torch::kFloat64);
  model->eval();
  torch::NoGradGuard no_grad;
  torch::manual_seed(seed);
  for (auto& item : model->named_parameters()) {
    if (item.key().find("norm_") != std::string::npos) {
      item.value().add_(torch::randn_like(item.value()) * 0.3);
    }
  }
  return model;
}

// Batch of `lengths.size()` sequences padded to `padded_length` with pad id 0.
inline Batch tiny_batch(const std::vector<int64_t>& lengths, int64_t padded_length, uint64_t seed) {
  torch::manual_seed(seed);
  const int64_t count = static_cast<int64_t>(lengths.size());
  Batch batch;
  batch.input_ids = torch::randint(1, 50, {count, padded_length}, torch::kInt64);
  batch.token_type_ids = torch::randint(0, 2, {count, padded_length}, torch::kInt64);
  batch.attention_mask = torch::zeros({count, padded_length}, torch::kInt64);
  for (int64_t i = 0; i < count; ++i) {
    batch.attention_mask[i].slice(0, 0, lengths[i]).fill_(1);
    batch.input_ids[i].slice(0, lengths[i]).fill_(0);
    batch.token_type_ids[i].slice(0, lengths[i]).fill_(0);
  }
  return batch;
}

}  // namespace kprune::testing
