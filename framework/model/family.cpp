#include "framework/model/family.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <map>

#include "framework/util/error.h"

namespace kprune {
namespace {

ModelFamily bert_family() {
  ModelFamily family;
  family.model_type = "bert";
  family.architecture_prefix = "Bert";
  family.keys = {"hidden_size",
                 "num_hidden_layers",
                 "num_attention_heads",
                 "intermediate_size",
                 "hidden_act",
                 "hidden_dropout_prob",
                 "attention_probs_dropout_prob",
                 "classifier_dropout",
                 "",
                 "layer_norm_eps",
                 "type_vocab_size"};
  family.names = {"bert.embeddings.",
                  "bert.encoder.layer.",
                  "attention.self.query",
                  "attention.self.key",
                  "attention.self.value",
                  "attention.output.dense",
                  "attention.output.LayerNorm",
                  "intermediate.dense",
                  "output.dense",
                  "output.LayerNorm",
                  "LayerNorm",
                  "bert.pooler.dense",
                  "classifier",
                  "qa_outputs",
                  {"bert.embeddings.position_ids", "cls.", "bert.pooler.", "vocab_"}};
  family.mlm = {"cls.predictions.transform.dense", "cls.predictions.transform.LayerNorm",
                "cls.predictions.bias"};
  family.has_token_types = true;
  family.pre_classifier_tanh = true;
  family.attention_output_dropout = true;
  family.default_classifier_dropout = -1;
  family.default_qa_dropout = 0;
  return family;
}

ModelFamily distilbert_family() {
  ModelFamily family;
  family.model_type = "distilbert";
  family.architecture_prefix = "DistilBert";
  family.keys = {"dim",
                 "n_layers",
                 "n_heads",
                 "hidden_dim",
                 "activation",
                 "dropout",
                 "attention_dropout",
                 "seq_classif_dropout",
                 "qa_dropout",
                 "",
                 ""};
  family.names = {"distilbert.embeddings.",
                  "distilbert.transformer.layer.",
                  "attention.q_lin",
                  "attention.k_lin",
                  "attention.v_lin",
                  "attention.out_lin",
                  "sa_layer_norm",
                  "ffn.lin1",
                  "ffn.lin2",
                  "output_layer_norm",
                  "LayerNorm",
                  "pre_classifier",
                  "classifier",
                  "qa_outputs",
                  {"distilbert.embeddings.position_ids", "vocab_"}};
  family.mlm = {"vocab_transform", "vocab_layer_norm", "vocab_projector.bias"};
  family.has_token_types = false;
  family.pre_classifier_tanh = false;
  family.attention_output_dropout = false;
  family.default_classifier_dropout = 0.2;
  family.default_qa_dropout = 0.1;
  return family;
}

const std::map<std::string, ModelFamily>& registry() {
  static const std::map<std::string, ModelFamily> families = {{"bert", bert_family()},
                                                              {"distilbert", distilbert_family()}};
  return families;
}

}  // namespace

const ModelFamily& model_family(const std::string& model_type) {
  auto found = registry().find(model_type);
  if (found == registry().end()) {
    fail("unknown model_type '{}': expected one of {}", model_type,
         fmt::join(model_family_names(), ", "));
  }
  return found->second;
}

std::vector<std::string> model_family_names() {
  std::vector<std::string> names;
  for (const auto& [name, family] : registry()) names.push_back(name);
  return names;
}

}  // namespace kprune
