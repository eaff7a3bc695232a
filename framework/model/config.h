#pragma once
// Encoder hyper-parameters read from (and written back to) a HuggingFace config.json, plus the
// per-layer head and neuron counts of a pruned model.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace kprune {

enum class HeadKind { classification, regression, question_answering };

std::string to_string(HeadKind kind);
// "classification" | "regression" | "question_answering"; throws naming the accepted values.
HeadKind parse_head_kind(const std::string& text);

struct EncoderConfig {
  std::string model_type = "bert";  // "bert" | "distilbert"
  int64_t vocab_size = 0;
  int64_t hidden_size = 0;
  int64_t num_layers = 0;
  int64_t num_heads = 0;
  int64_t head_dim = 0;  // hidden_size / num_heads
  int64_t intermediate_size = 0;
  int64_t max_position_embeddings = 512;
  int64_t type_vocab_size = 2;  // 0 for families without token types
  double layer_norm_eps = 1e-12;
  double initializer_range = 0.02;
  double hidden_dropout_prob = 0.1;
  double attention_dropout_prob = 0.1;
  std::optional<double> classifier_dropout;  // BERT classifier_dropout, DistilBERT seq_classif
  std::optional<double> qa_dropout;          // DistilBERT qa_dropout
  int64_t num_labels = 2;                    // 1 for regression, 2 (start, end) for QA
  HeadKind head_kind = HeadKind::classification;
  // Units per sublayer; all equal to num_heads / intermediate_size for an unpruned model.
  // A count of 0 is an LN-only sublayer (algorithms.md 1.5).
  std::vector<int64_t> heads_per_layer, neurons_per_layer;
  int64_t pad_token_id = 0;
  nlohmann::json extra = nlohmann::json::object();  // unknown fields, kept for round trip

  // `origin` names the source (file) in error messages.
  static EncoderConfig from_json(const nlohmann::json& json, const std::string& origin);
  static EncoderConfig from_json_file(const std::string& path);
  // HF config.json; per-layer counts ("kprune_heads_per_layer", "kprune_neurons_per_layer") are
  // written only when the model is pruned, unless `plain_hf` drops them altogether.
  nlohmann::json to_json(bool plain_hf = false) const;

  bool is_pruned() const;
  // Dropout before the classifier / QA output layer, per family rules.
  double head_dropout() const;
  // Sets heads_per_layer/neurons_per_layer to the full counts (unpruned).
  void reset_unit_counts();
  // Throws kprune::Error (naming `origin`) when fields are inconsistent.
  void validate(const std::string& origin) const;
};

}  // namespace kprune
