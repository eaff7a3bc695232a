#pragma once
// LSMR (Fong & Saunders 2011) for a small dense system, as the Kwon et al. code runs it:
// CuPy v10.3.1's lsmr, whose iterate and Golub-Kahan vectors are float32. Used by Kwon's mask
// tuning on its normal-equation matrix (algorithms.md 5.4).
#include <torch/torch.h>

#include <cstdint>

namespace kprune {

struct LsmrOptions {
  double damp = 0;
  double atol = 1e-6;
  double btol = 1e-6;
  double conlim = 1e8;
  int64_t max_iterations = 0;  // 0 = 5 · min(m, n), CuPy's default (SciPy's is min(m, n))
};

struct LsmrResult {
  torch::Tensor x;  // [n], float32
  // 0: x = 0 is exact; 1, 2: converged (residual / least squares); 3: condition limit;
  // 4-6: the tolerances reached machine precision; 7: iteration limit.
  int istop = 0;
  int64_t iterations = 0;
  double normr = 0, normar = 0, norm_a = 0, cond_a = 0, normx = 0;
};

// Minimises ‖A x − b‖² + damp² ‖x‖² for A [m, n], b [m]; both are used in float32.
LsmrResult lsmr(const torch::Tensor& a, const torch::Tensor& b, const LsmrOptions& options = {});

}  // namespace kprune
