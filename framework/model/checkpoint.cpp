#include "framework/model/checkpoint.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include <filesystem>
#include <set>
#include <vector>

#include "framework/model/family.h"
#include "framework/model/safetensors.h"
#include "framework/model/shape.h"
#include "framework/util/error.h"
#include "framework/util/files.h"

namespace kprune {
namespace {

namespace fs = std::filesystem;

struct HfTensor {
  std::string name;      // HF parameter name
  torch::Tensor tensor;  // a view of the model's parameter
};

// The family's name map applied to a model: every HF tensor it has, as views of our
// parameters (so loading copies into them). An LN-only sublayer has only its LayerNorm.
std::vector<HfTensor> hf_tensors(const EncoderModel& model) {
  const EncoderConfig& config = model.config();
  const FamilyWeightNames& names = model_family(config.model_type).names;
  std::vector<HfTensor> result;
  auto add = [&](const std::string& prefix, const torch::Tensor& weight,
                 const torch::Tensor& bias) {
    result.push_back({prefix + ".weight", weight});
    if (bias.defined()) result.push_back({prefix + ".bias", bias});
  };
  result.push_back(
      {names.embeddings + "word_embeddings.weight", model.parameter("word_embeddings")});
  result.push_back(
      {names.embeddings + "position_embeddings.weight", model.parameter("position_embeddings")});
  if (config.type_vocab_size > 0 && model_family(config.model_type).has_token_types) {
    result.push_back({names.embeddings + "token_type_embeddings.weight",
                      model.parameter("token_type_embeddings")});
  }
  add(names.embeddings + names.embedding_norm, model.parameter("embedding_norm_weight"),
      model.parameter("embedding_norm_bias"));

  for (int64_t layer = 0; layer < config.num_layers; ++layer) {
    const std::string prefix = fmt::format("{}{}.", names.layer, layer);
    const Sublayer& attention = model.sublayer(2 * layer);
    if (!attention.is_empty()) {
      add(prefix + names.query, attention.query_weight(), attention.query_bias());
      add(prefix + names.key, attention.key_weight(), attention.key_bias());
      add(prefix + names.value, attention.value_weight(), attention.value_bias());
      add(prefix + names.attention_out, attention.out_weight(), attention.out_bias());
    }
    add(prefix + names.attention_norm, attention.norm_weight(), attention.norm_bias());
    const Sublayer& ffn = model.sublayer(2 * layer + 1);
    if (!ffn.is_empty()) {
      add(prefix + names.ffn_in, ffn.in_weight(), ffn.in_bias());
      add(prefix + names.ffn_out, ffn.out_weight(), ffn.out_bias());
    }
    add(prefix + names.ffn_norm, ffn.norm_weight(), ffn.norm_bias());
  }

  if (config.head_kind == HeadKind::question_answering) {
    add(names.qa_outputs, model.parameter("output_weight"), model.parameter("output_bias"));
  } else {
    add(names.pre_classifier, model.parameter("pre_classifier_weight"),
        model.parameter("pre_classifier_bias"));
    add(names.classifier, model.parameter("output_weight"), model.parameter("output_bias"));
  }
  return result;
}

bool starts_with(const std::string& text, const std::string& prefix) {
  return text.rfind(prefix, 0) == 0;
}

// The tensors decide between a QA and a classification head when config.json is silent
// (HF writes no `architectures` for a model built from a bare config).
// `tensors`: the names, as a map or set.
template <typename Names>
void adapt_head_to_tensors(EncoderConfig& config, const Names& tensors, const std::string& origin) {
  const FamilyWeightNames& names = model_family(config.model_type).names;
  const bool has_qa = tensors.count(names.qa_outputs + ".weight") != 0;
  const bool has_classifier = tensors.count(names.classifier + ".weight") != 0;
  if (has_qa && !has_classifier && config.head_kind != HeadKind::question_answering) {
    config.head_kind = HeadKind::question_answering;
    config.num_labels = 2;
  } else if (has_classifier && !has_qa && config.head_kind == HeadKind::question_answering) {
    fail(
        "{}: config.json declares a question answering model, but the checkpoint has '{}' "
        "and no '{}'",
        origin, names.classifier + ".weight", names.qa_outputs + ".weight");
  }
}

struct LoadedFiles {
  std::string config_path, weights_path;
  EncoderConfig config;
  std::map<std::string, torch::Tensor> tensors;
};

// The files of a checkpoint directory, checked to exist: config.json and model.safetensors.
LoadedFiles checkpoint_files(const std::string& dir) {
  const fs::path root(dir);
  if (!fs::is_directory(root)) fail("checkpoint '{}': not a directory", dir);
  LoadedFiles files;
  files.config_path = (root / "config.json").string();
  files.weights_path = (root / "model.safetensors").string();
  if (!fs::exists(files.config_path)) fail("checkpoint '{}': missing config.json", dir);
  if (!fs::exists(files.weights_path)) {
    if (fs::exists(root / "pytorch_model.bin")) {
      fail(
          "checkpoint '{}': only pytorch_model.bin is present; kprune reads model.safetensors "
          "only (convert it, e.g. save_pretrained(..., safe_serialization=True))",
          dir);
    }
    fail("checkpoint '{}': missing model.safetensors", dir);
  }
  files.config = EncoderConfig::from_json_file(files.config_path);
  return files;
}

LoadedFiles read_checkpoint_files(const std::string& dir) {
  LoadedFiles files = checkpoint_files(dir);
  files.tensors = load_safetensors(files.weights_path);
  return files;
}

// Copies the checkpoint's tensors into `model` by HF name. Names in `fresh` keep the model's
// values (a file tensor of that name is dropped); names in `optional` may be absent.
void copy_tensors(EncoderModel& model, const LoadedFiles& files,
                  const std::set<std::string>& fresh = {},
                  const std::set<std::string>& optional = {}) {
  const EncoderConfig& config = model.config();
  std::vector<std::string> problems;
  std::set<std::string> used = fresh;
  {
    torch::NoGradGuard no_grad;
    for (HfTensor& expected : hf_tensors(model)) {
      if (fresh.count(expected.name) != 0) continue;
      auto found = files.tensors.find(expected.name);
      if (found == files.tensors.end()) {
        if (optional.count(expected.name) != 0) continue;
        problems.push_back(fmt::format("missing tensor '{}' (expected shape {})", expected.name,
                                       shape_string(expected.tensor.sizes())));
        continue;
      }
      used.insert(expected.name);
      if (!found->second.sizes().equals(expected.tensor.sizes())) {
        problems.push_back(fmt::format("tensor '{}' has shape {}, expected {}", expected.name,
                                       shape_string(found->second.sizes()),
                                       shape_string(expected.tensor.sizes())));
        continue;
      }
      if (!found->second.is_floating_point()) {
        problems.push_back(fmt::format("tensor '{}' has dtype {}, expected a float type",
                                       expected.name, c10::toString(found->second.scalar_type())));
        continue;
      }
      expected.tensor.copy_(found->second);
    }
  }
  const auto& ignored = model_family(config.model_type).names.ignored_prefixes;
  for (const auto& [name, tensor] : files.tensors) {
    if (used.count(name) != 0) continue;
    bool harmless = false;
    for (const auto& prefix : ignored) harmless = harmless || starts_with(name, prefix);
    if (harmless) {
      spdlog::debug("{}: ignoring tensor '{}' (not used by kprune)", files.weights_path, name);
    } else {
      problems.push_back(
          fmt::format("unexpected tensor '{}' with shape {}", name, shape_string(tensor.sizes())));
    }
  }
  if (!problems.empty()) {
    fail("{}: does not match {} (a {} model with {} layers): {}", files.weights_path,
         files.config_path, config.model_type, config.num_layers, fmt::join(problems, "; "));
  }
}

}  // namespace

std::shared_ptr<EncoderModel> load_checkpoint(const std::string& dir, torch::Device device) {
  LoadedFiles files = read_checkpoint_files(dir);
  adapt_head_to_tensors(files.config, files.tensors, files.weights_path);
  auto model = std::make_shared<EncoderModel>(files.config);
  copy_tensors(*model, files);
  model->eval();
  model->to(device);
  return model;
}

EncoderConfig read_checkpoint_config(const std::string& dir) {
  LoadedFiles files = checkpoint_files(dir);
  const std::vector<std::string> listed = read_safetensors_names(files.weights_path);
  adapt_head_to_tensors(files.config, std::set<std::string>(listed.begin(), listed.end()),
                        files.weights_path);
  return files.config;
}

bool is_pretrained_encoder_checkpoint(const std::string& dir) {
  const std::string path = (fs::path(dir) / "config.json").string();
  if (!fs::exists(path)) fail("checkpoint '{}': missing config.json", dir);
  const nlohmann::json json = read_json_file(path);
  if (!json.contains("architectures") || !json.at("architectures").is_array()) return false;
  for (const auto& name : json.at("architectures")) {
    const std::string text = name.is_string() ? name.get<std::string>() : "";
    for (const char* suffix : {"ForMaskedLM", "ForPreTraining", "Model"}) {
      const std::string tail(suffix);
      if (text.size() >= tail.size() &&
          text.compare(text.size() - tail.size(), tail.size(), tail) == 0) {
        return true;
      }
    }
  }
  return false;
}

std::shared_ptr<EncoderModel> load_encoder_checkpoint(const std::string& dir, HeadKind kind,
                                                      int64_t num_labels, uint64_t seed,
                                                      torch::Device device) {
  LoadedFiles files = read_checkpoint_files(dir);
  files.config.head_kind = kind;
  files.config.num_labels = num_labels;
  auto model = EncoderModel::random(files.config, seed);
  const FamilyWeightNames& names = model_family(files.config.model_type).names;
  std::set<std::string> fresh, optional;
  for (const std::string& prefix : {names.classifier, names.qa_outputs}) {
    fresh.insert(prefix + ".weight");
    fresh.insert(prefix + ".bias");
  }
  // HF keeps a pretrained pooler (BertForPreTraining has one) and initialises it otherwise.
  optional.insert(names.pre_classifier + ".weight");
  optional.insert(names.pre_classifier + ".bias");
  copy_tensors(*model, files, fresh, optional);
  model->eval();
  model->to(device);
  return model;
}

std::map<std::string, torch::Tensor> hf_state_dict(const EncoderModel& model) {
  std::map<std::string, torch::Tensor> state;
  for (const HfTensor& entry : hf_tensors(model)) {
    state[entry.name] =
        entry.tensor.detach().to(torch::kCPU, torch::kFloat32, false, /*copy=*/true).contiguous();
  }
  return state;
}

void save_checkpoint(const EncoderModel& model, const std::string& dir) {
  fs::create_directories(dir);
  // HF's loader refuses safetensors without format metadata.
  save_safetensors((fs::path(dir) / "model.safetensors").string(), hf_state_dict(model),
                   {{"format", "pt"}});
  write_file_atomic((fs::path(dir) / "config.json").string(),
                    model.config().to_json().dump(2) + "\n");
}

void save_masked_export(const EncoderModel& pruned, const std::string& dir) {
  EncoderConfig full_config = pruned.config();
  full_config.reset_unit_counts();
  EncoderModel full(full_config);
  {
    torch::NoGradGuard no_grad;
    auto source = pruned.named_parameters(/*recurse=*/false);
    for (auto& item : full.named_parameters(/*recurse=*/false)) {
      item.value().copy_(source[item.key()]);
    }
    // Kept units go first, removed ones are zero rows/columns: unit order does not change the
    // function, so the pruned model's original unit positions are not needed.
    for (int64_t s = 0; s < pruned.num_sublayers(); ++s) {
      const Sublayer& from = pruned.sublayer(s);
      Sublayer& to = full.sublayer(s);
      const int64_t kept = from.num_features();
      if (from.kind() == SublayerKind::attention) {
        to.query_weight().slice(0, 0, kept).copy_(from.query_weight());
        to.query_bias().slice(0, 0, kept).copy_(from.query_bias());
        to.key_weight().slice(0, 0, kept).copy_(from.key_weight());
        to.key_bias().slice(0, 0, kept).copy_(from.key_bias());
        to.value_weight().slice(0, 0, kept).copy_(from.value_weight());
        to.value_bias().slice(0, 0, kept).copy_(from.value_bias());
      } else {
        to.in_weight().slice(0, 0, kept).copy_(from.in_weight());
        to.in_bias().slice(0, 0, kept).copy_(from.in_bias());
      }
      to.out_weight().slice(1, 0, kept).copy_(from.out_weight());
      // An LN-only sublayer has no bias: zero gives LN(X + 0) = LN(X) exactly.
      to.out_bias().copy_(from.is_empty() ? torch::zeros_like(to.out_bias()) : from.out_bias());
      to.norm_weight().copy_(from.norm_weight());
      to.norm_bias().copy_(from.norm_bias());
    }
  }
  fs::create_directories(dir);
  save_safetensors((fs::path(dir) / "model.safetensors").string(), hf_state_dict(full),
                   {{"format", "pt"}});
  write_file_atomic((fs::path(dir) / "config.json").string(),
                    full_config.to_json(/*plain_hf=*/true).dump(2) + "\n");
}

int copy_tokenizer_files(const std::string& src_dir, const std::string& dst_dir) {
  int copied = 0;
  fs::create_directories(dst_dir);
  for (const char* name :
       {"vocab.txt", "tokenizer_config.json", "special_tokens_map.json", "tokenizer.json"}) {
    const fs::path source = fs::path(src_dir) / name;
    if (!fs::exists(source)) continue;
    const fs::path target = fs::path(dst_dir) / name;
    if (fs::exists(target) && fs::equivalent(source, target)) continue;
    fs::copy_file(source, target, fs::copy_options::overwrite_existing);
    ++copied;
  }
  return copied;
}

}  // namespace kprune
