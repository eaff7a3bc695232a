#pragma once
// The arithmetic precision of training: fp32, or bf16 mixed precision (autocast: the matrix
// products run in bfloat16, the weights, their gradients and the optimizer stay fp32).
#include <torch/torch.h>

#include <string>

namespace kprune {

enum class Precision { fp32, bf16 };

// "fp32" or "bf16"; anything else is a kprune::Error naming the spec.
Precision parse_precision(const std::string& spec);
std::string precision_name(Precision precision);

// While alive, the forward passes run under `precision` on `device` (autocast for bf16,
// nothing for fp32); the previous autocast state comes back when it ends.
class PrecisionScope {
 public:
  PrecisionScope(Precision precision, torch::Device device);
  ~PrecisionScope();
  PrecisionScope(const PrecisionScope&) = delete;
  PrecisionScope& operator=(const PrecisionScope&) = delete;

 private:
  bool active_ = false;
  bool cuda_ = false;
  bool was_enabled_ = false;
  at::ScalarType previous_dtype_ = at::kBFloat16;
};

}  // namespace kprune
