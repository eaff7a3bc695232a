#pragma once
// Where a model runs, and how many CPU threads it uses.
#include <torch/torch.h>

#include <string>

#include "framework/model/precision.h"

namespace kprune {

// "auto" (CUDA when this LibTorch build sees a GPU, else CPU), "cpu", "cuda", "cuda:N".
// Asking for CUDA when it is unavailable, or a device index beyond the GPU count, is a
// kprune::Error naming the spec.
torch::Device parse_device(const std::string& spec);

struct ThreadPlan {
  int intra_op = 1;  // LibTorch intra-op threads
  int blas = 0;      // OpenBLAS threads; 0 when LibTorch's BLAS is not OpenBLAS
};

// Uses `threads` cores (0 = every core this process may run on) without the LibTorch and
// OpenBLAS pools multiplying: with OpenBLAS, BLAS threads = cores and one intra-op thread;
// otherwise (MKL, CUDA builds), and for bf16 training, whose matrix products run in oneDNN on
// the intra-op pool, intra-op threads = cores (and one OpenBLAS thread).
ThreadPlan configure_threads(int threads, Precision precision = Precision::fp32);

// Cores this process may run on (its CPU affinity).
int available_cores();

}  // namespace kprune
