#pragma once
// Physical pruning from final unit masks (algorithms.md 1.4, 5): every sublayer shrinks to the
// units whose mask value is nonzero, and real-valued mask values (Kwon's tuned scales) are
// folded into the output-projection columns (W_o per head, W_2 per neuron), which is exact.
#include <torch/torch.h>

#include "framework/model/encoder.h"

namespace kprune {

// What happens to the output bias b of a sublayer whose units are all masked.
enum class EmptySublayer {
  // Mask semantics (Kwon et al.): the sublayer computes LN(X + b). Sublayer::shrink to zero
  // units drops b (LN(X), K-prune's physical removal), so b is first added to the bias of the
  // LayerNorm that produces X (the previous sublayer's, or the embedding LayerNorm): X is used
  // only by this sublayer, so LN(X' ) with X' = X + b is exact.
  keep_bias,
  // Physical removal semantics (algorithms.md 1.5): LN(X).
  drop_bias,
};

// head_masks [L, H], neuron_masks [L, I] (any float dtype); the model must be unpruned.
void apply_unit_masks(EncoderModel& model, const torch::Tensor& head_masks,
                      const torch::Tensor& neuron_masks, EmptySublayer empty);

}  // namespace kprune
