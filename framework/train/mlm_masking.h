#pragma once
// BERT's masked-language-model corruption: each ordinary token is selected with probability
// `select`; a selected token becomes [MASK] with probability `mask`, a uniformly drawn
// vocabulary id with probability `random`, and stays itself otherwise.
#include <torch/torch.h>

#include <cstdint>
#include <vector>

namespace kprune {

struct MlmMasking {
  double select = 0.15;
  double mask = 0.8;
  double random = 0.1;
  int64_t mask_id = 0;
  int64_t vocab_size = 0;
  std::vector<int64_t> special_ids;  // never selected ([CLS], [SEP], [PAD])
};

struct MaskedTokens {
  torch::Tensor input_ids;  // [B, T] int64, corrupted
  torch::Tensor labels;     // [B, T] int64: the original id where selected, -100 elsewhere
};

// Draws from a CPU generator seeded with `seed` (HF DataCollatorForLanguageModeling's
// Bernoulli scheme), so a batch's corruption depends on the seed only. ids [B, T] int64.
MaskedTokens mask_tokens(const torch::Tensor& ids, const MlmMasking& masking, uint64_t seed);

}  // namespace kprune
