#pragma once
// BERT / DistilBERT encoder with its task head, as embeddings + 2L sublayers + head
// (design.md "the central abstraction"). Works in float32 or float64 and on any device;
// train() applies HF's dropouts, eval() none.
#include <torch/torch.h>

#include <memory>
#include <string>
#include <vector>

#include "framework/model/batch.h"
#include "framework/model/config.h"
#include "framework/model/sublayer.h"
#include "framework/model/subnetwork.h"

namespace kprune {

struct ForwardOptions {
  // One per sublayer (index s); undefined entries, or a null pointer, mean no mask. An entry is
  // shared by the batch ([units] or [units * width]) or per example ([B, units], ...).
  const std::vector<torch::Tensor>* unit_masks = nullptr;
  // One per sublayer, used by FFN sublayers only: multiplied into W_1 x + b_1 before GELU,
  // [F] or [B, F] (SublayerForwardOptions::pre_activation_mask).
  const std::vector<torch::Tensor>* pre_activation_masks = nullptr;
  // Only these layers run, each with its leading heads and neurons (slices of the shared
  // weights); a skipped layer is the identity. Masks then cover the running units.
  const Subnetwork* subnetwork = nullptr;
  bool output_hidden_states = false;
  // Resized to num_sublayers() if smaller; entry s is filled for every sublayer that runs.
  std::vector<SublayerProbe>* probes = nullptr;
};

struct ModelOutput {
  torch::Tensor logits;                    // [B, num_labels]; regression [B, 1]
  torch::Tensor start_logits, end_logits;  // [B, T] (question answering)
  // Embedding output, then the output of every LAYER (after its FFN), as HF: [B, T, d] each;
  // with a sub-network, of every kept layer.
  std::vector<torch::Tensor> hidden_states;
};

class EncoderModel : public torch::nn::Module {
 public:
  // Parameters are allocated with the config's per-layer unit counts (a count of 0 makes an
  // LN-only sublayer) and initialised like an untrained layer (zeros, LayerNorm weight 1).
  explicit EncoderModel(const EncoderConfig& config);
  // HF initialisation: weights ~ normal(0, initializer_range), biases 0, LayerNorm 1/0, the
  // padding row of the word embeddings 0. Deterministic for a seed (own CPU generator).
  static std::shared_ptr<EncoderModel> random(const EncoderConfig& config, uint64_t seed);

  ModelOutput forward(const Batch& batch, const ForwardOptions& options = {}) const;

  // Pieces of forward(), so that a pruner can run a suffix from cached inputs:
  torch::Tensor embed(const Batch& batch) const;           // [B, T, d]
  torch::Tensor attention_bias(const Batch& batch) const;  // [B, 1, 1, T], 0 or dtype's lowest
  // Runs sublayers [from, to) on x; masks and probes are indexed by absolute sublayer index.
  torch::Tensor run_sublayers(int64_t from, int64_t to, torch::Tensor x,
                              const torch::Tensor& attention_bias,
                              const ForwardOptions& options = {}) const;
  ModelOutput head(const torch::Tensor& last_hidden) const;  // last_hidden [B, T, d]

  Sublayer& sublayer(int64_t s);
  const Sublayer& sublayer(int64_t s) const;
  int64_t num_sublayers() const { return static_cast<int64_t>(sublayers_.size()); }
  // Per-layer unit counts reflect the current (possibly shrunk) sublayers.
  const EncoderConfig& config() const;
  int64_t num_parameters() const;
  torch::Device device() const { return word_embeddings_.device(); }
  torch::ScalarType dtype() const { return word_embeddings_.scalar_type(); }
  // A deep copy on the same device and dtype, in the same train/eval mode.
  std::shared_ptr<EncoderModel> clone() const;
  // The sub-network as an ordinary smaller model (its kept layers renumbered, the leading units
  // of each): its forward equals forward() with ForwardOptions::subnetwork. Same device, dtype
  // and mode.
  std::shared_ptr<EncoderModel> extract(const Subnetwork& subnetwork) const;

  // Non-sublayer parameters (names as in named_parameters()):
  //   word_embeddings [V, d], position_embeddings [P, d], token_type_embeddings [types, d]
  //   (undefined without token types), embedding_norm_weight/bias [d],
  //   pre_classifier_weight/bias ([d, d] / [d]: BERT pooler or DistilBERT pre_classifier;
  //   undefined for QA), output_weight/bias ([num_labels, d]: classifier, or qa_outputs [2, d]).
  torch::Tensor parameter(const std::string& name) const;

 private:
  torch::Tensor run(int64_t from, int64_t to, torch::Tensor x, const torch::Tensor& bias,
                    const ForwardOptions& options, std::vector<torch::Tensor>* hidden) const;

  mutable EncoderConfig config_;
  bool pre_classifier_tanh_ = true;
  bool has_token_types_ = true;
  torch::Tensor word_embeddings_, position_embeddings_, token_type_embeddings_;
  torch::Tensor embedding_norm_weight_, embedding_norm_bias_;
  torch::Tensor pre_classifier_weight_, pre_classifier_bias_;
  torch::Tensor output_weight_, output_bias_;
  std::vector<std::shared_ptr<Sublayer>> sublayers_;
};

}  // namespace kprune
