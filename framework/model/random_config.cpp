#include "framework/model/random_config.h"

#include "framework/model/family.h"

namespace kprune {

nlohmann::json random_encoder_config(const EncoderShape& shape, int64_t vocab_size) {
  const ModelFamily& family = model_family(shape.model_type);
  const FamilyConfigKeys& keys = family.keys;
  const double dropout = shape.dropout.value_or(0.1);
  nlohmann::json config = {{"model_type", shape.model_type},
                           {"vocab_size", vocab_size},
                           {"max_position_embeddings", shape.max_position},
                           {"initializer_range", 0.02},
                           {"pad_token_id", 0},
                           {keys.hidden_size, shape.hidden},
                           {keys.num_layers, shape.layers},
                           {keys.num_heads, shape.heads},
                           {keys.intermediate_size, shape.ffn},
                           {keys.activation, "gelu"},
                           {keys.hidden_dropout, dropout},
                           {keys.attention_dropout, dropout}};
  // BERT's classifier dropout stays null (it falls back to the hidden dropout).
  if (family.default_classifier_dropout >= 0)
    config[keys.classifier_dropout] = shape.dropout.value_or(family.default_classifier_dropout);
  if (!keys.qa_dropout.empty())
    config[keys.qa_dropout] = shape.dropout.value_or(family.default_qa_dropout);
  if (!keys.layer_norm_eps.empty()) config[keys.layer_norm_eps] = 1e-12;
  if (family.has_token_types) config[keys.type_vocab_size] = 2;
  return config;
}

}  // namespace kprune
