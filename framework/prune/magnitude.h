#pragma once
// Magnitude baseline (algorithms.md 7.2): neuron j scores ‖W_1[j,:]‖₂·‖W_2[:,j]‖₂, head h
// scores ‖W_v rows(h)‖_F·‖W_o cols(h)‖_F; one global selection (global_selection.h).
#include <torch/torch.h>

#include <utility>

#include "framework/model/encoder.h"
#include "framework/prune/pruner.h"

namespace kprune {

// {[L, H], [L, I]} float64 scores of an unpruned model.
std::pair<torch::Tensor, torch::Tensor> magnitude_scores(const EncoderModel& model);

PrunerInfo magnitude_pruner_info();

}  // namespace kprune
