#pragma once
// "[2, 32]": tensor shapes in error messages.
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <torch/torch.h>

#include <string>

namespace kprune {

inline std::string shape_string(torch::IntArrayRef sizes) {
  return fmt::format("[{}]", fmt::join(sizes.begin(), sizes.end(), ", "));
}

}  // namespace kprune
