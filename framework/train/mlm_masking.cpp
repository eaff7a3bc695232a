#include "framework/train/mlm_masking.h"

#include <ATen/CPUGeneratorImpl.h>

#include "framework/util/error.h"

namespace kprune {

MaskedTokens mask_tokens(const torch::Tensor& ids, const MlmMasking& masking, uint64_t seed) {
  if (!(masking.select > 0 && masking.select <= 1) || masking.mask < 0 || masking.random < 0 ||
      masking.mask + masking.random > 1) {
    fail("MLM masking: select must be in (0, 1] and mask + random <= 1 (got {}, {}, {})",
         masking.select, masking.mask, masking.random);
  }
  if (masking.vocab_size <= 0) fail("MLM masking: vocab_size must be positive");
  auto generator = at::detail::createCPUGenerator(seed);
  const torch::Tensor cpu_ids = ids.to(torch::kCPU);
  torch::Tensor special = torch::zeros_like(cpu_ids, torch::kBool);
  for (int64_t id : masking.special_ids) special |= cpu_ids == id;
  auto draw = [&](double p) {
    return torch::bernoulli(torch::full(cpu_ids.sizes(), p, torch::kFloat64), generator)
        .to(torch::kBool);
  };
  const torch::Tensor selected = draw(masking.select) & ~special;
  const torch::Tensor masked = draw(masking.mask) & selected;
  // Of the tokens not masked, the share `random / (1 - mask)` is replaced by a random id.
  const double random_share = masking.mask < 1 ? masking.random / (1.0 - masking.mask) : 0.0;
  const torch::Tensor randomised = draw(random_share) & selected & ~masked;
  const torch::Tensor random_ids =
      torch::randint(0, masking.vocab_size, cpu_ids.sizes(), generator, torch::kInt64);

  MaskedTokens result;
  result.labels = torch::where(selected, cpu_ids, torch::full_like(cpu_ids, -100));
  result.input_ids = torch::where(masked, torch::full_like(cpu_ids, masking.mask_id), cpu_ids);
  result.input_ids = torch::where(randomised, random_ids, result.input_ids);
  return result;
}

}  // namespace kprune
