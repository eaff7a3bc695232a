#pragma once
// One-shot global pruning of the simple baselines (algorithms.md 7): per-unit scores are
// divided by the unit's FLOPs, KPMS CLEAN (selection.h) keeps the best units under
// (1 − ρ)·F(original), and every sublayer is shrunk at once without any weight update. A
// sublayer left without units becomes LN-only (physical removal, algorithms.md 1.5).
#include <torch/torch.h>

#include "framework/model/encoder.h"
#include "framework/prune/pruner.h"

namespace kprune {

// head_scores [L, H], neuron_scores [L, I] (higher = more important). Prunes `model` in place.
PruneReport prune_by_global_selection(EncoderModel& model, const PruneInput& input,
                                      const torch::Tensor& head_scores,
                                      const torch::Tensor& neuron_scores);

}  // namespace kprune
