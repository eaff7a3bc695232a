#include "framework/model/config.h"

#include <fmt/format.h>

#include <set>

#include "framework/model/family.h"
#include "framework/util/error.h"
#include "framework/util/files.h"

namespace kprune {
namespace {

constexpr const char* kHeadsKey = "kprune_heads_per_layer";
constexpr const char* kNeuronsKey = "kprune_neurons_per_layer";
// Far beyond any BERT-family encoder (BERT-large has 24 layers).
constexpr int64_t kMaxLayers = 4096;

// Typed access to config.json fields; errors name the file, the key, and what was expected.
class JsonReader {
 public:
  JsonReader(const nlohmann::json& json, const std::string& origin)
      : json_(json), origin_(origin) {}

  bool has(const std::string& key) const {
    return !key.empty() && json_.contains(key) && !json_.at(key).is_null();
  }
  void mark(const std::string& key) { used_.insert(key); }

  int64_t integer(const std::string& key) {
    if (!has(key)) fail("{}: missing required field '{}'", origin_, key);
    return integer_or(key, 0);
  }
  int64_t integer_or(const std::string& key, int64_t fallback) {
    mark(key);
    if (!has(key)) return fallback;
    const auto& value = json_.at(key);
    if (!value.is_number_integer()) {
      fail("{}: field '{}' must be an integer, found {}", origin_, key, value.dump());
    }
    return value.get<int64_t>();
  }
  double number_or(const std::string& key, double fallback) {
    mark(key);
    if (!has(key)) return fallback;
    const auto& value = json_.at(key);
    if (!value.is_number()) {
      fail("{}: field '{}' must be a number, found {}", origin_, key, value.dump());
    }
    return value.get<double>();
  }
  std::optional<double> optional_number(const std::string& key) {
    if (!has(key)) {
      mark(key);
      return std::nullopt;
    }
    return number_or(key, 0);
  }
  std::string string_or(const std::string& key, const std::string& fallback) {
    mark(key);
    if (!has(key)) return fallback;
    const auto& value = json_.at(key);
    if (!value.is_string()) {
      fail("{}: field '{}' must be a string, found {}", origin_, key, value.dump());
    }
    return value.get<std::string>();
  }
  std::vector<int64_t> integer_list(const std::string& key, size_t expected_size) {
    mark(key);
    const auto& value = json_.at(key);
    if (!value.is_array() || value.size() != expected_size) {
      fail("{}: field '{}' must be a list of {} integers (one per layer), found {}", origin_, key,
           expected_size, value.dump());
    }
    std::vector<int64_t> result;
    for (const auto& item : value) {
      if (!item.is_number_integer()) {
        fail("{}: field '{}' must hold integers, found {}", origin_, key, item.dump());
      }
      result.push_back(item.get<int64_t>());
    }
    return result;
  }

  nlohmann::json unused() const {
    nlohmann::json rest = nlohmann::json::object();
    for (const auto& [key, value] : json_.items()) {
      if (used_.count(key) == 0) rest[key] = value;
    }
    return rest;
  }

 private:
  const nlohmann::json& json_;
  const std::string& origin_;
  std::set<std::string> used_;
};

bool architecture_is_qa(const nlohmann::json& json) {
  if (!json.contains("architectures") || !json.at("architectures").is_array()) return false;
  for (const auto& name : json.at("architectures")) {
    if (name.is_string() &&
        name.get<std::string>().find("ForQuestionAnswering") != std::string::npos) {
      return true;
    }
  }
  return false;
}

}  // namespace

std::string to_string(HeadKind kind) {
  switch (kind) {
    case HeadKind::classification:
      return "classification";
    case HeadKind::regression:
      return "regression";
    case HeadKind::question_answering:
      return "question_answering";
  }
  return "unknown";
}

HeadKind parse_head_kind(const std::string& text) {
  for (HeadKind kind :
       {HeadKind::classification, HeadKind::regression, HeadKind::question_answering}) {
    if (to_string(kind) == text) return kind;
  }
  fail("unknown head kind '{}': expected classification, regression or question_answering", text);
}

EncoderConfig EncoderConfig::from_json(const nlohmann::json& json, const std::string& origin) {
  if (!json.is_object()) fail("{}: a config must be a JSON object", origin);
  JsonReader reader(json, origin);
  EncoderConfig config;
  config.model_type = reader.string_or("model_type", "");
  if (config.model_type.empty()) fail("{}: missing field 'model_type'", origin);
  const ModelFamily& family = model_family(config.model_type);
  const FamilyConfigKeys& keys = family.keys;

  config.vocab_size = reader.integer("vocab_size");
  config.hidden_size = reader.integer(keys.hidden_size);
  config.num_layers = reader.integer(keys.num_layers);
  config.num_heads = reader.integer(keys.num_heads);
  config.intermediate_size = reader.integer(keys.intermediate_size);
  config.max_position_embeddings = reader.integer_or("max_position_embeddings", 512);
  config.type_vocab_size = family.has_token_types ? reader.integer_or(keys.type_vocab_size, 2) : 0;
  config.layer_norm_eps =
      keys.layer_norm_eps.empty() ? 1e-12 : reader.number_or(keys.layer_norm_eps, 1e-12);
  config.initializer_range = reader.number_or("initializer_range", 0.02);
  config.hidden_dropout_prob = reader.number_or(keys.hidden_dropout, 0.1);
  config.attention_dropout_prob = reader.number_or(keys.attention_dropout, 0.1);
  config.classifier_dropout = reader.optional_number(keys.classifier_dropout);
  if (!config.classifier_dropout && family.default_classifier_dropout >= 0 &&
      !reader.has(keys.classifier_dropout)) {
    config.classifier_dropout = family.default_classifier_dropout;
  }
  if (!keys.qa_dropout.empty()) {
    config.qa_dropout = reader.number_or(keys.qa_dropout, family.default_qa_dropout);
  }
  config.pad_token_id = reader.integer_or("pad_token_id", 0);

  const std::string activation = reader.string_or(keys.activation, "gelu");
  if (activation != "gelu") {
    fail("{}: field '{}' is '{}', but only 'gelu' (exact erf form) is supported", origin,
         keys.activation, activation);
  }
  if (family.model_type == "bert") {
    const std::string position = reader.string_or("position_embedding_type", "absolute");
    if (position != "absolute") {
      fail("{}: field 'position_embedding_type' is '{}', but only 'absolute' is supported", origin,
           position);
    }
  }

  // Head: QA from the architecture; otherwise the label count (HF's default is 2 labels)
  // and problem_type decide between classification and regression.
  if (json.contains("id2label") && json.at("id2label").is_object()) {
    config.num_labels = static_cast<int64_t>(json.at("id2label").size());
  } else {
    config.num_labels = reader.integer_or("num_labels", 2);
  }
  reader.mark("id2label");
  reader.mark("label2id");
  reader.mark("num_labels");
  const std::string problem_type = reader.string_or("problem_type", "");
  reader.mark("architectures");
  if (architecture_is_qa(json)) {
    config.head_kind = HeadKind::question_answering;
    config.num_labels = 2;
  } else if (problem_type == "regression" || config.num_labels == 1) {
    config.head_kind = HeadKind::regression;
    config.num_labels = 1;
  } else {
    config.head_kind = HeadKind::classification;
  }

  // Before the per-layer counts are allocated: a layer count from a corrupt file must fail here,
  // not in an allocation of terabytes.
  if (config.num_layers > kMaxLayers) {
    fail("{}: field '{}' is {}, more than the {} layers kprune supports", origin, keys.num_layers,
         config.num_layers, kMaxLayers);
  }
  config.reset_unit_counts();
  if (json.contains(kHeadsKey)) {
    config.heads_per_layer = reader.integer_list(kHeadsKey, config.num_layers);
  }
  if (json.contains(kNeuronsKey)) {
    config.neurons_per_layer = reader.integer_list(kNeuronsKey, config.num_layers);
  }
  config.extra = reader.unused();
  config.validate(origin);
  return config;
}

EncoderConfig EncoderConfig::from_json_file(const std::string& path) {
  return from_json(read_json_file(path), path);
}

void EncoderConfig::validate(const std::string& origin) const {
  auto positive = [&](const char* name, int64_t value) {
    if (value <= 0) fail("{}: {} must be positive, found {}", origin, name, value);
  };
  positive("vocab_size", vocab_size);
  positive("hidden_size", hidden_size);
  positive("num_layers", num_layers);
  positive("num_heads", num_heads);
  positive("intermediate_size", intermediate_size);
  positive("max_position_embeddings", max_position_embeddings);
  positive("num_labels", num_labels);
  if (hidden_size % num_heads != 0) {
    fail("{}: hidden size {} is not a multiple of the head count {}", origin, hidden_size,
         num_heads);
  }
  if (head_dim != hidden_size / num_heads) {
    fail("{}: head_dim {} != hidden size / heads = {}", origin, head_dim, hidden_size / num_heads);
  }
  if (static_cast<int64_t>(heads_per_layer.size()) != num_layers ||
      static_cast<int64_t>(neurons_per_layer.size()) != num_layers) {
    fail("{}: per-layer counts must have {} entries (one per layer)", origin, num_layers);
  }
  for (int64_t i = 0; i < num_layers; ++i) {
    if (heads_per_layer[i] < 0 || heads_per_layer[i] > num_heads) {
      fail("{}: {}[{}] = {} is outside [0, {}]", origin, kHeadsKey, i, heads_per_layer[i],
           num_heads);
    }
    if (neurons_per_layer[i] < 0 || neurons_per_layer[i] > intermediate_size) {
      fail("{}: {}[{}] = {} is outside [0, {}]", origin, kNeuronsKey, i, neurons_per_layer[i],
           intermediate_size);
    }
  }
}

void EncoderConfig::reset_unit_counts() {
  head_dim = num_heads > 0 ? hidden_size / num_heads : 0;
  heads_per_layer.assign(num_layers, num_heads);
  neurons_per_layer.assign(num_layers, intermediate_size);
}

bool EncoderConfig::is_pruned() const {
  for (int64_t i = 0; i < num_layers; ++i) {
    if (heads_per_layer[i] != num_heads || neurons_per_layer[i] != intermediate_size) {
      return true;
    }
  }
  return false;
}

double EncoderConfig::head_dropout() const {
  if (head_kind == HeadKind::question_answering) return qa_dropout.value_or(0.0);
  return classifier_dropout.value_or(hidden_dropout_prob);
}

nlohmann::json EncoderConfig::to_json(bool plain_hf) const {
  const ModelFamily& family = model_family(model_type);
  const FamilyConfigKeys& keys = family.keys;
  nlohmann::json json = extra;
  json["model_type"] = model_type;
  json["vocab_size"] = vocab_size;
  json[keys.hidden_size] = hidden_size;
  json[keys.num_layers] = num_layers;
  json[keys.num_heads] = num_heads;
  json[keys.intermediate_size] = intermediate_size;
  json[keys.activation] = "gelu";
  json["max_position_embeddings"] = max_position_embeddings;
  if (!keys.type_vocab_size.empty()) json[keys.type_vocab_size] = type_vocab_size;
  if (!keys.layer_norm_eps.empty()) json[keys.layer_norm_eps] = layer_norm_eps;
  json["initializer_range"] = initializer_range;
  json[keys.hidden_dropout] = hidden_dropout_prob;
  json[keys.attention_dropout] = attention_dropout_prob;
  json[keys.classifier_dropout] =
      classifier_dropout ? nlohmann::json(*classifier_dropout) : nlohmann::json(nullptr);
  if (!keys.qa_dropout.empty() && qa_dropout) json[keys.qa_dropout] = *qa_dropout;
  json["pad_token_id"] = pad_token_id;

  const bool qa = head_kind == HeadKind::question_answering;
  json["architectures"] = {family.architecture_prefix +
                           (qa ? "ForQuestionAnswering" : "ForSequenceClassification")};
  if (qa) {
    json.erase("id2label");
    json.erase("label2id");
    json.erase("problem_type");
  } else {
    json["problem_type"] =
        head_kind == HeadKind::regression ? "regression" : "single_label_classification";
    // Keep the source's label names when they still fit, else HF's defaults.
    const bool labels_fit = json.contains("id2label") && json["id2label"].is_object() &&
                            static_cast<int64_t>(json["id2label"].size()) == num_labels;
    if (!labels_fit) {
      json["id2label"] = nlohmann::json::object();
      json["label2id"] = nlohmann::json::object();
      for (int64_t i = 0; i < num_labels; ++i) {
        const std::string name = fmt::format("LABEL_{}", i);
        json["id2label"][std::to_string(i)] = name;
        json["label2id"][name] = i;
      }
    }
  }
  if (!plain_hf && is_pruned()) {
    json[kHeadsKey] = heads_per_layer;
    json[kNeuronsKey] = neurons_per_layer;
  }
  return json;
}

}  // namespace kprune
