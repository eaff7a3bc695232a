#pragma once
// The masked-language-model head of BERT / DistilBERT (HF XForMaskedLM): dense + GELU +
// LayerNorm, then a decoder tied to the word embeddings plus an output bias.
#include <torch/torch.h>

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "framework/model/config.h"
#include "framework/model/encoder.h"

namespace kprune {

class MlmHead : public torch::nn::Module {
 public:
  // HF initialisation: dense ~ normal(0, initializer_range), biases 0, LayerNorm 1/0.
  // Deterministic for a seed (own CPU generator).
  MlmHead(const EncoderConfig& config, uint64_t seed);

  // hidden [N, d] (the encoder output at the positions to predict), word_embeddings [V, d]
  // -> logits [N, V].
  torch::Tensor forward(const torch::Tensor& hidden, const torch::Tensor& word_embeddings) const;

  // The head's tensors by HF name (FamilyMlmNames), F32 CPU copies; no decoder weight (tied).
  std::map<std::string, torch::Tensor> hf_state_dict() const;

  // Copies the head's tensors from an HF state dict (as hf_state_dict names them); a missing
  // tensor or a shape mismatch throws, naming the tensor, `source`, expected and found.
  void load_hf_state_dict(const std::map<std::string, torch::Tensor>& tensors,
                          const std::string& source);

 private:
  // The head's tensors (handles sharing their storage) by HF name.
  std::vector<std::pair<std::string, torch::Tensor>> hf_named_tensors() const;

  std::string model_type_;
  int64_t hidden_size_;
  double layer_norm_eps_;
  torch::Tensor transform_weight_, transform_bias_;  // [d, d], [d]
  torch::Tensor norm_weight_, norm_bias_;            // [d]
  torch::Tensor output_bias_;                        // [V]
};

// An HF XForMaskedLM checkpoint in DIR (created): config.json naming that architecture, and
// model.safetensors with the encoder (no pooler or classifier: pretraining has none) and the
// MLM head. `finetune --init-checkpoint DIR` starts from it with a fresh task head.
void save_mlm_checkpoint(const EncoderModel& encoder, const MlmHead& head, const std::string& dir);

}  // namespace kprune
