#pragma once
// One sublayer of a post-LayerNorm encoder (algorithms.md 1.1): multi-head attention or FFN.
// A model with L layers is 2L sublayers; s = 2i is the MHA of layer i, s = 2i+1 its FFN.
// Every pruner works on this view: units (heads or neurons), unit masks multiplied into the
// features, probes, forward from cached inputs, and shrinking to a subset of units.
#include <torch/torch.h>

#include <memory>
#include <string>
#include <vector>

namespace kprune {

enum class SublayerKind { attention, feed_forward };

std::string to_string(SublayerKind kind);

// What a probed forward returns (all for the current model, with its dropout if training).
struct SublayerProbe {
  torch::Tensor input;  // [B, T, d]
  // [B, T, units * width]: the input of the output projection AFTER the unit mask was applied
  // (concatenated head contexts, or post-GELU activations); with no mask or an all-ones mask
  // these are the plain features. [B, T, 0] for an LN-only sublayer.
  torch::Tensor features;
  torch::Tensor pre_ln;  // [B, T, d] = input + output projection (with bias), before LayerNorm
};

// What one forward pass of a sublayer may vary besides its input.
struct SublayerForwardOptions {
  // Multiplied into the features, for every example ([units] or [units * width], one value per
  // feature column) or per example ([B, units] / [B, units * width]); may require grad.
  torch::Tensor unit_mask;
  // FFN only: multiplied into the pre-activation W_1 x + b_1 before GELU, [F] or [B, F] (EBERT's
  // neuron gates; DynaBERT's input-side neuron importance).
  torch::Tensor pre_activation_mask;
  // >= 0: only the first `leading_units` units run, as slices of the shared weights (DynaBERT's
  // width); the masks then cover those units.
  int64_t leading_units = -1;
  SublayerProbe* probe = nullptr;
};

struct SublayerOptions {
  SublayerKind kind = SublayerKind::attention;
  int64_t hidden_size = 0;
  int64_t unit_width = 1;  // head_dim for attention, 1 for FFN neurons
  int64_t num_units = 0;   // heads or neurons; 0 = LN-only
  double layer_norm_eps = 1e-12;
  double attention_dropout = 0;  // on attention probabilities (attention only)
  double output_dropout = 0;     // after the output projection, before the residual sum
};

class Sublayer : public torch::nn::Module {
 public:
  explicit Sublayer(const SublayerOptions& options);

  SublayerKind kind() const { return options_.kind; }
  int64_t num_units() const { return options_.num_units; }
  int64_t unit_width() const { return options_.unit_width; }
  int64_t hidden_size() const { return options_.hidden_size; }
  int64_t num_features() const { return num_units() * unit_width(); }
  // LN-only: no unit left, Y = LN(X) (the output bias is dropped, algorithms.md 1.5).
  bool is_empty() const { return num_units() == 0; }

  // x: [B, T, d]; attention_bias: [B, 1, 1, T] additive (0 or very negative); unit_mask:
  // optional float [num_units] or [num_units * unit_width] (per feature column), may require
  // grad, multiplied into the features. Returns [B, T, d].
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& attention_bias,
                        const torch::Tensor& unit_mask = {}, SublayerProbe* probe = nullptr) const;
  // forward() with per-example masks, pre-activation masks or a leading-unit slice.
  torch::Tensor forward_with(const torch::Tensor& x, const torch::Tensor& attention_bias,
                             const SublayerForwardOptions& options) const;

  // The unmasked features of `units` only (int64 unit indices; all units when undefined):
  // [B, T, units.numel() * width], the columns `unit_columns(units)` of the full features.
  // Runs a subset of heads or neurons at its own cost, e.g. the kept units of a mask.
  torch::Tensor features(const torch::Tensor& x, const torch::Tensor& attention_bias,
                         const torch::Tensor& units = {}) const;
  // Feature columns of `units`, in order: [units.numel() * width].
  torch::Tensor unit_columns(const torch::Tensor& units) const;

  // The tail of forward from features already masked or scaled: LN(x + features · W_oᵀ + b),
  // [B, T, d]. `columns` (optional, int64) names the feature columns `features` holds when it
  // carries only some units; without it `features` is [B, T, units * width]. Lets a caller
  // rescale units after a forward without recomputing the features.
  torch::Tensor project(const torch::Tensor& x, const torch::Tensor& features,
                        const torch::Tensor& columns = {}, SublayerProbe* probe = nullptr) const;

  // A deep copy (same options, device, dtype and mode).
  std::shared_ptr<Sublayer> clone() const;

  // Physical pruning (algorithms.md 1.4): keeps `keep_units` (sorted, distinct, in range) in
  // that order; `new_out_weight` [d, kept * width] replaces the kept output-projection columns.
  // Keeping no unit makes the sublayer LN-only (1.5).
  void shrink(const std::vector<int64_t>& keep_units, const torch::Tensor& new_out_weight = {});
  // Reorders the units: unit i becomes the former unit order[i] (a permutation of
  // [0, units)). The function is unchanged (DynaBERT's rewiring, retraining-baselines.md 1.3).
  void permute_units(const std::vector<int64_t>& order);

  // Weights (views of the parameters; writes through them change the model).
  // Output projection W_o / W_2: [d, units * width]; its bias [d] ([0] when LN-only).
  torch::Tensor out_weight() const { return out_weight_; }
  torch::Tensor out_bias() const { return out_bias_; }
  void set_out_weight(const torch::Tensor& weight);  // [d, units * width]
  void set_out_bias(const torch::Tensor& bias);      // [d]
  // Input projection rows of each unit: attention W_q/W_k/W_v [units * width, d] and biases;
  // FFN W_1 [units, d] and b_1. Throw for the wrong kind.
  torch::Tensor query_weight() const;
  torch::Tensor query_bias() const;
  torch::Tensor key_weight() const;
  torch::Tensor key_bias() const;
  torch::Tensor value_weight() const;
  torch::Tensor value_bias() const;
  torch::Tensor in_weight() const;
  torch::Tensor in_bias() const;
  torch::Tensor norm_weight() const { return norm_weight_; }
  torch::Tensor norm_bias() const { return norm_bias_; }

 private:
  torch::Tensor qkv(int64_t which, bool bias) const;  // 0 = query, 1 = key, 2 = value
  // Features of `count` units from their input-projection rows: attention `in_weight`
  // [3, count * width, d], `in_bias` [3, count * width]; FFN [count, d], [count].
  torch::Tensor compute_features(const torch::Tensor& x, const torch::Tensor& attention_bias,
                                 const torch::Tensor& in_weight, const torch::Tensor& in_bias,
                                 int64_t count, const torch::Tensor& pre_activation_mask) const;
  torch::Tensor project_with(const torch::Tensor& x, const torch::Tensor& features,
                             const torch::Tensor& weight, SublayerProbe* probe) const;
  // A mask of `units` units (or their feature columns), shared or per example, as a factor of
  // features [B, T, units * width]: [units * width] or [B, 1, units * width].
  torch::Tensor feature_factor(const torch::Tensor& mask, int64_t units, int64_t width,
                               int64_t batch, const std::string& what) const;

  SublayerOptions options_;
  // Attention: in_weight_ [3, H * d_h, d] (query, key, value stacked for one fused matmul),
  // in_bias_ [3, H * d_h]. FFN: in_weight_ [F, d], in_bias_ [F].
  torch::Tensor in_weight_, in_bias_;
  torch::Tensor out_weight_, out_bias_;
  torch::Tensor norm_weight_, norm_bias_;
};

}  // namespace kprune
