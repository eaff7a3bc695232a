#pragma once
// Where a model runs, and how many CPU threads it uses.
#include <torch/torch.h>

#include <string>

namespace kprune {

// "auto" (CUDA when this LibTorch build sees a GPU, else CPU), "cpu", "cuda", "cuda:N".
// Asking for CUDA when it is unavailable, or a device index beyond the GPU count, is a
// kprune::Error naming the spec.
torch::Device parse_device(const std::string& spec);

// LibTorch intra-op threads = `threads` (0 = every core this process may run on), and
// OpenBLAS threads = 1: the two pools multiply otherwise.
void configure_threads(int threads);

// Cores this process may run on (its CPU affinity).
int available_cores();

}  // namespace kprune
