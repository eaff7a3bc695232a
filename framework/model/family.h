#pragma once
// Model families (BERT, DistilBERT, ...): everything that differs between them is data here,
// so adding a family (e.g. RoBERTa) is one registry entry, not a switch in the encoder.
#include <string>
#include <vector>

namespace kprune {

// HF config.json keys of one family. An empty key means the family has no such field.
struct FamilyConfigKeys {
  std::string hidden_size, num_layers, num_heads, intermediate_size, activation;
  std::string hidden_dropout, attention_dropout;
  std::string classifier_dropout;  // BERT: classifier_dropout (null -> hidden dropout)
  std::string qa_dropout;          // DistilBERT only
  std::string layer_norm_eps;      // DistilBERT: fixed 1e-12
  std::string type_vocab_size;     // DistilBERT: no token types
};

// HF parameter names of one family (without the ".weight"/".bias" suffix).
struct FamilyWeightNames {
  std::string embeddings;  // prefix of word_embeddings, position_embeddings, LayerNorm
  std::string layer;       // prefix of layer i: "<layer><i>."
  std::string query, key, value, attention_out, attention_norm;
  std::string ffn_in, ffn_out, ffn_norm;
  std::string embedding_norm;  // "LayerNorm" below `embeddings`
  std::string pre_classifier;  // BERT: bert.pooler.dense; DistilBERT: pre_classifier
  std::string classifier, qa_outputs;
  // Tensors that checkpoints may carry and that we do not use (position_ids buffers, MLM head).
  std::vector<std::string> ignored_prefixes;
};

// HF names of the masked-language-model head (XForMaskedLM). The decoder weight is tied to the
// word embeddings and, as in HF safetensors files, not stored.
struct FamilyMlmNames {
  std::string transform;  // dense [d, d] + bias, followed by GELU
  std::string norm;       // LayerNorm weight/bias [d]
  std::string bias;       // full tensor name of the output bias [V]
};

struct ModelFamily {
  std::string model_type;           // HF model_type
  std::string architecture_prefix;  // "Bert" -> BertForSequenceClassification
  FamilyConfigKeys keys;
  FamilyWeightNames names;
  FamilyMlmNames mlm;
  bool has_token_types = true;
  // Classification head on [CLS]: BERT pooler (dense + tanh) or DistilBERT (dense + ReLU).
  bool pre_classifier_tanh = true;
  // Dropout after the attention output projection (BERT yes, DistilBERT no).
  bool attention_output_dropout = true;
  double default_classifier_dropout = -1;  // < 0: falls back to the hidden dropout
  double default_qa_dropout = 0;
};

// Throws kprune::Error naming the known families when `model_type` is not registered.
const ModelFamily& model_family(const std::string& model_type);
std::vector<std::string> model_family_names();

}  // namespace kprune
