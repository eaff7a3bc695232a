#pragma once
// One padded batch of encoder inputs (and optional training targets).
#include <torch/torch.h>

namespace kprune {

struct Batch {
  torch::Tensor input_ids;       // [B, T] int64
  torch::Tensor token_type_ids;  // [B, T] int64; zeros for models without token types
  torch::Tensor attention_mask;  // [B, T] int64, 1 = real token, 0 = padding
  // Targets, undefined when absent:
  torch::Tensor labels;           // [B] int64 (classification) or float (regression)
  torch::Tensor start_positions;  // [B] int64 (question answering)
  torch::Tensor end_positions;    // [B] int64

  int64_t size() const { return input_ids.size(0); }
  int64_t seq_len() const { return input_ids.size(1); }

  Batch to(const torch::Device& device) const {
    auto move = [&](const torch::Tensor& t) { return t.defined() ? t.to(device) : t; };
    return {move(input_ids), move(token_type_ids),  move(attention_mask),
            move(labels),    move(start_positions), move(end_positions)};
  }
};

}  // namespace kprune
