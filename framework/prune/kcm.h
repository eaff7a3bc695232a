#pragma once
// KCM-approx (algorithms.md 6; KCM has no official code, so this is an APPROXIMATION, labelled
// "KCM-approx" in every output): gradient-free FFN-neuron pruning. Per neuron, R2 = diagonal of
// the kernelised convex-hull weights of the W_2 columns (Gaussian kernel, multiplicative
// updates), D2 = L2 norm of its activations over tokens averaged over batches; both min-max
// normalised per layer and multiplied. Neurons are kept by one global ranking under the MAC
// budget with every head kept, then the FFN masks are tuned as in Kwon et al. (FFN only, the
// unpruned model as teacher, CLEAN solve).
#include <torch/torch.h>

#include "framework/model/encoder.h"
#include "framework/prune/pruner.h"

namespace kprune {

// [L, I] float64 R2·D2 scores of an unpruned model on `batches` (labels not needed).
torch::Tensor kcm_scores(const EncoderModel& model, const std::vector<Batch>& batches);

PrunerInfo kcm_pruner_info();

}  // namespace kprune
