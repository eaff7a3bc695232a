#include "framework/model/precision.h"

#include <ATen/autocast_mode.h>

#include "framework/util/error.h"

namespace kprune {

Precision parse_precision(const std::string& spec) {
  if (spec == "fp32") return Precision::fp32;
  if (spec == "bf16") return Precision::bf16;
  fail("precision '{}': expected fp32 or bf16", spec);
}

std::string precision_name(Precision precision) {
  return precision == Precision::bf16 ? "bf16" : "fp32";
}

PrecisionScope::PrecisionScope(Precision precision, torch::Device device)
    : active_(precision == Precision::bf16), cuda_(device.is_cuda()) {
  if (!active_) return;
  if (cuda_) {
    was_enabled_ = at::autocast::is_enabled();
    previous_dtype_ = at::autocast::get_autocast_gpu_dtype();
    at::autocast::set_autocast_gpu_dtype(at::kBFloat16);
    at::autocast::set_enabled(true);
  } else {
    was_enabled_ = at::autocast::is_cpu_enabled();
    previous_dtype_ = at::autocast::get_autocast_cpu_dtype();
    at::autocast::set_autocast_cpu_dtype(at::kBFloat16);
    at::autocast::set_cpu_enabled(true);
  }
  at::autocast::increment_nesting();
}

PrecisionScope::~PrecisionScope() {
  if (!active_) return;
  // The bf16 copies of the weights are cached for one forward pass only: the optimizer
  // changes the fp32 weights before the next.
  if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
  if (cuda_) {
    at::autocast::set_enabled(was_enabled_);
    at::autocast::set_autocast_gpu_dtype(previous_dtype_);
  } else {
    at::autocast::set_cpu_enabled(was_enabled_);
    at::autocast::set_autocast_cpu_dtype(previous_dtype_);
  }
}

}  // namespace kprune
