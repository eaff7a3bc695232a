#pragma once
// AdamW as BERT trains with it: weight decay on weight matrices only, not on biases and
// LayerNorm parameters (HF convention), and a learning rate set by the caller every step.
#include <torch/torch.h>

#include <memory>

namespace kprune {

struct AdamWSettings {
  double learning_rate = 1e-4;
  double weight_decay = 0.01;
  double epsilon = 1e-8;
};

// Parameters named "*bias*" or "*norm*" go to the group without decay; parameters that do not
// require gradients are left out. The group order is fixed, so a saved state loads back.
std::unique_ptr<torch::optim::AdamW> make_adamw(
    const torch::OrderedDict<std::string, torch::Tensor>& named_parameters,
    const AdamWSettings& settings);

void set_learning_rate(torch::optim::AdamW& optimizer, double lr);

}  // namespace kprune
