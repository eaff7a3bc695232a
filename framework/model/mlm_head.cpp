#include "framework/model/mlm_head.h"

#include <ATen/CPUGeneratorImpl.h>

#include <filesystem>

#include "framework/model/checkpoint.h"
#include "framework/model/family.h"
#include "framework/model/safetensors.h"
#include "framework/model/shape.h"
#include "framework/util/error.h"
#include "framework/util/files.h"

namespace kprune {

MlmHead::MlmHead(const EncoderConfig& config, uint64_t seed)
    : model_type_(config.model_type),
      hidden_size_(config.hidden_size),
      layer_norm_eps_(config.layer_norm_eps) {
  const int64_t d = config.hidden_size;
  auto generator = at::detail::createCPUGenerator(seed);
  transform_weight_ = register_parameter(
      "transform_weight", torch::empty({d, d}).normal_(0.0, config.initializer_range, generator));
  transform_bias_ = register_parameter("transform_bias", torch::zeros({d}));
  norm_weight_ = register_parameter("norm_weight", torch::ones({d}));
  norm_bias_ = register_parameter("norm_bias", torch::zeros({d}));
  output_bias_ = register_parameter("output_bias", torch::zeros({config.vocab_size}));
}

torch::Tensor MlmHead::forward(const torch::Tensor& hidden,
                               const torch::Tensor& word_embeddings) const {
  // Under bf16 autocast the product comes back bf16; LibTorch's CPU layer_norm needs its input
  // in the dtype of its fp32 weights.
  torch::Tensor x =
      torch::gelu(torch::linear(hidden, transform_weight_, transform_bias_).to(torch::kFloat));
  x = torch::layer_norm(x, {hidden_size_}, norm_weight_, norm_bias_, layer_norm_eps_);
  return torch::linear(x, word_embeddings, output_bias_);  // [N, V]
}

std::vector<std::pair<std::string, torch::Tensor>> MlmHead::hf_named_tensors() const {
  const FamilyMlmNames& names = model_family(model_type_).mlm;
  return {{names.transform + ".weight", transform_weight_},
          {names.transform + ".bias", transform_bias_},
          {names.norm + ".weight", norm_weight_},
          {names.norm + ".bias", norm_bias_},
          {names.bias, output_bias_}};
}

std::map<std::string, torch::Tensor> MlmHead::hf_state_dict() const {
  std::map<std::string, torch::Tensor> tensors;
  for (const auto& [name, tensor] : hf_named_tensors()) {
    tensors.emplace(
        name, tensor.detach().to(torch::kCPU, torch::kFloat32, false, /*copy=*/true).contiguous());
  }
  return tensors;
}

void MlmHead::load_hf_state_dict(const std::map<std::string, torch::Tensor>& tensors,
                                 const std::string& source) {
  torch::NoGradGuard no_grad;
  for (auto& [name, target] : hf_named_tensors()) {
    auto it = tensors.find(name);
    if (it == tensors.end()) fail("{}: no MLM-head tensor '{}'", source, name);
    if (it->second.sizes() != target.sizes()) {
      fail("{}: tensor '{}' has shape {}, expected {}", source, name,
           shape_string(it->second.sizes()), shape_string(target.sizes()));
    }
    target.copy_(it->second);  // into the parameter's storage
  }
}

void save_mlm_checkpoint(const EncoderModel& encoder, const MlmHead& head, const std::string& dir) {
  const EncoderConfig& config = encoder.config();
  const ModelFamily& family = model_family(config.model_type);
  std::map<std::string, torch::Tensor> tensors;
  for (auto& [name, tensor] : hf_state_dict(encoder)) {
    // The sequence head exists in EncoderModel only; pretraining never trains it.
    const bool task_head = name.rfind(family.names.pre_classifier + ".", 0) == 0 ||
                           name.rfind(family.names.classifier + ".", 0) == 0 ||
                           name.rfind(family.names.qa_outputs + ".", 0) == 0;
    if (!task_head) tensors.emplace(name, tensor);
  }
  for (auto& [name, tensor] : head.hf_state_dict()) tensors.emplace(name, tensor);

  nlohmann::json json = config.to_json(/*plain_hf=*/true);
  json["architectures"] = {family.architecture_prefix + "ForMaskedLM"};
  json["tie_word_embeddings"] = true;
  for (const char* key : {"id2label", "label2id", "problem_type"}) json.erase(key);
  std::filesystem::create_directories(dir);
  save_safetensors((std::filesystem::path(dir) / "model.safetensors").string(), tensors,
                   {{"format", "pt"}});
  write_file_atomic((std::filesystem::path(dir) / "config.json").string(), json.dump(2) + "\n");
}

}  // namespace kprune
