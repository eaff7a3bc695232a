#pragma once
// DynaBERT's head and neuron importance and its network rewiring (retraining-baselines.md
// 1.2-1.3). Importance is the gradient magnitude of the supervised loss with respect to unit
// masks: a head mask on the heads' contexts, and per FFN neuron one mask on its pre-activation
// (the input side, = Σ_i W1[j,i] ∂W1[j,i] + b1[j] ∂b1[j]) and one on its activation (the output
// side, = Σ_r W2[r,j] ∂W2[r,j]).
#include <torch/torch.h>

#include <string>
#include <vector>

#include "framework/model/batch.h"
#include "framework/model/encoder.h"

namespace kprune {

enum class ImportanceGradient {
  cumulative,  // REF quirk D1: gradients never zeroed, I = Σ_b |Σ_{b'<=b} g_b'|
  per_batch,   // CLEAN: I = Σ_b |g_b|
};
ImportanceGradient parse_importance_gradient(const std::string& text);
std::string importance_gradient_name(ImportanceGradient gradient);

struct UnitImportance {
  torch::Tensor heads;    // [L, H] float64
  torch::Tensor neurons;  // [L, F] float64: |∂/∂pre-activation| + |∂/∂activation|, summed
};

// Importance of an unpruned model's units over `batches` (labelled), the model in eval mode (its
// training flag is restored). Weight gradients are neither computed nor touched.
UnitImportance unit_importance(EncoderModel& model, const std::vector<Batch>& batches,
                               HeadKind head_kind, ImportanceGradient gradient);

// Per layer, the units by decreasing importance; ties keep the lower index first.
std::vector<std::vector<int64_t>> importance_order(const torch::Tensor& importance);

// Reorders every layer's heads and neurons by decreasing importance (function-preserving), so
// that "the first k" are the k most important. Returns the head and neuron orders applied.
struct Rewiring {
  std::vector<std::vector<int64_t>> heads, neurons;  // [L][units]: new position i <- old unit
};
Rewiring rewire(EncoderModel& model, const UnitImportance& importance);

}  // namespace kprune
